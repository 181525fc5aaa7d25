"""Order state machine, payments through the test provider, cancelling and the expiry job."""

from __future__ import annotations

import sqlalchemy as sa

from factories import ShopFactory, token_for
from souk_platform.coupons.models import CouponRedemption
from souk_platform.db import db
from souk_platform.events.models import OutboxEvent
from souk_platform.ledger.services import check_invariants
from souk_platform.orders.tasks import cancel_expired_orders
from souk_platform.shops.models import Shop


def _count_events(shop_id: str, type: str) -> int:
    return int(
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(OutboxEvent)
            .where(OutboxEvent.shop_id == shop_id, OutboxEvent.type == type)
        )
    )


def test_illegal_transitions_are_409_and_change_nothing(flow, world):
    order = flow.place([(world.tea, 1)])
    for action in ("fulfil", "complete"):
        r = flow.post(f"/orders/{order['id']}/{action}")
        assert r.status_code == 409, r.get_json()
        assert r.get_json()["type"].endswith("/invalid-state-transition")
        assert r.get_json()["current_status"] == "pending_payment"
    flow.pay(order["id"])
    before = flow.snapshot()
    for action in ("cancel", "complete"):
        assert flow.post(f"/orders/{order['id']}/{action}").status_code == 409
    assert flow.start_payment(order["id"]).status_code == 409  # already paid
    assert flow.snapshot() == before
    assert flow.get(f"/orders/{order['id']}").get_json()["status"] == "paid"


def test_stale_if_match_is_412(flow, world):
    order = flow.place([(world.tea, 1)])
    flow.pay(order["id"])
    r = flow.post(f"/orders/{order['id']}/fulfil", headers={"If-Match": '"1"'})
    assert r.status_code == 412
    r = flow.post(f"/orders/{order['id']}/fulfil", headers={"If-Match": '"2"'})
    assert r.status_code == 200 and r.headers["ETag"] == '"3"'


def test_callback_twice_pays_once(flow, world):
    order = flow.place([(world.tea, 1)])
    payment = flow.start_payment(order["id"]).get_json()
    assert (payment["status"], payment["amount"]) == ("pending", 5000)
    # starting again while one is pending hands back the same payment
    again = flow.start_payment(order["id"])
    assert again.status_code == 200 and again.get_json()["id"] == payment["id"]
    before = flow.balances()
    assert flow.callback(payment["id"]).status_code == 200
    assert flow.callback(payment["id"]).status_code == 200
    after = flow.balances()
    assert after["shop_balance"] - before["shop_balance"] == 5000
    assert after["points"] - before["points"] == 50
    assert _count_events(world.shop_id, "order.paid") == 1
    r = flow.callback(payment["id"], "failed")
    assert r.status_code == 409 and r.get_json()["type"].endswith("/payment-already-settled")
    assert check_invariants(db.session) == []


def test_failed_payment_leaves_the_order_pending_for_a_retry(flow, world):
    order = flow.place([(world.tea, 1)])
    first = flow.start_payment(order["id"]).get_json()
    r = flow.callback(first["id"], "failed")
    assert r.status_code == 200 and r.get_json()["status"] == "failed"
    assert flow.get(f"/orders/{order['id']}").get_json()["status"] == "pending_payment"
    assert flow.stock(world.tea) == (10, 1)
    retry = flow.pay(order["id"])
    assert retry["id"] != first["id"] and retry["status"] == "succeeded"
    detail = flow.get(f"/orders/{order['id']}").get_json()
    assert detail["status"] == "paid"
    assert [p["status"] for p in detail["payments"]] == ["failed", "succeeded"]


def test_zero_cash_order_is_paid_without_a_provider(flow, world):
    # 2000 fen: 1000 points (50 % cap) + 1000 stored value
    order = flow.place([(world.cup, 1)], points=1000, stored_value=1000)
    assert order["total"] == 0
    before = flow.balances()
    r = flow.start_payment(order["id"])
    assert r.status_code == 201
    assert (r.get_json()["provider"], r.get_json()["amount"], r.get_json()["status"]) == ("none", 0, "succeeded")
    detail = flow.get(f"/orders/{order['id']}").get_json()
    assert detail["status"] == "paid"
    assert flow.balances()["shop_balance"] == before["shop_balance"]  # no cash moved
    assert flow.stock(world.cup) == (4, 0)
    assert flow.callback(r.get_json()["id"]).status_code == 409  # nothing to call back
    assert check_invariants(db.session) == []


