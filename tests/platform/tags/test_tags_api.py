"""Tags: manual tagging, rule tags and their evaluation (API and job), deletion, tenancy."""

from __future__ import annotations

import sqlalchemy as sa

from factories import ShopFactory, token_for
from souk_platform.customers.models import Customer
from souk_platform.events.models import OutboxEvent
from souk_platform.tags.models import CustomerTag, Tag


def _tagged(session, tag_id):
    return set(session.scalars(sa.select(CustomerTag.customer_id).where(CustomerTag.tag_id == tag_id)))


def test_manual_tagging_and_untagging(client, session, population):
    pop = population
    r = client.post("/api/v1/tags", headers=pop.headers, json={"name": "回头客", "description": "两次以上"})
    assert r.status_code == 201 and r.get_json()["kind"] == "manual" and r.get_json()["customers_count"] == 0
    tag_id = r.get_json()["id"]
    url = f"/api/v1/tags/{tag_id}/customers"
    ids = [pop.ids["ann"], pop.ids["bob"], pop.ids["ann"]]
    r = client.post(url, headers=pop.headers, json={"customer_ids": ids})
    assert r.status_code == 200 and r.get_json() == {"added": 2, "removed": 0, "customers_count": 2}
    r = client.post(url, headers=pop.headers, json={"customer_ids": [pop.ids["bob"], pop.ids["cat"]]})
    assert r.get_json() == {"added": 1, "removed": 0, "customers_count": 3}
    assert client.delete(f"{url}/{pop.ids['ann']}", headers=pop.headers).status_code == 204
    assert client.delete(f"{url}/{pop.ids['ann']}", headers=pop.headers).status_code == 204  # already gone: fine
    assert _tagged(session, tag_id) == {pop.ids["bob"], pop.ids["cat"]}
    customer = client.get(f"/api/v1/customers/{pop.ids['bob']}", headers=pop.headers).get_json()
    assert {t["name"] for t in customer["tags"]} == {"VIP", "回头客"}
    added = session.scalars(sa.select(OutboxEvent).where(OutboxEvent.type == "tag.customers_added")).all()
    # Two events in one millisecond have no defined order: compare them as a set of batches.
    batches = sorted(e.payload["customer_ids"] for e in added if e.subject_id == tag_id)
    assert batches == sorted([ids[:2], [pop.ids["cat"]]])


def test_unknown_or_foreign_customer_ids_are_422_and_tag_nobody(client, session, population):
    from souk_platform.customers.services import create_customer

    pop = population
    stranger = create_customer(session, shop_id=ShopFactory().id, name="stranger").id
    session.commit()
    r = client.post(
        f"/api/v1/tags/{pop.vip_tag}/customers",
        headers=pop.headers,
        json={"customer_ids": [pop.ids["ann"], "cus_nope", stranger]},
    )
    assert r.status_code == 422
    body = r.get_json()
    assert body["type"].endswith("/unknown-customers") and body["unknown_ids"] == ["cus_nope", stranger]
    assert pop.ids["ann"] not in _tagged(session, pop.vip_tag)
    for bad in ({"customer_ids": []}, {"customer_ids": "cus_x"}, {}, {"customer_ids": ["x"] * 1001}):
        assert client.post(f"/api/v1/tags/{pop.vip_tag}/customers", headers=pop.headers, json=bad).status_code == 422


def test_rule_tag_follows_its_condition(client, session, clock, population):
    pop = population
    condition = {"op": "and", "conditions": [{"field": "total_spent", "cmp": "gte", "value": 100_000}]}
    r = client.post(
        "/api/v1/tags", headers=pop.headers, json={"name": "大客户", "kind": "rule", "condition": condition}
    )
    assert r.status_code == 201, r.get_json()
    tag = r.get_json()
    assert tag["customers_count"] == 2 and tag["evaluated_at"] is not None  # dan, eve
    assert _tagged(session, tag["id"]) == {pop.ids["dan"], pop.ids["eve"]}
    # Customers change; the on-demand evaluation catches up.
    session.execute(sa.update(Customer).where(Customer.id == pop.ids["dan"]).values(total_spent=10))
    session.execute(sa.update(Customer).where(Customer.id == pop.ids["ann"]).values(total_spent=500_000))
    session.commit()
    r = client.post(f"/api/v1/tags/{tag['id']}/evaluate", headers=pop.headers)
    assert r.status_code == 200 and r.get_json() == {"added": 1, "removed": 1, "customers_count": 2}
    assert _tagged(session, tag["id"]) == {pop.ids["ann"], pop.ids["eve"]}
    again = client.post(f"/api/v1/tags/{tag['id']}/evaluate", headers=pop.headers).get_json()
    assert again == {"added": 0, "removed": 0, "customers_count": 2}
    # A new condition is applied at once and the version moves only for the edit.
    r = client.patch(
        f"/api/v1/tags/{tag['id']}",
        headers={**pop.headers, "If-Match": '"1"'},
        json={"condition": {"op": "or", "conditions": [{"field": "level", "cmp": "lte", "value": 2}]}},
    )
    assert r.status_code == 200 and r.get_json()["customers_count"] == 2 and r.get_json()["version"] == 2
    assert _tagged(session, tag["id"]) == {pop.ids["ann"], pop.ids["bob"]}
    # Rule tags are not given or taken by hand.
    r = client.post(f"/api/v1/tags/{tag['id']}/customers", headers=pop.headers, json={"customer_ids": [pop.ids["cat"]]})
    assert r.status_code == 409 and r.get_json()["type"].endswith("/wrong-tag-kind")
    assert client.delete(f"/api/v1/tags/{tag['id']}/customers/{pop.ids['ann']}", headers=pop.headers).status_code == 409
    assert client.post(f"/api/v1/tags/{pop.vip_tag}/evaluate", headers=pop.headers).status_code == 409


