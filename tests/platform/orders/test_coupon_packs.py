"""付费券包: a pack is bought as an order, paid through the real payment path (its coupons land in the
wallet), refundable in full within its window while none of its coupons was used; the last pack in stock
goes to one of two parallel buyers (PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest
import sqlalchemy as sa

from factories import ShopFactory, token_for
from souk_platform.coupons.models import CouponPack, CouponPackPurchase, CustomerCoupon
from souk_platform.coupons.services import create_coupon
from souk_platform.customers.services import create_customer
from souk_platform.db import db
from souk_platform.events.models import OutboxEvent
from souk_platform.shops.models import Shop

from .conftest import Flow, World, build_world


def _issued_coupons(session: Any, world: World) -> tuple[str, str]:
    ids = []
    for code, value in (("PACK5", 500), ("PACK20", 2000)):
        coupon = create_coupon(
            session,
            shop_id=world.shop_id,
            fields={"code": code, "name": code, "kind": "fixed", "value": value, "distribution": "issued"},
        )
        ids.append(coupon.id)
    session.commit()
    return ids[0], ids[1]


def _pack(flow: Flow, five: str, twenty: str, **fields: Any) -> dict[str, Any]:
    body = {
        "name": "超值券包 ¥30 of coupons",
        "price": 990,
        "items": [{"coupon_id": five, "quantity": 2}, {"coupon_id": twenty, "quantity": 1}],
        **fields,
    }
    r = flow.post("/coupon-packs", body)
    assert r.status_code == 201, r.get_json()
    return dict(r.get_json())


def _buy(flow: Flow, pack_id: str, key: str, customer_id: str | None = None) -> Any:
    return flow.post(
        f"/coupon-packs/{pack_id}/purchases",
        {"customer_id": customer_id or flow.world.customer_id},
        {"Idempotency-Key": key},
    )


def _wallet(session: Any, world: World) -> list[tuple[str, str]]:
    session.expire_all()
    rows = session.execute(
        sa.select(CustomerCoupon.source_id, CustomerCoupon.status)
        .where(CustomerCoupon.customer_id == world.customer_id)
        .order_by(CustomerCoupon.source_id, CustomerCoupon.coupon_id)
    )
    return [(source_id.split(":")[1], status) for source_id, status in rows]


def _events(session: Any, type: str) -> list[OutboxEvent]:
    return list(session.scalars(sa.select(OutboxEvent).where(OutboxEvent.type == type)))


def test_a_pack_is_paid_like_an_order_and_its_coupons_land_in_the_wallet(session, world, flow):
    five, twenty = _issued_coupons(session, world)
    pack = _pack(flow, five, twenty, stock=10)
    before = flow.balances()["shop_balance"]
    r = _buy(flow, pack["id"], "buy-1")
    assert r.status_code == 201, r.get_json()
    purchase = r.get_json()
    assert (purchase["status"], purchase["price"]) == ("pending", 990)
    assert _buy(flow, pack["id"], "buy-1").get_json()["id"] == purchase["id"]  # a replay buys nothing more
    order = flow.get(f"/orders/{purchase['order_id']}").get_json()
    assert (order["status"], order["total"], order["customer_id"]) == ("pending_payment", 990, world.customer_id)
    assert _wallet(session, world) == []  # nothing before payment
    payment = flow.pay(purchase["order_id"])
    assert flow.callback(payment["id"]).status_code == 200  # the provider calls back twice
    assert sorted(_wallet(session, world)) == [("1", "issued"), ("1", "issued"), ("2", "issued")]
    assert flow.balances()["shop_balance"] == before + 990  # the money moved through the ledger
    bought = session.scalars(sa.select(CouponPackPurchase)).one()
    assert (bought.status, bought.problems) == ("paid", [])
    assert [e.payload["purchase"]["id"] for e in _events(session, "coupon_pack.purchased")] == [purchase["id"]]
    assert flow.get(f"/coupon-packs/{pack['id']}").get_json()["sold"] == 1
    # The coupons work at checkout for their holder.
    placed = flow.place([(world.tea, 1)], coupon_codes=["PACK20"])
    assert placed["discount_total"] == 2000


def test_refunds_are_whole_within_the_window_and_only_while_no_coupon_was_used(session, world, flow, clock):
    five, twenty = _issued_coupons(session, world)
    pack = _pack(flow, five, twenty, refund_days=3)
    first = _buy(flow, pack["id"], "b1").get_json()
    flow.pay(first["order_id"])
    r = flow.post(f"/orders/{first['order_id']}/refunds", {"amount": 100, "reason": "part"}, {"Idempotency-Key": "p"})
    assert r.status_code == 409 and r.get_json()["type"].endswith("/coupon-pack-not-refundable")
    r = flow.post(f"/orders/{first['order_id']}/refunds", {"reason": "changed mind"}, {"Idempotency-Key": "f"})
    assert r.status_code == 201, r.get_json()
    assert sorted(s for _, s in _wallet(session, world)) == ["revoked"] * 3
    assert [e.payload["purchase"]["status"] for e in _events(session, "coupon_pack.refunded")] == ["refunded"]
    assert flow.get(f"/coupon-packs/{pack['id']}").get_json()["sold"] == 0  # back on sale

    second = _buy(flow, pack["id"], "b2").get_json()
    flow.pay(second["order_id"])
    flow.place([(world.tea, 1)], coupon_codes=["PACK5"])  # one coupon held by an order
    before = flow.snapshot()
    r = flow.post(f"/orders/{second['order_id']}/refunds", {"reason": "used one"}, {"Idempotency-Key": "u"})
    assert r.status_code == 409 and "have been used" in r.get_json()["detail"]
    assert flow.snapshot() == before

    third = _buy(flow, pack["id"], "b3").get_json()
    flow.pay(third["order_id"])
    clock.advance(days=4)
    r = flow.post(f"/orders/{third['order_id']}/refunds", {"reason": "late"}, {"Idempotency-Key": "l"})
    assert r.status_code == 409 and "within 3 days" in r.get_json()["detail"]


def test_stock_limits_windows_and_cancels(session, world, flow, clock):
    five, twenty = _issued_coupons(session, world)
    pack = _pack(flow, five, twenty, stock=2, per_customer_limit=1)
    other = create_customer(session, shop_id=world.shop_id, name="李雷", phone="13800000009")
    third = create_customer(session, shop_id=world.shop_id, name="韩梅梅", phone="13800000010")
    session.commit()
    first = _buy(flow, pack["id"], "k1").get_json()
    r = _buy(flow, pack["id"], "k2")
    assert r.status_code == 409 and "most allowed" in r.get_json()["detail"]
    assert _buy(flow, pack["id"], "k3", other.id).status_code == 201
    r = _buy(flow, pack["id"], "k4", third.id)
    assert r.status_code == 409 and "sold out" in r.get_json()["detail"]
    assert flow.post(f"/orders/{first['order_id']}/cancel", {}).status_code == 200  # gives its pack back
    assert _buy(flow, pack["id"], "k5", third.id).status_code == 201
    later = _pack(flow, five, twenty, sale_starts_at=(clock.now() + dt.timedelta(days=1)).isoformat())
    r = _buy(flow, later["id"], "k6")
    assert r.status_code == 409 and "on sale from" in r.get_json()["detail"]


def test_bad_packs_and_purchases_are_refused_and_write_nothing(session, world, flow):
    five, twenty = _issued_coupons(session, world)
    public = create_coupon(
        session, shop_id=world.shop_id, fields={"code": "PUB", "name": "p", "kind": "fixed", "value": 1}
    ).id
    theirs_shop = ShopFactory()
    theirs = create_coupon(
        session,
        shop_id=theirs_shop.id,
        fields={"code": "T", "name": "t", "kind": "fixed", "value": 1, "distribution": "issued"},
    ).id
    theirs_shop_id = theirs_shop.id
    session.commit()
    for items, field in (
        ([{"coupon_id": public, "quantity": 1}], "items.0.coupon_id"),
        ([{"coupon_id": theirs, "quantity": 1}], "items.0.coupon_id"),
        ([{"coupon_id": five, "quantity": 1}, {"coupon_id": five, "quantity": 2}], "items"),
    ):
        r = flow.post("/coupon-packs", {"name": "x", "price": 100, "items": items})
        assert r.status_code == 422 and field in r.get_json()["errors"], r.get_json()
    r = flow.post(
        "/coupon-packs", {"name": "x", "price": 100, "currency": "USD", "items": [{"coupon_id": five, "quantity": 1}]}
    )
    assert r.status_code == 422 and "currency" in r.get_json()["errors"]
    for bad in ({"name": "x", "price": 0, "items": []}, {"name": "x", "price": 1.5, "items": [{"coupon_id": five}]}):
        assert flow.post("/coupon-packs", bad).status_code == 422
    assert session.scalar(sa.select(sa.func.count()).select_from(CouponPack)) == 0
    pack = _pack(flow, five, twenty)
    assert _buy(flow, pack["id"], "x1", "cus_nobody").status_code == 404
    r = flow.client.post(
        f"/api/v1/coupon-packs/{pack['id']}/purchases",
        json={"customer_id": world.customer_id},
        headers={**token_for(session.get(Shop, theirs_shop_id)), "Idempotency-Key": "x2"},
    )
    assert r.status_code == 404
    assert session.scalar(sa.select(sa.func.count()).select_from(CouponPackPurchase)) == 0


@pytest.mark.concurrency
def test_the_last_pack_in_stock_goes_to_one_of_two_parallel_buyers(app):
    from souk_platform.core.clock import FrozenClock

    clock = FrozenClock(dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC))
    with app.app_context():
        world = build_world(db.session, clock, points=0, stored_value=0)
        other = create_customer(db.session, shop_id=world.shop_id, name="李雷", phone="13800000009")
        db.session.commit()
        buyers = [world.customer_id, other.id]
        flow = Flow(app.test_client(), world)
        five, twenty = _issued_coupons(db.session, world)
        pack = _pack(flow, five, twenty, stock=1)
        db.session.remove()
    statuses: list[int] = []
    crashed: list[str] = []
    start = threading.Barrier(2)

    def buy(customer_id: str) -> None:
        with app.app_context():
            try:
                start.wait()
                r = app.test_client().post(
                    f"/api/v1/coupon-packs/{pack['id']}/purchases",
                    json={"customer_id": customer_id},
                    headers={**world.headers, "Idempotency-Key": f"race-{customer_id}"},
                )
                statuses.append(r.status_code)
            except Exception as exc:  # surfaced below: a crashed thread must fail the test
                crashed.append(repr(exc))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=buy, args=(c,)) for c in buyers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert crashed == []
    assert sorted(statuses) == [201, 409]
    with app.app_context():
        assert db.session.get(CouponPack, pack["id"]).sold == 1
        assert db.session.scalar(sa.select(sa.func.count()).select_from(CouponPackPurchase)) == 1
        db.session.remove()
