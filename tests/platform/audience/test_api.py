"""``GET /segment-fields`` and the new leaf shape through ``POST /segments/estimate`` and ``POST /segments``."""

from __future__ import annotations

from typing import Any

from factories import ShopFactory, token_for
from souk_platform.audience.fields import REGISTRY
from souk_platform.benefits.models import BenefitPackage
from souk_platform.coupons.models import Coupon
from souk_platform.tags.models import Segment

from .conftest import Builder, Shop

SEED = {
    "op": "and",
    "conditions": [
        {"field": "trade.orders_count", "params": {"window_days": 90, "category_id": None}, "cmp": "gte", "value": 2},
        {
            "field": "trade.avg_order_value",
            "params": {"window_days": 90, "category_id": None},
            "cmp": "gt",
            "value": 30_000,
        },
    ],
}


def seed_for(category_id: str) -> dict[str, Any]:
    return {
        "op": "and",
        "conditions": [{**c, "params": {**c["params"], "category_id": category_id}} for c in SEED["conditions"]],
    }


def test_the_registry_is_listed_page_by_page_in_both_languages_and_by_group(client, rich: Shop) -> None:
    seen: list[dict[str, Any]] = []
    url = "/api/v1/segment-fields?limit=120"
    while url:
        r = client.get(url, headers=rich.headers)
        assert r.status_code == 200, r.get_json()
        body = r.get_json()
        seen.extend(body["items"])
        url = body["next_cursor"] and f"/api/v1/segment-fields?limit=120&cursor={body['next_cursor']}"
    assert [f["key"] for f in seen] == sorted(REGISTRY)
    orders = next(f for f in seen if f["key"] == "trade.orders_count")
    assert orders["name_zh"] == "订单数" and orders["name_en"] == "Orders"
    assert "支付时间" in orders["definition_zh"] and "paid in the window" in orders["definition_en"]
    assert {p["key"] for p in orders["params"]} >= {"window_days", "category_id", "product_id", "product_tag"}
    assert {"cmp": "gte", "value": "count"} in orders["cmps"]
    groups = client.get("/api/v1/segment-fields?group=behaviour&limit=250", headers=rich.headers).get_json()
    assert groups["items"] and {f["group"] for f in groups["items"]} == {"behaviour"}
    assert client.get("/api/v1/segment-fields?group=nope", headers=rich.headers).status_code == 422
    assert client.get("/api/v1/segment-fields?cursor=bm9wZQ", headers=rich.headers).status_code == 422


def test_segment_fields_need_the_tags_scope(client, rich: Shop) -> None:
    shop = ShopFactory()
    r = client.get("/api/v1/segment-fields", headers=token_for(shop, scopes=["read_orders"]))
    assert r.status_code == 403


def test_the_seed_example_through_the_estimate_and_a_saved_segment(client, session, rich: Shop) -> None:
    condition = seed_for(rich.categories["母婴"])
    r = client.post("/api/v1/segments/estimate", headers=rich.headers, json={"condition": condition})
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["count"] == 0  # ann has 2 orders in 母婴 but they average 295 yuan there
    condition["conditions"][1]["value"] = 29_000
    assert client.post("/api/v1/segments/estimate", headers=rich.headers, json={"condition": condition}).get_json() == {
        "count": 1
    }
    r = client.post("/api/v1/segments", headers=rich.headers, json={"name": "母婴高客单", "condition": condition})
    assert r.status_code == 201 and r.get_json()["count"] == 1
    assert r.get_json()["condition"]["conditions"][0]["params"] == {
        "window_days": 90,
        "category_id": rich.categories["母婴"],
    }


def test_bad_leaves_are_422_naming_the_path_and_nothing_is_saved(client, session, rich: Shop) -> None:
    def problem(condition: dict[str, Any]) -> dict[str, Any]:
        r = client.post("/api/v1/segments", headers=rich.headers, json={"name": "bad", "condition": condition})
        assert r.status_code == 422, r.get_json()
        assert r.headers["Content-Type"].startswith("application/problem+json")
        return r.get_json()["errors"]

    def one(leaf: dict[str, Any]) -> dict[str, Any]:
        return problem({"op": "and", "conditions": [leaf]})

    base = {"field": "trade.orders_count", "cmp": "gte", "value": 2}
    assert "condition.conditions.0.params.colour" in one({**base, "params": {"colour": "red"}})
    assert "condition.conditions.0.params.window_days" in one({**base, "params": {"window_days": 0}})
    assert "condition.conditions.0.params.window_days" in one(
        {**base, "params": {"window_days": 9, "date_from": "2026-01-01"}}
    )
    assert "condition.conditions.0.params.date_to" in one(
        {**base, "params": {"date_from": "2026-02-01", "date_to": "2026-01-01"}}
    )
    assert "condition.conditions.0.params.payment_method" in one({**base, "params": {"payment_method": "iou"}})
    assert "condition.conditions.0.params" in one({**base, "params": ["window_days"]})
    assert "condition.conditions.0.field" in one({**base, "field": "trade.nope"})
    assert "condition.conditions.0.cmp" in one({**base, "cmp": "within_days"})
    assert "condition.conditions.0.value" in one({**base, "value": -1})
    assert "condition.conditions.0.value" in one({"field": "trade.refund_rate", "cmp": "gt", "value": 2})
    assert "condition.conditions.0.value" in one({"field": "trade.spend", "cmp": "between", "value": [5, 1]})
    assert "condition.conditions.0.value" in one({"field": "trade.paid_with", "cmp": "eq", "value": "iou"})
    assert "condition.conditions.0.value" in one(
        {"field": "behaviour.product_viewed_not_bought", "cmp": "is", "value": 1}
    )
    # References must be the shop's own: an unknown id, or another shop's, is 422 too.
    other = ShopFactory()
    foreign = Builder(session, other.id).category("母婴")
    session.commit()
    errors = problem(seed_for(foreign))
    assert set(errors) == {"condition.conditions.0.params.category_id", "condition.conditions.1.params.category_id"}
    assert "condition.conditions.0.params.product_id" in one({**base, "params": {"product_id": "prd_nope"}})
    assert "condition.conditions.0.params.coupon_id" in one(
        {"field": "marketing.coupons_used_count", "cmp": "gte", "value": 1, "params": {"coupon_id": "cpn_x"}}
    )
    assert "condition.conditions.0.value" in one({"field": "tags.has_any", "cmp": "in", "value": ["tag_nope"]})
    assert session.query(Segment).filter_by(shop_id=rich.shop_id).count() == 0