def test_rule_tag_job_re_evaluates_every_shop(session, clock, population):
    from souk_platform.tags.services import create_tag
    from souk_platform.tags.tasks import evaluate_rule_tags

    pop = population
    now = clock.now()
    recent = {"op": "and", "conditions": [{"field": "last_order_at", "cmp": "within_days", "value": 7}]}
    tag = create_tag(session, shop_id=pop.shop_id, name="近7天下单", kind="rule", condition=recent, now=now)
    tag_id = tag.id
    session.commit()
    assert _tagged(session, tag_id) == {pop.ids["bob"], pop.ids["dan"]}
    clock.advance(days=4)  # bob's order (5 days ago) leaves the 7-day window
    assert evaluate_rule_tags() >= 1
    assert _tagged(session, tag_id) == {pop.ids["dan"]}
    assert evaluate_rule_tags() >= 1
    assert _tagged(session, tag_id) == {pop.ids["dan"]}
    evaluated = session.scalars(
        sa.select(OutboxEvent).where(OutboxEvent.type == "tag.evaluated", OutboxEvent.subject_id == tag_id)
    ).all()
    assert [(e.payload["added"], e.payload["removed"]) for e in evaluated] == [(2, 0), (0, 1)]


def test_bad_tags_are_422_or_409_and_change_nothing(client, session, population):
    pop = population
    before = session.scalar(sa.select(sa.func.count()).select_from(Tag).where(Tag.shop_id == pop.shop_id))
    cases = [
        ({"name": ""}, 422, "name"),
        ({"name": "   "}, 422, "name"),
        ({"name": "x", "kind": "smart"}, 422, "kind"),
        ({"name": "x", "kind": "rule"}, 422, "condition"),
        (
            {"name": "x", "condition": {"op": "and", "conditions": [{"field": "level", "cmp": "eq", "value": 1}]}},
            422,
            "condition",
        ),
        (
            {"name": "x", "kind": "rule", "condition": {"op": "and", "conditions": [{"field": "level"}]}},
            422,
            "condition.conditions.0.cmp",
        ),
        ({"name": "VIP"}, 409, "name"),
    ]
    for payload, status, field in cases:
        r = client.post("/api/v1/tags", headers=pop.headers, json=payload)
        assert r.status_code == status, (payload, r.get_json())
        assert field in r.get_json()["errors"], (payload, r.get_json())
    assert session.scalar(sa.select(sa.func.count()).select_from(Tag).where(Tag.shop_id == pop.shop_id)) == before
    r = client.patch(
        f"/api/v1/tags/{pop.vip_tag}",
        headers=pop.headers,
        json={"condition": {"op": "and", "conditions": [{"field": "level", "cmp": "eq", "value": 1}]}},
    )
    assert r.status_code == 422 and "condition" in r.get_json()["errors"]


def test_a_tag_used_by_a_segment_cannot_be_deleted(client, session, population):
    pop = population
    condition = {"op": "and", "conditions": [{"field": "tag", "cmp": "has", "value": pop.vip_tag}]}
    seg = client.post("/api/v1/segments", headers=pop.headers, json={"name": "vips", "condition": condition}).get_json()
    r = client.delete(f"/api/v1/tags/{pop.vip_tag}", headers=pop.headers)
    assert r.status_code == 409 and r.get_json()["used_by"] == [seg["id"]]
    assert len(_tagged(session, pop.vip_tag)) == 3
    assert client.delete(f"/api/v1/segments/{seg['id']}", headers=pop.headers).status_code == 204
    assert client.delete(f"/api/v1/tags/{pop.vip_tag}", headers=pop.headers).status_code == 204
    assert _tagged(session, pop.vip_tag) == set()
    assert client.get(f"/api/v1/tags/{pop.vip_tag}", headers=pop.headers).status_code == 404


def test_another_shops_tags_are_404(client, session, population):
    pop = population
    other = token_for(ShopFactory())
    tag_url = f"/api/v1/tags/{pop.vip_tag}"
    assert client.get(tag_url, headers=other).status_code == 404
    assert client.patch(tag_url, headers=other, json={"name": "mine"}).status_code == 404
    assert client.delete(tag_url, headers=other).status_code == 404
    assert (
        client.post(f"{tag_url}/customers", headers=other, json={"customer_ids": [pop.ids["ann"]]}).status_code == 404
    )
    assert client.delete(f"{tag_url}/customers/{pop.ids['bob']}", headers=other).status_code == 404
    assert client.get("/api/v1/tags", headers=other).get_json()["items"] == []
    assert client.get(f"/api/v1/customers?tag={pop.vip_tag}", headers=other).get_json()["items"] == []
    assert len(_tagged(session, pop.vip_tag)) == 3
    assert session.scalar(sa.select(Tag.name).where(Tag.id == pop.vip_tag)) == "VIP"


def test_tag_list_counts_and_filters(client, population):
    pop = population
    client.post("/api/v1/tags", headers=pop.headers, json={"name": "empty"})
    items = client.get("/api/v1/tags", headers=pop.headers).get_json()["items"]
    assert {(t["name"], t["customers_count"]) for t in items} == {("VIP", 3), ("empty", 0)}
    assert client.get("/api/v1/tags?kind=rule", headers=pop.headers).get_json()["items"] == []
    assert client.get("/api/v1/tags?kind=nope", headers=pop.headers).status_code == 422
