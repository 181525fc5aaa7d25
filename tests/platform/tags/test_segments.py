"""Segments: the condition language, reach estimates, saved segments and their customers."""

from __future__ import annotations

import sqlalchemy as sa

from factories import ShopFactory, token_for
from souk_platform.tags.models import Segment


def leaf(field, cmp, value):
    return {"field": field, "cmp": cmp, "value": value}


def estimate(client, pop, condition):
    r = client.post("/api/v1/segments/estimate", headers=pop.headers, json={"condition": condition})
    assert r.status_code == 200, r.get_json()
    return r.get_json()["count"]


def test_each_field_and_comparison_counts_right(client, population):
    pop = population
    cases = [
        (leaf("level", "eq", 3), 1),
        (leaf("level", "gte", 3), 3),
        (leaf("level", "lte", 2), 2),
        (leaf("level", "in", [1, 5]), 2),
        (leaf("tag", "has", pop.vip_tag), 3),
        (leaf("tag", "not_has", pop.vip_tag), 2),
        (leaf("total_spent", "gte", 80_000), 3),
        (leaf("total_spent", "lte", 20_000), 2),
        (leaf("orders_count", "eq", 0), 1),
        (leaf("orders_count", "gte", 1), 4),
        (leaf("last_order_at", "within_days", 30), 2),  # bob 5 days, dan 2 days; ann never ordered
        (leaf("last_order_at", "before", "2026-01-01T00:00:00Z"), 1),  # eve, 100 days before 2026-03-02
        (leaf("last_order_at", "after", "2026-01-01T00:00:00+08:00"), 3),
        (leaf("points", "gte", 500), 2),
        (leaf("points", "lte", 0), 2),  # no points account counts as 0
    ]
    for condition, expected in cases:
        assert estimate(client, pop, {"op": "and", "conditions": [condition]}) == expected, condition


def test_and_or_and_nested_groups(client, population):
    pop = population
    vip = leaf("tag", "has", pop.vip_tag)
    assert estimate(client, pop, {"op": "and", "conditions": [vip, leaf("level", "gte", 3)]}) == 2  # cat, eve
    assert estimate(client, pop, {"op": "or", "conditions": [vip, leaf("level", "gte", 3)]}) == 4  # not ann
    nested = {
        "op": "or",
        "conditions": [
            {"op": "and", "conditions": [vip, leaf("last_order_at", "within_days", 30)]},  # bob
            {
                "op": "and",
                "conditions": [leaf("points", "gte", 1_000), {"op": "or", "conditions": [leaf("level", "eq", 4)]}],
            },  # dan
        ],
    }
    assert estimate(client, pop, nested) == 2


def test_invalid_conditions_are_422_with_the_path(client, population):
    pop = population
    deep = leaf("level", "eq", 1)
    for _ in range(4):
        deep = {"op": "and", "conditions": [deep]}
    assert estimate(client, pop, deep) == 1  # four levels of groups are fine
    deep = {"op": "and", "conditions": [deep]}
    cases = [
        ({"op": "xor", "conditions": [leaf("level", "eq", 1)]}, "condition.op"),
        ({"op": "and", "conditions": []}, "condition.conditions"),
        ({"op": "and"}, "condition.conditions"),
        ({"op": "and", "conditions": [leaf("level", "eq", 1)], "extra": 1}, "condition.extra"),
        ({"op": "and", "conditions": [leaf("height", "eq", 1)]}, "condition.conditions.0.field"),
        ({"op": "and", "conditions": [leaf("level", "has", 1)]}, "condition.conditions.0.cmp"),
        ({"op": "and", "conditions": [leaf("level", "eq", 9)]}, "condition.conditions.0.value"),
        ({"op": "and", "conditions": [leaf("level", "eq", True)]}, "condition.conditions.0.value"),
        ({"op": "and", "conditions": [leaf("level", "in", [])]}, "condition.conditions.0.value"),
        ({"op": "and", "conditions": [leaf("total_spent", "gte", "100")]}, "condition.conditions.0.value"),
        ({"op": "and", "conditions": [leaf("last_order_at", "before", "2026-01-01")]}, "condition.conditions.0.value"),
        ({"op": "and", "conditions": [leaf("last_order_at", "within_days", 0)]}, "condition.conditions.0.value"),
        ({"op": "and", "conditions": [{"field": "level", "cmp": "eq"}]}, "condition.conditions.0.value"),
        ({"op": "and", "conditions": [{**leaf("level", "eq", 1), "x": 1}]}, "condition.conditions.0.x"),
        ({"op": "and", "conditions": ["level = 1"]}, "condition.conditions.0"),
        (
            {"op": "or", "conditions": [leaf("level", "eq", 1), {"op": "and", "conditions": [leaf("tag", "has", 5)]}]},
            "condition.conditions.1.conditions.0.value",
        ),
        (deep, "condition.conditions.0.conditions.0.conditions.0.conditions.0"),
        ({"op": "and", "conditions": [leaf("level", "eq", 1)] * 21}, "condition.conditions"),
        ("level >= 3", "condition"),
    ]
    for condition, path in cases:
        r = client.post("/api/v1/segments/estimate", headers=pop.headers, json={"condition": condition})
        assert r.status_code == 422, (condition, r.get_json())
        assert r.content_type == "application/problem+json"
        assert path in r.get_json()["errors"], (path, r.get_json()["errors"])


