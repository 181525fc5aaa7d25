"""Races on PostgreSQL with real commits: a cancel (or the expiry job) against a payment callback, and a
refund against a payment of the same customer. One side wins or both succeed; never a 5xx.

Every path locks rows in one order (docs/architecture.md §5.3): the order, its payments, its
customer, then the rest. In opposite orders they deadlocked and one side answered 500.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
import sqlalchemy as sa
from flask import Flask
from races import race

from souk_platform.catalog.models import Sku
from souk_platform.catalog.services import NewSku, create_product
from souk_platform.db import db
from souk_platform.ledger.services import balance_of, check_invariants
from souk_platform.orders.models import Order, Payment
from souk_platform.orders.services import cancel_expired_orders

from .conftest import World, build_world

PAIRS = 15
ON_HAND = 100
POINTS_SPENT = 50
STORED_VALUE_SPENT = 500


def _setup(app: Flask, **tenders: int) -> tuple[World, str]:
    """A shop, a customer with points and stored value (``tenders`` overrides how much) and a SKU of 100."""
    clock = app.extensions["souk.clock"]
    world = build_world(db.session, clock, **tenders)
    product = create_product(
        db.session,
        shop_id=world.shop_id,
        title="Gaiwan",
        status="active",
        skus=[NewSku(code="GAIWAN", title="Gaiwan", price=5000, on_hand=ON_HAND)],
    )
    db.session.commit()
    return world, product.skus[0].id


def _pending_order(app: Flask, world: World, sku_id: str) -> tuple[str, str]:
    """A checked-out order (spending points and stored value) with a pending payment: (order id, payment id)."""
    client = app.test_client()
    body = {"lines": [{"sku_id": sku_id, "quantity": 1}], "customer_id": world.customer_id}
    r = client.post("/api/v1/carts", json=body, headers=world.headers)
    assert r.status_code == 201, r.get_json()
    r = client.post(
        f"/api/v1/carts/{r.get_json()['id']}/checkout",
        json={"points": POINTS_SPENT, "stored_value": STORED_VALUE_SPENT},
        headers=world.headers,
    )
    assert r.status_code == 201, r.get_json()
    order_id = r.get_json()["id"]
    r = client.post(f"/api/v1/orders/{order_id}/payments", json={}, headers=world.headers)
    assert r.status_code == 201 and r.get_json()["status"] == "pending", r.get_json()
    return order_id, r.get_json()["id"]


def _balances(world: World) -> dict[str, int]:
    def balance(kind: str, owner_id: str, unit: str) -> int:
        return balance_of(db.session, shop_id=world.shop_id, kind=kind, owner_id=owner_id, unit=unit)

    return {
        "shop": balance("shop.balance", world.shop_id, "CNY"),
        "stored_value": balance("customer.stored_value", world.customer_id, "CNY"),
        "points": balance("customer.points", world.customer_id, "PTS"),
    }


def _assert_consistent(world: World, sku_id: str, order_ids: list[str], *, before: dict[str, int]) -> int:
    """Each order is paid (payment succeeded) or cancelled (payment failed, spent tenders back); the
    ledger, stock and balances add up exactly. Returns how many were paid."""
    s = db.session
    s.expire_all()
    orders = list(s.scalars(sa.select(Order).where(Order.id.in_(order_ids))))
    paid = [o for o in orders if o.status == "paid"]
    for order in orders:
        payments = list(s.scalars(sa.select(Payment.status).where(Payment.order_id == order.id)))
        assert (order.status, payments) in (("paid", ["succeeded"]), ("cancelled", ["failed"])), order.id
    sku = s.get(Sku, sku_id)
    assert sku is not None
    assert (sku.on_hand, sku.reserved) == (ON_HAND - len(paid), 0)
    assert _balances(world) == {
        "shop": before["shop"] + sum(o.total for o in paid),
        "stored_value": before["stored_value"] - STORED_VALUE_SPENT * len(paid),
        "points": before["points"] - POINTS_SPENT * len(paid) + sum(o.points_earned for o in paid),
    }
    assert check_invariants(s) == []
    return len(paid)


@pytest.mark.concurrency
def test_cancel_racing_the_payment_callback_never_deadlocks(app):
    with app.app_context():
        world, sku_id = _setup(app)
        before = _balances(world)
        db.session.remove()

    order_ids = []
    for _ in range(PAIRS):
        with app.app_context():
            order_id, payment_id = _pending_order(app, world, sku_id)
            db.session.remove()
        order_ids.append(order_id)

        def cancel(order_id: str = order_id) -> int:
            r = app.test_client().post(f"/api/v1/orders/{order_id}/cancel", json={}, headers=world.headers)
            return int(r.status_code)

        def callback(payment_id: str = payment_id) -> int:
            r = app.test_client().post(
                f"/api/v1/payments/{payment_id}/callback", json={"outcome": "succeeded"}, headers=world.headers
            )
            return int(r.status_code)

        # Exactly one side wins; the loser is told why with a 409, never a 5xx.
        assert sorted(race(cancel, callback, app=app)) == [200, 409]

    with app.app_context():
        _assert_consistent(world, sku_id, order_ids, before=before)
        db.session.remove()


@pytest.mark.concurrency
def test_expiry_job_racing_payment_callbacks_never_deadlocks(app):
    with app.app_context():
        world, sku_id = _setup(app)
        before = _balances(world)
        pending = [_pending_order(app, world, sku_id) for _ in range(PAIRS)]
        db.session.remove()
    order_ids = [order_id for order_id, _ in pending]
    # The job runs as if every reservation had run out, while each payment's success arrives.
    after_expiry = app.extensions["souk.clock"].now() + dt.timedelta(days=1)

    def expire() -> int:
        return cancel_expired_orders(db.session, now=after_expiry)

    def callback(payment_id: str) -> Callable[[], int]:
        def post() -> int:
            r = app.test_client().post(
                f"/api/v1/payments/{payment_id}/callback", json={"outcome": "succeeded"}, headers=world.headers
            )
            return int(r.status_code)

        return post

    results = race(expire, *(callback(payment_id) for _, payment_id in pending), app=app)
    swept, statuses = results[0], results[1:]
    assert set(statuses) <= {200, 409}

    with app.app_context():
        # The job sweeps every shop, so it may also cancel what earlier tests in this database left
        # pending: count this test's own orders.
        cancelled = db.session.scalar(
            sa.select(sa.func.count()).select_from(Order).where(Order.id.in_(order_ids), Order.status == "cancelled")
        )
        assert swept >= cancelled
        assert statuses.count(409) == cancelled  # a callback loses only to the job having cancelled its order
        paid = _assert_consistent(world, sku_id, order_ids, before=before)
        assert paid + cancelled == PAIRS
        db.session.remove()


@pytest.mark.concurrency
def test_refunds_racing_payments_of_the_same_customer_never_deadlock(app):
    # Orders paid in points and stored value only: paying one locks the customer then their points
    # account, refunding another gave the points back before recording the refund on the customer.
    orders_each = 8
    with app.app_context():
        world, sku_id = _setup(app, points=10_000, stored_value=200_000)
        client = app.test_client()

        def place() -> str:
            body = {"lines": [{"sku_id": sku_id, "quantity": 1}], "customer_id": world.customer_id}
            cart = client.post("/api/v1/carts", json=body, headers=world.headers).get_json()["id"]
            r = client.post(
                f"/api/v1/carts/{cart}/checkout", json={"points": 100, "stored_value": 4900}, headers=world.headers
            )
            assert r.status_code == 201 and r.get_json()["total"] == 0, r.get_json()
            return str(r.get_json()["id"])

        def pay(order_id: str) -> int:
            r = app.test_client().post(f"/api/v1/orders/{order_id}/payments", json={}, headers=world.headers)
            return int(r.status_code)

        def refund(order_id: str) -> int:
            r = app.test_client().post(
                f"/api/v1/orders/{order_id}/refunds", json={"reason": "race"}, headers=world.headers
            )
            return int(r.status_code)

        paid = [place() for _ in range(orders_each)]
        for order_id in paid:
            assert pay(order_id) == 201
        unpaid = [place() for _ in range(orders_each)]
        db.session.remove()

    statuses = race(
        *(lambda o=order_id: refund(o) for order_id in paid),
        *(lambda o=order_id: pay(o) for order_id in unpaid),
        app=app,
    )
    assert statuses == [201] * (2 * orders_each)
    with app.app_context():
        s = db.session
        statuses_now = dict(s.execute(sa.select(Order.id, Order.status).where(Order.id.in_(paid + unpaid))).all())
        assert {statuses_now[o] for o in paid + unpaid} == {"paid"}
        refunded = s.scalars(sa.select(Order.refunded_total).where(Order.id.in_(paid))).all()
        assert refunded == [4900] * orders_each
        assert check_invariants(s) == []
        db.session.remove()


@pytest.mark.concurrency
def test_restocking_refunds_racing_checkouts_of_the_same_customer_never_deadlock(app):
    # A checkout reserves stock, then spends points; a restocking refund gave points back, then
    # returned the stock.
    orders_each = 8
    with app.app_context():
        world, sku_id = _setup(app, points=10_000, stored_value=200_000)
        client = app.test_client()

        def cart() -> str:
            body = {"lines": [{"sku_id": sku_id, "quantity": 1}], "customer_id": world.customer_id}
            return str(client.post("/api/v1/carts", json=body, headers=world.headers).get_json()["id"])

        def checkout(cart_id: str) -> int:
            r = app.test_client().post(
                f"/api/v1/carts/{cart_id}/checkout", json={"points": 100, "stored_value": 4900}, headers=world.headers
            )
            return int(r.status_code)

        def refund(order_id: str) -> int:
            r = app.test_client().post(
                f"/api/v1/orders/{order_id}/refunds", json={"reason": "race", "restock": True}, headers=world.headers
            )
            return int(r.status_code)

        paid = []
        for _ in range(orders_each):
            r = client.post(
                f"/api/v1/carts/{cart()}/checkout", json={"points": 100, "stored_value": 4900}, headers=world.headers
            )
            order_id = r.get_json()["id"]
            assert client.post(f"/api/v1/orders/{order_id}/payments", json={}, headers=world.headers).status_code == 201
            paid.append(order_id)
        carts = [cart() for _ in range(orders_each)]
        db.session.remove()

    statuses = race(
        *(lambda o=order_id: refund(o) for order_id in paid),
        *(lambda c=cart_id: checkout(c) for cart_id in carts),
        app=app,
    )
    assert statuses == [201] * (2 * orders_each)
    with app.app_context():
        sku = db.session.get(Sku, sku_id)
        assert sku is not None
        # 8 sold and given back, 8 reserved by the new checkouts
        assert (sku.on_hand, sku.reserved) == (ON_HAND, orders_each)
        assert check_invariants(db.session) == []
        db.session.remove()