def test_cancel_gives_everything_back(flow, world, coupon):
    before = flow.snapshot()
    order = flow.place([(world.tea, 1), (world.cup, 1)], coupon_codes=["TEA10"], points=500, stored_value=3000)
    payment = flow.start_payment(order["id"]).get_json()
    assert flow.stock(world.tea) == (10, 1)
    r = flow.post(f"/orders/{order['id']}/cancel", {"reason": "changed my mind"})
    body = r.get_json()
    assert r.status_code == 200 and body["status"] == "cancelled" and body["cancel_reason"] == "changed my mind"
    after = flow.snapshot()
    assert after["stock"] == before["stock"]
    assert (after["points"], after["stored_value"]) == (before["points"], before["stored_value"])
    statuses = db.session.scalars(sa.select(CouponRedemption.status).where(CouponRedemption.order_id == order["id"]))
    assert list(statuses) == ["released"]
    assert body["payments"][0]["id"] == payment["id"] and body["payments"][0]["status"] == "failed"
    assert flow.callback(payment["id"]).status_code == 409  # a cancelled order cannot be paid
    assert flow.post(f"/orders/{order['id']}/cancel").status_code == 409
    assert check_invariants(db.session) == []


def test_expiry_job_cancels_unpaid_orders_and_is_safe_twice(flow, world, app, clock):
    stale = flow.place([(world.tea, 2)])
    clock.advance(minutes=20)
    fresh = flow.place([(world.cup, 1)])
    clock.advance(minutes=11)  # past the 30-minute reservation of the first order only
    with app.app_context():
        assert cancel_expired_orders() == 1
        assert cancel_expired_orders() == 0
    assert flow.get(f"/orders/{stale['id']}").get_json()["status"] == "cancelled"
    assert flow.get(f"/orders/{stale['id']}").get_json()["cancel_reason"] == "expired"
    assert flow.get(f"/orders/{fresh['id']}").get_json()["status"] == "pending_payment"
    assert flow.stock(world.tea) == (10, 0)


def test_list_filters_and_detail(flow, world):
    paid = flow.place([(world.tea, 1)])
    flow.pay(paid["id"])
    pending = flow.place([(world.cup, 1)])
    r = flow.get("/orders?status=paid")
    assert [o["id"] for o in r.get_json()["items"]] == [paid["id"]]
    r = flow.get(f"/orders?customer_id={world.customer_id}&limit=1")
    assert len(r.get_json()["items"]) == 1 and r.get_json()["next_cursor"]
    assert flow.get("/orders?status=lost").status_code == 422
    detail = flow.get(f"/orders/{pending['id']}").get_json()
    assert detail["lines"][0]["title"] == "Longjing / Cup" and detail["payments"] == [] and detail["refunds"] == []


def test_another_shops_orders_and_payments_are_404(flow, world):
    order = flow.place([(world.tea, 1)])
    payment = flow.start_payment(order["id"]).get_json()
    intruder = token_for(ShopFactory())
    c = flow.client
    assert c.get(f"/api/v1/orders/{order['id']}", headers=intruder).status_code == 404
    assert c.get("/api/v1/orders", headers=intruder).get_json()["items"] == []
    for path, body in [
        (f"/api/v1/orders/{order['id']}/cancel", {}),
        (f"/api/v1/orders/{order['id']}/payments", {}),
        (f"/api/v1/payments/{payment['id']}/callback", {"outcome": "succeeded"}),
        (f"/api/v1/orders/{order['id']}/refunds", {"reason": "x"}),
    ]:
        assert c.post(path, json=body, headers=intruder).status_code == 404, path
    assert flow.get(f"/orders/{order['id']}").get_json()["status"] == "pending_payment"


def test_reading_needs_the_orders_scope(flow, world):
    shop = db.session.get(Shop, world.shop_id)
    r = flow.client.get("/api/v1/orders", headers=token_for(shop, ["read_products"]))
    assert r.status_code == 403 and r.get_json()["required_scope"] == "read_orders"
    r = flow.client.post("/api/v1/carts", json={}, headers=token_for(shop, ["read_orders"]))
    assert r.status_code == 403 and r.get_json()["required_scope"] == "write_orders"