def test_unknown_or_foreign_tags_are_422_with_the_path(client, session, clock, population):
    from souk_platform.tags.services import create_tag

    pop = population
    other = ShopFactory()
    foreign = create_tag(session, shop_id=other.id, name="theirs", now=clock.now())
    session.commit()
    for tag_id in ("tag_nope", foreign.id):
        condition = {"op": "and", "conditions": [leaf("level", "gte", 1), leaf("tag", "has", tag_id)]}
        r = client.post("/api/v1/segments", headers=pop.headers, json={"name": "S", "condition": condition})
        assert r.status_code == 422
        assert r.get_json()["errors"] == {"condition.conditions.1.value": [f"No tag {tag_id} in this shop."]}
    assert session.scalar(sa.select(sa.func.count()).select_from(Segment).where(Segment.shop_id == pop.shop_id)) == 0


def test_saved_segment_crud_and_customers(client, session, population):
    pop = population
    condition = {"op": "and", "conditions": [leaf("tag", "has", pop.vip_tag), leaf("level", "gte", 2)]}
    r = client.post("/api/v1/segments", headers=pop.headers, json={"name": "高价值VIP", "condition": condition})
    assert r.status_code == 201, r.get_json()
    seg = r.get_json()
    assert seg["count"] == 3 and seg["condition"] == condition and r.headers["ETag"] == '"1"'
    dup = client.post("/api/v1/segments", headers=pop.headers, json={"name": "高价值VIP", "condition": condition})
    assert dup.status_code == 409 and "name" in dup.get_json()["errors"]
    url = f"/api/v1/segments/{seg['id']}"
    assert client.get(url, headers=pop.headers).get_json()["count"] == 3
    page = client.get(f"{url}/customers?limit=2", headers=pop.headers).get_json()
    rest = client.get(f"{url}/customers?cursor={page['next_cursor']}", headers=pop.headers).get_json()
    names = {c["name"] for c in page["items"] + rest["items"]}
    assert names == {"bob", "cat", "eve"} and rest["next_cursor"] is None
    assert page["items"][0]["tags"][0]["name"] == "VIP"
    r = client.patch(
        url,
        headers={**pop.headers, "If-Match": '"1"'},
        json={"condition": {"op": "and", "conditions": [leaf("level", "eq", 5)]}},
    )
    assert r.status_code == 200 and r.get_json()["count"] == 1 and r.get_json()["version"] == 2
    assert client.patch(url, headers={**pop.headers, "If-Match": '"1"'}, json={"name": "x"}).status_code == 412
    bad = client.patch(
        url, headers=pop.headers, json={"condition": {"op": "and", "conditions": [leaf("level", "eq", 0)]}}
    )
    assert bad.status_code == 422 and "condition.conditions.0.value" in bad.get_json()["errors"]
    assert client.get(url, headers=pop.headers).get_json()["count"] == 1
    assert [s["id"] for s in client.get("/api/v1/segments", headers=pop.headers).get_json()["items"]] == [seg["id"]]
    assert client.delete(url, headers=pop.headers).status_code == 204
    assert client.get(url, headers=pop.headers).status_code == 404


def test_other_shops_segments_are_404_and_estimates_stay_in_the_shop(client, session, population):
    pop = population
    r = client.post(
        "/api/v1/segments",
        headers=pop.headers,
        json={"name": "all", "condition": {"op": "and", "conditions": [leaf("level", "gte", 1)]}},
    )
    seg_id = r.get_json()["id"]
    other = token_for(ShopFactory())
    assert client.get(f"/api/v1/segments/{seg_id}", headers=other).status_code == 404
    assert client.get(f"/api/v1/segments/{seg_id}/customers", headers=other).status_code == 404
    assert client.delete(f"/api/v1/segments/{seg_id}", headers=other).status_code == 404
    assert client.get("/api/v1/segments", headers=other).get_json()["items"] == []
    r = client.post(
        "/api/v1/segments/estimate",
        headers=other,
        json={"condition": {"op": "and", "conditions": [leaf("level", "gte", 1)]}},
    )
    assert r.get_json()["count"] == 0


def test_segment_customers_need_the_customers_scope(client, population):
    pop = population
    r = client.post(
        "/api/v1/segments",
        headers=pop.headers,
        json={"name": "all", "condition": {"op": "and", "conditions": [leaf("level", "gte", 1)]}},
    )
    shop_token = token_for(type("S", (), {"id": pop.shop_id})(), ["read_tags"])
    assert client.get(f"/api/v1/segments/{r.get_json()['id']}", headers=shop_token).status_code == 200
    r = client.get(f"/api/v1/segments/{r.get_json()['id']}/customers", headers=shop_token)
    assert r.status_code == 403 and r.get_json()["required_scope"] == "read_customers"
