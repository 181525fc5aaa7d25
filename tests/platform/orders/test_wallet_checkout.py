"""An issued coupon at checkout: only its holder may use it; held at checkout, used at payment, given back
on cancel and on a full refund; two parallel checkouts with one wallet coupon — one wins (PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest
import sqlalchemy as sa

from souk_platform.coupons.models import CustomerCoupon
from souk_platform.coupons.services import create_coupon
from souk_platform.coupons.wallet import issue_coupon
from souk_platform.customers.services import create_customer
from souk_platform.db import db
from souk_platform.events.models import OutboxEvent

from .conftest import Flow, World, build_world


def _wallet_coupon(session: Any, world: World, clock: Any, *, holder: str | None = None, **fields: Any) -> str:
    coupon = create_coupon(
        session,
        shop_id=world.shop_id,
        fields={"code": "VIP15", "name": "VIP ¥15", "kind": "fixed", "value": 1500, "distribution": "issued", **fields},
    )
    issue_coupon(
        session,
        shop_id=world.shop_id,
        coupon_id=coupon.id,
        customer_id=holder or world.customer_id,
        source="api",
        source_id="test",
        now=clock.now(),
    )
    session.commit()
    return coupon.id


def _entry(coupon_id: str) -> CustomerCoupon:
    db.session.expire_all()
    entry = db.session.scalar(sa.select(CustomerCoupon).where(CustomerCoupon.coupon_id == coupon_id))
    assert entry is not None
    return entry


def test_the_holder_uses_it_and_payment_marks_it_used(session, world, flow, clock):
    coupon_id = _wallet_coupon(session, world, clock)
    order = flow.place([(world.tea, 1)], coupon_codes=["vip15"])
    assert order["discount_total"] == 1500
    entry = _entry(coupon_id)
    assert (entry.status, entry.order_id) == ("reserved", order["id"])
    flow.pay(order["id"])
    entry = _entry(coupon_id)
    assert (entry.status, entry.used_at) == ("used", clock.now())
    used = session.scalars(sa.select(OutboxEvent).where(OutboxEvent.type == "coupon.used")).all()
    assert [e.subject_id for e in used] == [entry.id]
    # The one entry is spent: the holder cannot use the code again.
    r = flow.checkout(flow.cart([(world.tea, 1)]), coupon_codes=["VIP15"])
    assert r.status_code == 422 and "holds no unused one" in r.get_json()["detail"]


def test_anyone_else_gets_a_clear_422_and_nothing_is_written(session, world, flow, clock):
    stranger = create_customer(session, shop_id=world.shop_id, name="路人", phone="13800000002")
    session.commit()
    _wallet_coupon(session, world, clock)
    before = flow.snapshot()
    r = flow.client.post(
        "/api/v1/carts",
        json={"lines": [{"sku_id": world.tea, "quantity": 1}], "customer_id": stranger.id},
        headers=world.headers,
    )
    r = flow.checkout(r.get_json()["id"], coupon_codes=["VIP15"])
    assert r.status_code == 422
    assert r.get_json()["type"].endswith("/coupon-not-applicable")
    assert "issued to particular customers" in r.get_json()["errors"]["coupon_codes.0"][0]
    r = flow.checkout(flow.cart([(world.tea, 1)], customer=False), coupon_codes=["VIP15"])  # a guest
    assert r.status_code == 422
    assert flow.snapshot() == before


def test_cancel_gives_it_back_and_a_full_refund_returns_it(session, world, flow, clock):
    coupon_id = _wallet_coupon(session, world, clock)
    order = flow.place([(world.tea, 1)], coupon_codes=["VIP15"])
    r = flow.post(f"/orders/{order['id']}/cancel", {"reason": "changed mind"})
    assert r.status_code == 200, r.get_json()
    entry = _entry(coupon_id)
    assert (entry.status, entry.order_id) == ("issued", None)

    order = flow.place([(world.tea, 2)], coupon_codes=["VIP15"])
    flow.pay(order["id"])
    r = flow.post(f"/orders/{order['id']}/refunds", {"amount": 1000, "reason": "dented"}, {"Idempotency-Key": "r1"})
    assert r.status_code == 201, r.get_json()
    assert _entry(coupon_id).status == "used"  # a partial refund keeps it used
    r = flow.post(f"/orders/{order['id']}/refunds", {"reason": "all back"}, {"Idempotency-Key": "r2"})
    assert r.status_code == 201, r.get_json()
    entry = _entry(coupon_id)
    assert (entry.status, entry.order_id, entry.used_at) == ("issued", None, None)
    returned = session.scalars(sa.select(OutboxEvent).where(OutboxEvent.type == "coupon.returned")).all()
    assert [e.subject_id for e in returned] == [entry.id]


def test_a_coupon_given_back_after_its_expiry_expires(session, world, flow, clock):
    coupon_id = _wallet_coupon(session, world, clock, valid_days=1)
    order = flow.place([(world.tea, 1)], coupon_codes=["VIP15"])
    clock.advance(days=2)
    r = flow.post(f"/orders/{order['id']}/cancel", {"reason": "late"})
    assert r.status_code == 200, r.get_json()
    assert _entry(coupon_id).status == "expired"


@pytest.mark.concurrency
def test_two_parallel_checkouts_with_one_wallet_coupon_one_wins(app):
    from souk_platform.core.clock import FrozenClock

    clock = FrozenClock(dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC))
    with app.app_context():
        world = build_world(db.session, clock, points=0, stored_value=0)
        coupon_id = _wallet_coupon(db.session, world, clock)
        flow = Flow(app.test_client(), world)
        carts = [flow.cart([(world.tea, 1)]) for _ in range(2)]
        db.session.remove()
    statuses: list[int] = []
    crashed: list[str] = []
    start = threading.Barrier(len(carts))

    def buyer(cart_id: str) -> None:
        with app.app_context():
            try:
                start.wait()
                r = app.test_client().post(
                    f"/api/v1/carts/{cart_id}/checkout", json={"coupon_codes": ["VIP15"]}, headers=world.headers
                )
                if r.status_code == 422:
                    assert r.get_json()["type"].endswith("/coupon-not-applicable"), r.get_json()
                statuses.append(r.status_code)
            except Exception as exc:  # surfaced below: a crashed thread must fail the test
                crashed.append(repr(exc))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=buyer, args=(cart_id,)) for cart_id in carts]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert crashed == []
    assert sorted(statuses) == [201, 422]
    with app.app_context():
        entries = db.session.scalars(sa.select(CustomerCoupon).where(CustomerCoupon.coupon_id == coupon_id)).all()
        assert [e.status for e in entries] == ["reserved"]
        db.session.remove()
