"""Redeeming (docs/architecture.md §5.14): the checks in order, idempotent retries, each kind's fulfilment,
points + cash through the payment path, cancel and refund giving back points, cash and stock exactly."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from factories import ShopFactory, token_for
from souk_platform.benefits.models import BenefitGrant
from souk_platform.coupons.models import Coupon, CustomerCoupon
from souk_platform.db import db
from souk_platform.events.models import OutboxEvent
from souk_platform.ledger.services import balance_of
from souk_platform.orders.models import Order
from souk_platform.orders.services import cancel_expired_orders
from souk_platform.points_mall.models import MallItem

from .conftest import ledger_exact


def _events(shop_id, type):
    db.session.expire_all()
    stmt = sa.select(OutboxEvent).where(OutboxEvent.shop_id == shop_id, OutboxEvent.type == type)
    return list(db.session.scalars(stmt.order_by(OutboxEvent.id)))


def _order(order_id):
    db.session.expire_all()
    return db.session.get(Order, order_id)


def _shop_balance(mall):
    db.session.expire_all()
    return balance_of(db.session, shop_id=mall.id, kind="shop.balance", owner_id=mall.id, unit="CNY")


def _pay(api, order_id):
    r = api.post(f"/orders/{order_id}/payments", key=f"pay-{order_id}")
    assert r.status_code == 201, r.get_json()
    r = api.post(f"/payments/{r.get_json()['id']}/callback", {"outcome": "succeeded"})
    assert r.status_code == 200, r.get_json()


def test_a_points_only_goods_item_is_an_order_paid_at_once(api, mall):
    item = api.item(points=300)
    r = api.redeem(item["id"], quantity=2, ip="10.0.0.1", device_id="phone-1")
    assert r.status_code == 201, r.get_json()
    redemption = r.get_json()
    assert (redemption["status"], redemption["points"], redemption["cash"], redemption["quantity"]) == (
        "paid",
        600,
        0,
        2,
    )
    order = _order(redemption["order_id"])
    assert (order.channel, order.status, order.points_spent, order.points_value, order.total) == (
        "points_mall",
        "paid",
        600,
        0,
        0,
    )
    (line,) = order.lines
    assert (line.sku_id, line.quantity, line.unit_price, line.list_price) == (mall.sku, 2, 0, 5000)
    assert api.points() == 400 and api.stock() == (8, 0)
    assert [e.subject_id for e in _events(mall.id, "points_mall.redeemed")] == [redemption["id"]]
    # shipping the order is the goods' fulfilment
    r = api.post(f"/orders/{order.id}/fulfil")
    assert r.status_code == 200, r.get_json()
    assert api.get(f"/points-mall/redemptions/{redemption['id']}").get_json()["status"] == "fulfilled"
    assert [e.subject_id for e in _events(mall.id, "points_mall.fulfilled")] == [redemption["id"]]
    ledger_exact()


def test_a_coupon_item_lands_in_the_wallet_and_a_package_is_granted(api, mall):
    coupon = api.item(kind="coupon", coupon_id=mall.coupon, title="10 元券", points=50, stock=10)
    r = api.redeem(coupon["id"], quantity=2)
    assert r.status_code == 201, r.get_json()
    redemption = r.get_json()
    assert redemption["status"] == "fulfilled" and len(redemption["fulfilment"]["wallet_coupon_ids"]) == 2
    entries = db.session.scalars(sa.select(CustomerCoupon).where(CustomerCoupon.customer_id == mall.customer_id)).all()
    assert sorted((e.source, e.status) for e in entries) == [("points_mall", "issued")] * 2
    assert api.get(f"/points-mall/items/{coupon['id']}").get_json()["redeemed"] == 2

    package = api.item(kind="benefit_package", package_id=mall.package, title="兑换礼", points=20)
    r = api.redeem(package["id"])
    assert r.status_code == 201 and r.get_json()["status"] == "fulfilled", r.get_json()
    (grant_id,) = r.get_json()["fulfilment"]["benefit_grant_ids"]
    assert db.session.get(BenefitGrant, grant_id).customer_id == mall.customer_id
    assert api.points() == 1000 - 100 - 20 + 5  # the package gives 5 points back
    ledger_exact()


def test_the_idempotency_key_is_required_and_a_retry_redeems_once(api, mall):
    item = api.item()
    before = api.snapshot()
    r = api.client.post(
        "/api/v1/points-mall/redemptions",
        json={"item_id": item["id"], "customer_id": mall.customer_id},
        headers=mall.headers,
    )
    assert r.status_code == 400 and r.get_json()["type"].endswith("/idempotency-key-required")
    assert api.snapshot() == before
    first = api.redeem(item["id"], key="same")
    again = api.redeem(item["id"], key="same")
    assert first.status_code == again.status_code == 201 and first.get_json()["id"] == again.get_json()["id"]
    assert api.points() == 900
    assert api.redeem(item["id"], key="same", quantity=2).status_code == 422  # same key, other body


def test_bad_redemptions_are_refused_and_write_nothing(api, mall):
    item = api.item(points=2000)
    cheap = api.item(points=10)
    stranger = token_for(ShopFactory())
    before = api.snapshot()
    cases = [
        (api.redeem("pmi_nothing"), 404, "points-mall-item-not-found"),
        (api.redeem(item["id"], customer_id="cus_nothing"), 404, "customer-not-found"),
        (api.redeem(item["id"]), 422, "insufficient-balance"),  # 1000 points, 2000 needed
        (api.redeem(cheap["id"], quantity=0), 422, "validation-failed"),
        (api.redeem(cheap["id"], quantity=101), 422, "validation-failed"),
        (api.redeem(cheap["id"], colour="red"), 422, "validation-failed"),
        (api.redeem(cheap["id"], quantity=11), 409, "points-mall-item-unavailable"),  # 10 on hand
    ]
    for r, status, problem in cases:
        assert r.status_code == status and r.get_json()["type"].endswith("/" + problem), r.get_json()
    r = api.client.post(
        "/api/v1/points-mall/redemptions",
        json={"item_id": cheap["id"], "customer_id": mall.customer_id},
        headers={**stranger, "Idempotency-Key": "x"},
    )
    assert r.status_code == 404  # another shop's item
    assert api.snapshot() == before


def test_level_gating_and_the_sale_window(api, mall, clock):
    vip_only = api.item(min_level=3)
    r = api.redeem(vip_only["id"])
    assert r.status_code == 422 and r.get_json()["type"].endswith("/redemption-not-allowed")
    assert "V3" in r.get_json()["detail"]
    assert api.redeem(vip_only["id"], customer_id=mall.vip_id).status_code == 201
    now = clock.now()
    later = api.item(
        starts_at=(now + dt.timedelta(hours=1)).isoformat(), ends_at=(now + dt.timedelta(hours=2)).isoformat()
    )
    draft = api.item(status="draft")
    for item in (later, draft):
        r = api.redeem(item["id"])
        assert r.status_code == 409 and r.get_json()["type"].endswith("/points-mall-item-unavailable")
    clock.advance(minutes=90)
    assert api.redeem(later["id"]).status_code == 201
    clock.advance(minutes=31)
    assert api.redeem(later["id"]).status_code == 409  # ended


def test_per_member_limits_count_per_period_in_the_shops_timezone(api, mall, clock, session):
    # 23:30 in Shanghai (15:30 UTC): the shop's day ends in half an hour, not in 8.5 hours
    shanghai = clock.now().astimezone(ZoneInfo("Asia/Shanghai"))
    monday = shanghai.date() + dt.timedelta(days=7 - shanghai.weekday())
    target = dt.datetime.combine(monday, dt.time(23, 30), ZoneInfo("Asia/Shanghai"))  # next Monday, 23:30 there
    clock.advance(seconds=(target - clock.now()).total_seconds())
    daily = api.item(points=10, per_member_limit=2, limit_period="day")
    assert api.redeem(daily["id"], quantity=2).status_code == 201
    r = api.redeem(daily["id"])
    assert r.status_code == 422 and r.get_json()["errors"] == {"quantity": ["At most 0."]}
    assert api.redeem(daily["id"], customer_id=mall.vip_id).status_code == 201  # per member
    clock.advance(minutes=31)  # 00:01 on Tuesday in Shanghai
    assert api.redeem(daily["id"]).status_code == 201

    weekly = api.item(points=10, per_member_limit=1, limit_period="week")
    assert api.redeem(weekly["id"]).status_code == 201
    clock.advance(days=5)  # Sunday: the same week
    assert api.redeem(weekly["id"]).status_code == 422
    clock.advance(days=1)  # Monday
    assert api.redeem(weekly["id"]).status_code == 201

    lifetime = api.item(points=10, per_member_limit=1)
    first = api.redeem(lifetime["id"]).get_json()
    assert api.redeem(lifetime["id"]).status_code == 422
    clock.advance(days=200)
    assert api.redeem(lifetime["id"]).status_code == 422
    # a cancelled redemption does not count (goods, paid, not shipped: cancelled with a refund)
    assert api.post(f"/points-mall/redemptions/{first['id']}/cancel", key="c1").status_code == 200
    assert api.redeem(lifetime["id"]).status_code == 201


def test_stock_of_a_non_goods_item_is_taken_and_given_back(api, mall):
    item = api.item(kind="coupon", coupon_id=mall.coupon, title="券", points=10, stock=1, cash=100)
    first = api.redeem(item["id"])
    assert first.status_code == 201 and first.get_json()["status"] == "pending_payment"
    r = api.redeem(item["id"], customer_id=mall.vip_id)
    assert r.status_code == 409 and "left" in r.get_json()["detail"]
    r = api.post(f"/points-mall/redemptions/{first.get_json()['id']}/cancel", {"reason": "changed my mind"}, key="c")
    assert r.status_code == 200 and r.get_json()["status"] == "cancelled", r.get_json()
    assert api.get(f"/points-mall/items/{item['id']}").get_json()["redeemed"] == 0
    assert api.points() == 1000
    assert api.redeem(item["id"], customer_id=mall.vip_id).status_code == 201


def test_points_and_cash_are_paid_through_the_payment_path(api, mall):
    item = api.item(points=200, cash=1990)
    redemption = api.redeem(item["id"]).get_json()
    assert redemption["status"] == "pending_payment" and redemption["cash"] == 1990
    order = _order(redemption["order_id"])
    assert (order.status, order.total, order.subtotal, order.points_spent, order.lines[0].unit_price) == (
        "pending_payment",
        1990,
        1990,
        200,
        1990,
    )
    assert api.points() == 800 and api.stock() == (10, 1)  # points debited, stock held
    balance = _shop_balance(mall)
    _pay(api, order.id)
    assert api.get(f"/points-mall/redemptions/{redemption['id']}").get_json()["status"] == "paid"
    assert _shop_balance(mall) == balance + 1990 and api.stock() == (9, 0)
    ledger_exact()


def test_an_unpaid_redemption_cancelled_or_expired_gives_back_points_and_stock(api, mall, clock, session):
    item = api.item(points=200, cash=990)
    cancelled = api.redeem(item["id"]).get_json()
    expiring = api.redeem(item["id"]).get_json()
    assert api.points() == 600 and api.stock() == (10, 2)
    r = api.post(f"/points-mall/redemptions/{cancelled['id']}/cancel", key="cancel-1")
    assert r.status_code == 200 and r.get_json()["status"] == "cancelled"
    assert _order(cancelled["order_id"]).status == "cancelled"
    assert api.points() == 800 and api.stock() == (10, 1)
    assert api.post(f"/points-mall/redemptions/{cancelled['id']}/cancel", key="cancel-2").status_code == 409
    clock.advance(hours=2)
    assert cancel_expired_orders(session, now=clock.now()) == 1
    assert api.get(f"/points-mall/redemptions/{expiring['id']}").get_json()["status"] == "cancelled"
    assert api.points() == 1000 and api.stock() == (10, 0)
    assert len(_events(mall.id, "points_mall.cancelled")) == 2
    ledger_exact()


def test_a_refund_gives_back_points_and_cash_exactly(api, mall):
    item = api.item(points=300, cash=1500)
    redemption = api.redeem(item["id"]).get_json()
    _pay(api, redemption["order_id"])
    assert api.post(f"/orders/{redemption['order_id']}/fulfil").status_code == 200
    balance = _shop_balance(mall)
    points_after_pay = api.points()
    r = api.post(f"/orders/{redemption['order_id']}/refunds", {"reason": "broken", "restock": True}, key="refund-1")
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["amount"] == 1500 and r.get_json()["points_returned"] == 300
    assert _shop_balance(mall) == balance - 1500
    assert api.points() == points_after_pay + 300 - r.get_json()["points_revoked"]
    assert api.stock() == (10, 0)
    assert api.get(f"/points-mall/redemptions/{redemption['id']}").get_json()["status"] == "refunded"
    assert [e.subject_id for e in _events(mall.id, "points_mall.refunded")] == [redemption["id"]]
    assert api.post(f"/points-mall/redemptions/{redemption['id']}/cancel", key="late").status_code == 409
    ledger_exact()


def test_cancelling_a_paid_redemption_before_shipping_refunds_points_and_cash(api, mall):
    item = api.item(points=300, cash=800)
    redemption = api.redeem(item["id"]).get_json()
    _pay(api, redemption["order_id"])
    balance = _shop_balance(mall)
    r = api.post(f"/points-mall/redemptions/{redemption['id']}/cancel", key="cancel-paid")
    assert r.status_code == 200 and r.get_json()["status"] == "cancelled", r.get_json()
    assert _shop_balance(mall) == balance - 800
    assert api.points() == 1000 and api.stock() == (10, 0)
    assert _order(redemption["order_id"]).refunded_total == 800
    assert [e.subject_id for e in _events(mall.id, "points_mall.cancelled")] == [redemption["id"]]
    # a fulfilled redemption is refunded through its order, not cancelled
    fulfilled = api.redeem(api.item(kind="coupon", coupon_id=mall.coupon, title="券", points=10)["id"]).get_json()
    assert fulfilled["status"] == "fulfilled"
    assert api.post(f"/points-mall/redemptions/{fulfilled['id']}/cancel", key="too-late").status_code == 409
    ledger_exact()


def test_redemptions_list_filters_and_tenancy(api, mall, client):
    goods, coupon = api.item(), api.item(kind="coupon", coupon_id=mall.coupon, title="券", points=10)
    mine = api.redeem(goods["id"]).get_json()
    vip = api.redeem(coupon["id"], customer_id=mall.vip_id).get_json()
    assert [r["id"] for r in api.get(f"/points-mall/redemptions?customer_id={mall.vip_id}").get_json()["items"]] == [
        vip["id"]
    ]
    assert [r["id"] for r in api.get(f"/points-mall/redemptions?item_id={goods['id']}").get_json()["items"]] == [
        mine["id"]
    ]
    assert [r["id"] for r in api.get("/points-mall/redemptions?status=fulfilled").get_json()["items"]] == [vip["id"]]
    assert api.get("/points-mall/redemptions?status=lost").status_code == 422
    other = token_for(ShopFactory())
    assert client.get(f"/api/v1/points-mall/redemptions/{mine['id']}", headers=other).status_code == 404
    r = client.post(
        f"/api/v1/points-mall/redemptions/{mine['id']}/cancel", json={}, headers={**other, "Idempotency-Key": "k"}
    )
    assert r.status_code == 404
    assert client.get("/api/v1/points-mall/redemptions", headers=other).get_json()["items"] == []
    assert db.session.get(MallItem, goods["id"]).redeemed == 1


def test_a_coupon_that_can_no_longer_be_issued_leaves_the_redemption_paid_to_cancel(api, mall, session):
    item = api.item(kind="coupon", coupon_id=mall.coupon, title="券", points=40)
    session.execute(sa.update(Coupon).where(Coupon.id == mall.coupon).values(status="disabled"))
    session.commit()
    r = api.redeem(item["id"])
    assert r.status_code == 201, r.get_json()
    redemption = r.get_json()
    assert redemption["status"] == "paid" and redemption["fulfilment"]["wallet_coupon_ids"] == []
    assert len(redemption["fulfilment"]["problems"]) == 1
    r = api.post(f"/points-mall/redemptions/{redemption['id']}/cancel", key="cancel-unissued")
    assert r.status_code == 200 and r.get_json()["status"] == "cancelled"
    assert api.points() == 1000
    ledger_exact()