def test_the_first_six_fields_keep_their_shape(client, rich: Shop) -> None:
    leaf = {"field": "orders_count", "cmp": "gte", "value": 1}
    r = client.post(
        "/api/v1/segments",
        headers=rich.headers,
        json={"name": "buyers", "condition": {"op": "and", "conditions": [leaf]}},
    )
    assert r.status_code == 201
    assert r.get_json()["condition"] == {"op": "and", "conditions": [leaf]}
    r = client.post(
        "/api/v1/segments/estimate",
        headers=rich.headers,
        json={"condition": {"op": "and", "conditions": [{**leaf, "params": {"window_days": 5}}]}},
    )
    assert r.status_code == 422 and "condition.conditions.0.params.window_days" in r.get_json()["errors"]


def test_a_saved_segment_whose_category_was_deleted_still_reads(client, session, rich: Shop) -> None:
    category = Builder(session, rich.shop_id).category("临时")
    session.commit()
    r = client.post("/api/v1/segments", headers=rich.headers, json={"name": "tmp", "condition": seed_for(category)})
    assert r.status_code == 201
    r = client.delete(f"/api/v1/categories/{category}", headers=rich.headers)
    assert r.status_code == 204, r.get_json()
    segment_id = session.query(Segment).filter_by(shop_id=rich.shop_id).one().id
    r = client.get(f"/api/v1/segments/{segment_id}", headers=rich.headers)
    assert r.status_code == 200 and r.get_json()["count"] == 0


def test_wallet_and_benefit_fields_take_only_the_shops_own_coupon_and_package(client, session, rich: Shop) -> None:
    other = ShopFactory()
    their_coupon = Coupon(shop_id=other.id, code="THEIRS", name="Theirs", kind="fixed", value=100)
    their_package = BenefitPackage(shop_id=other.id, name="Theirs", trigger="manual", trigger_params={}, items=[])
    session.add_all([their_coupon, their_package])
    session.commit()
    condition = {
        "op": "and",
        "conditions": [
            {
                "field": "marketing.wallet_unused_count",
                "cmp": "gte",
                "value": 1,
                "params": {"coupon_id": their_coupon.id},
            },
            {
                "field": "marketing.has_active_benefit",
                "cmp": "is",
                "value": True,
                "params": {"package_id": their_package.id},
            },
            {"field": "marketing.benefit_grants_count", "cmp": "gte", "value": 1, "params": {"package_id": 7}},
        ],
    }
    r = client.post("/api/v1/segments", headers=rich.headers, json={"name": "theirs", "condition": condition})
    assert r.status_code == 422 and r.headers["Content-Type"].startswith("application/problem+json")
    assert set(r.get_json()["errors"]) == {"condition.conditions.2.params.package_id"}  # the shape is checked first
    condition["conditions"].pop()
    r = client.post("/api/v1/segments", headers=rich.headers, json={"name": "theirs", "condition": condition})
    assert r.status_code == 422
    assert set(r.get_json()["errors"]) == {
        "condition.conditions.0.params.coupon_id",
        "condition.conditions.1.params.package_id",
    }
    assert session.query(Segment).filter_by(shop_id=rich.shop_id).count() == 0
    # The shop's own: cat holds an unused GIFT, ann an active BIRTHDAY grant.
    own = {
        "op": "or",
        "conditions": [
            {
                "field": "marketing.wallet_unused_count",
                "cmp": "gte",
                "value": 1,
                "params": {"coupon_id": rich.coupons["GIFT"]},
            },
            {
                "field": "marketing.has_active_benefit",
                "cmp": "is",
                "value": True,
                "params": {"package_id": rich.packages["BIRTHDAY"]},
            },
        ],
    }
    r = client.post("/api/v1/segments/estimate", headers=rich.headers, json={"condition": own})
    assert r.status_code == 200 and r.get_json() == {"count": 2}
