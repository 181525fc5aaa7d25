"""The points policy in one place (docs/architecture.md §5.15): GET/PUT with If-Match, per-field 422s, the
per-order cap at checkout, and both expiry policies in lot expiry."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from factories import ShopFactory, token_for
from souk_platform.catalog.services import NewSku, create_product
from souk_platform.customers.services import create_customer
from souk_platform.db import db
from souk_platform.points.models import PointsLot
from souk_platform.points.policy import lot_expiry
from souk_platform.points.services import award_points
from souk_platform.shops.models import Shop
from souk_platform.shops.services import get_shop, update_shop

UTC = dt.UTC


def _shop(session):
    shop = ShopFactory()
    headers = token_for(shop)
    return shop.id, headers


def test_get_shows_the_defaults_and_put_changes_them_with_if_match(client, session):
    shop_id, headers = _shop(session)
    r = client.get("/api/v1/points/policy", headers=headers)
    assert r.get_json() == {
        "points_per_yuan": 1,
        "point_value_fen": 1,
        "max_spend_ratio_bp": 5000,
        "max_points_per_order": None,
        "expiry_policy": "days",
        "expiry_days": 365,
        "currency": "CNY",
        "version": 1,
    }
    assert r.headers["ETag"] == '"1"'
    stale = client.put("/api/v1/points/policy", json={"points_per_yuan": 2}, headers={**headers, "If-Match": '"9"'})
    assert stale.status_code == 412
    r = client.put(
        "/api/v1/points/policy",
        json={"points_per_yuan": 2, "max_points_per_order": 300, "expiry_policy": "end_of_year"},
        headers={**headers, "If-Match": '"1"'},
    )
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert (body["points_per_yuan"], body["max_points_per_order"], body["expiry_policy"]) == (2, 300, "end_of_year")
    assert body["expiry_days"] == 365 and body["version"] == 2
    settings = db.session.get(Shop, shop_id).settings
    assert (settings["points_per_yuan"], settings["points_max_per_order"]) == (2, 300)
    # null takes the absolute cap away again
    r = client.put("/api/v1/points/policy", json={"max_points_per_order": None}, headers=headers)
    assert r.get_json()["max_points_per_order"] is None
    assert db.session.get(Shop, shop_id).settings["points_max_per_order"] == 0


def test_bad_fields_are_422_each_and_nothing_changes(client, session):
    _shop_id, headers = _shop(session)
    r = client.put(
        "/api/v1/points/policy",
        json={"point_value_fen": 0, "max_spend_ratio_bp": 10001, "expiry_policy": "never", "expiry_days": 1.5},
        headers=headers,
    )
    assert r.status_code == 422
    assert set(r.get_json()["errors"]) >= {"point_value_fen", "max_spend_ratio_bp", "expiry_policy", "expiry_days"}
    assert client.put("/api/v1/points/policy", json={"currency": "USD"}, headers=headers).status_code == 422
    assert client.get("/api/v1/points/policy", headers=headers).get_json()["version"] == 1


def test_the_service_checks_the_same_rules_for_the_page(session):
    from souk_platform.points.policy import InvalidPointsPolicy, update_points_policy

    shop_id, _ = _shop(session)
    try:
        update_points_policy(
            session, shop_id=shop_id, changes={"points_per_yuan": -1, "expiry_policy": "x"}, expected_version=None
        )
    except InvalidPointsPolicy as refusal:
        assert set(refusal.errors or {}) == {"points_per_yuan", "expiry_policy"}
    else:
        raise AssertionError("a bad policy was accepted")


def test_end_of_year_expiry_lasts_until_the_next_year_ends_in_shop_time(session):
    shop = ShopFactory()
    update_shop(
        session, shop_id=shop.id, changes={"settings": {"points_expiry_policy": "end_of_year"}}, expected_version=None
    )
    march = dt.datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    # the end of 2027 in Shanghai is 16:00 UTC on 31 December 2027
    assert lot_expiry(shop, march) == dt.datetime(2027, 12, 31, 16, 0, tzinfo=UTC)
    new_years_eve_local = dt.datetime(2026, 12, 31, 16, 30, tzinfo=UTC)  # already 2027 in Shanghai
    assert lot_expiry(shop, new_years_eve_local) == dt.datetime(2028, 12, 31, 16, 0, tzinfo=UTC)
    customer = create_customer(session, shop_id=shop.id, name="甲")
    award_points(
        session,
        shop_id=shop.id,
        customer_id=customer.id,
        points=10,
        reason="t",
        reference=None,
        dedupe_key="t",
        now=march,
    )
    lot = session.scalar(sa.select(PointsLot).where(PointsLot.customer_id == customer.id))
    assert lot.expires_at == dt.datetime(2027, 12, 31, 16, 0, tzinfo=UTC)
    update_shop(session, shop_id=shop.id, changes={"settings": {"points_expiry_policy": "days"}}, expected_version=None)
    assert lot_expiry(get_shop(session, shop.id), march) == march + dt.timedelta(days=365)


def test_checkout_refuses_more_points_than_the_per_order_cap(client, session, clock):
    shop = ShopFactory()
    headers = token_for(shop)
    product = create_product(
        session,
        shop_id=shop.id,
        title="Tea",
        status="active",
        skus=[NewSku(code="TEA", title="250g", price=10_000, on_hand=10)],
    )
    customer = create_customer(session, shop_id=shop.id, name="甲")
    award_points(
        session,
        shop_id=shop.id,
        customer_id=customer.id,
        points=5000,
        reason="t",
        reference=None,
        dedupe_key="w",
        now=clock.now(),
    )
    update_shop(session, shop_id=shop.id, changes={"settings": {"points_max_per_order": 300}}, expected_version=None)
    session.commit()
    sku, customer_id = product.skus[0].id, customer.id

    def checkout(points):
        cart = client.post(
            "/api/v1/carts",
            json={"customer_id": customer_id, "lines": [{"sku_id": sku, "quantity": 1}]},
            headers=headers,
        )
        return client.post(f"/api/v1/carts/{cart.get_json()['id']}/checkout", json={"points": points}, headers=headers)

    r = checkout(301)  # the ratio alone would allow 5000 points on 100 yuan
    assert r.status_code == 422 and r.get_json()["max_points"] == 300
    assert "at most 300 points per order" in r.get_json()["errors"]["points"][0]
    assert checkout(300).status_code == 201
