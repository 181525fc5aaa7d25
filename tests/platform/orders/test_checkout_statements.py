"""The SQL statements of a checkout, a payment, a cancel and a restocking refund do not grow with the order's
number of lines, and a short line among many still refuses the whole checkout."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa

from factories import ShopFactory
from souk_platform.benefits.services import create_package, grant_package
from souk_platform.catalog.models import InventoryAdjustment, Sku
from souk_platform.catalog.services import NewSku, create_product
from souk_platform.checkout.services import checkout, create_cart
from souk_platform.customers.services import create_customer
from souk_platform.db import db
from souk_platform.events.models import OutboxEvent
from souk_platform.members.perks import create_member_price
from souk_platform.members.services import save_level_config, set_customer_level
from souk_platform.orders.services import cancel_order, create_refund, settle_payment, start_payment


@contextmanager
def _statements(session: Any) -> Iterator[list[str]]:
    """Every statement sent on the session's connection inside the block (an executemany counts once)."""
    seen: list[str] = []
    connection = session.connection()

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    sa.event.listen(connection, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(connection, "before_cursor_execute", record)


SIZES = (1, 20, 100)


def _sampler(session: Any) -> tuple[str, list[str]]:
    """A shop with 100 SKUs of 50 on hand each: (shop id, SKU ids)."""
    shop = ShopFactory()
    product = create_product(
        session,
        shop_id=shop.id,
        title="Sampler",
        status="active",
        skus=[NewSku(f"S-{i}", f"No. {i}", 100, 50) for i in range(100)],
    )
    session.commit()
    return shop.id, [sku.id for sku in product.skus]


def _cart(session: Any, clock: Any, shop_id: str, sku_ids: list[str]) -> str:
    """A committed guest cart of two units of each SKU."""
    cart = create_cart(
        session,
        shop_id=shop_id,
        customer_id=None,
        lines=[{"sku_id": sku_id, "quantity": 2} for sku_id in sku_ids],
        now=clock.now(),
    )
    session.commit()
    session.expire_all()
    return cart.id


def _checkout(session: Any, clock: Any, shop_id: str, cart_id: str) -> Any:
    return checkout(
        session,
        shop_id=shop_id,
        cart_id=cart_id,
        customer_id=None,
        ip=None,
        coupon_codes=[],
        points_to_spend=0,
        stored_value_to_spend=0,
        now=clock.now(),
    )


def _stock(session: Any, sku_ids: list[str]) -> set[tuple[int, int]]:
    session.expire_all()
    return {
        (on_hand, reserved)
        for on_hand, reserved in session.execute(sa.select(Sku.on_hand, Sku.reserved).where(Sku.id.in_(sku_ids)))
    }


def test_checkout_statements_do_not_grow_with_lines(session, clock):
    shop_id, sku_ids = _sampler(session)
    counts = {}
    for lines in SIZES:
        cart_id = _cart(session, clock, shop_id, sku_ids[:lines])
        with _statements(session) as seen:
            order = _checkout(session, clock, shop_id, cart_id)
            session.flush()
        assert len(order.lines) == lines
        counts[lines] = len(seen)
        session.commit()
    assert counts[1] == counts[20] == counts[100], counts


def _settle(session: Any, clock: Any, shop_id: str, order_id: str) -> int:
    """Pay ``order_id`` through the test provider; the statements of the callback that settles it."""
    payment, _ = start_payment(session, shop_id=shop_id, order_id=order_id, now=clock.now())
    session.commit()
    session.expire_all()
    with _statements(session) as seen:
        settle_payment(
            session, shop_id=shop_id, payment_id=payment.id, callback={"outcome": "succeeded"}, now=clock.now()
        )
        session.flush()
    session.commit()
    return len(seen)


def _pay_once(session: Any, clock: Any, shop_id: str, sku_id: str) -> None:
    """A first paid order opens the shop's ledger accounts, which later payments only read."""
    _settle(session, clock, shop_id, _checkout(session, clock, shop_id, _cart(session, clock, shop_id, [sku_id])).id)


def test_payment_statements_do_not_grow_with_lines_and_sell_every_line(session, clock):
    shop_id, sku_ids = _sampler(session)
    _pay_once(session, clock, shop_id, sku_ids[-1])
    counts = {}
    for lines in SIZES:
        order = _checkout(session, clock, shop_id, _cart(session, clock, shop_id, sku_ids[:lines]))
        session.commit()
        counts[lines] = _settle(session, clock, shop_id, order.id)
        sales = session.scalars(sa.select(InventoryAdjustment).where(InventoryAdjustment.ref == order.id)).all()
        assert sorted((a.sku_id, a.delta, a.reason) for a in sales) == sorted(
            (sku_id, -2, "sale") for sku_id in sku_ids[:lines]
        )
        told = session.scalars(
            sa.select(OutboxEvent).where(
                OutboxEvent.type == "inventory.adjusted", OutboxEvent.subject_id.in_(sku_ids[:lines])
            )
        ).all()
        by_adjustment = {e.payload["adjustment"]["id"]: e.payload for e in told}
        for sale in sales:  # each sale told with the SKU as it was left
            sku = session.get(Sku, sale.sku_id)
            assert by_adjustment[sale.id]["adjustment"]["on_hand_after"] == sale.on_hand_after == sku.on_hand
            assert by_adjustment[sale.id]["sku"]["version"] == sku.version
    assert counts[1] == counts[20] == counts[100], counts
    # Two units per order: the first SKU was in three orders, the next 19 in two, the rest (and the
    # last, also in the first order) in fewer; nothing is left held.
    assert _stock(session, sku_ids[:1]) == {(44, 0)} and _stock(session, sku_ids[1:20]) == {(46, 0)}
    assert _stock(session, sku_ids[20:99]) == {(48, 0)} and _stock(session, sku_ids[99:]) == {(46, 0)}


def test_cancel_statements_do_not_grow_with_lines(session, clock):
    shop_id, sku_ids = _sampler(session)
    counts = {}
    for lines in SIZES:
        order = _checkout(session, clock, shop_id, _cart(session, clock, shop_id, sku_ids[:lines]))
        session.commit()
        session.expire_all()
        with _statements(session) as seen:
            cancel_order(session, shop_id=shop_id, order_id=order.id, reason=None, now=clock.now())
            session.flush()
        session.commit()
        counts[lines] = len(seen)
    assert counts[1] == counts[20] == counts[100], counts
    assert _stock(session, sku_ids) == {(50, 0)}


def test_restocking_refund_statements_do_not_grow_with_lines(session, clock):
    shop_id, sku_ids = _sampler(session)
    _pay_once(session, clock, shop_id, sku_ids[-1])
    counts = {}
    for lines in SIZES:
        order = _checkout(session, clock, shop_id, _cart(session, clock, shop_id, sku_ids[:lines]))
        session.commit()
        _settle(session, clock, shop_id, order.id)
        session.expire_all()
        with _statements(session) as seen:
            refund = create_refund(
                session,
                shop_id=shop_id,
                order_id=order.id,
                amount=None,
                lines=None,
                reason="changed mind",
                restock=True,
                now=clock.now(),
            )
            session.flush()
        session.commit()
        counts[lines] = len(seen)
        returned = session.scalars(sa.select(InventoryAdjustment).where(InventoryAdjustment.ref == refund.id)).all()
        assert sorted((a.sku_id, a.delta, a.reason) for a in returned) == sorted(
            (sku_id, 2, "refund") for sku_id in sku_ids[:lines]
        )
    assert counts[1] == counts[20] == counts[100], counts
    assert _stock(session, sku_ids[:99]) == {(50, 0)} and _stock(session, sku_ids[99:]) == {(48, 0)}


def test_one_short_line_among_many_refuses_the_checkout_and_writes_nothing(flow, world, session):
    product = create_product(
        session,
        shop_id=world.shop_id,
        title="Sampler",
        status="active",
        skus=[NewSku(f"S-{i}", f"No. {i}", 100, 3) for i in range(40)],
    )
    session.commit()
    lines = [(sku.id, 3) for sku in product.skus] + [(world.tea, 1), (world.cup, 6)]
    cart_id = flow.cart(lines)
    before = flow.snapshot()
    r = flow.checkout(cart_id)
    assert r.status_code == 409 and r.get_json()["type"].endswith("/out-of-stock")
    assert r.get_json()["errors"] == {world.cup: ["only 5 available"]}
    assert flow.snapshot() == before
    db.session.expire_all()
    assert flow.checkout(flow.cart(lines[:-1])).status_code == 201
    assert {flow.stock(sku.id) for sku in product.skus} == {(3, 3)}


def test_a_members_checkout_with_level_perks_and_rights_does_not_grow_with_lines(session, clock):
    """Member perks cost three statements (the level configuration, the member prices of the cart's SKUs,
    the benefit rights held) whatever the number of lines; every line gets the cheapest of its perks."""
    shop_id, sku_ids = _sampler(session)
    save_level_config(
        session,
        shop_id=shop_id,
        window_days=365,
        downgrade_period_days=30,
        levels=[{"level": n, "name": f"V{n}", "discount_bps": 1000 if n == 2 else 0} for n in range(1, 6)],
        expected_version=None,
    )
    customer = create_customer(session, shop_id=shop_id, name="member")
    session.flush()
    set_customer_level(session, shop_id=shop_id, customer_id=customer.id, level=2, reason="test", now=clock.now())
    for sku_id in sku_ids[::2]:
        create_member_price(session, shop_id=shop_id, sku_id=sku_id, level=2, price=80)
    # A package right of 15 % off (85) and package prices of 70 for every fourth SKU from the second.
    items = [{"type": "member_discount", "percent_off": 15}]
    items += [{"type": "member_price", "sku_id": sku_id, "price": 70} for sku_id in sku_ids[1:40:4]]
    package = create_package(
        session, shop_id=shop_id, fields={"name": "rights", "trigger": "manual", "trigger_params": {}, "items": items}
    )
    grant_package(session, package=package, customer_id=customer.id, period="manual:1", now=clock.now())
    session.commit()
    counts = {}
    for lines in SIZES:
        cart = create_cart(
            session,
            shop_id=shop_id,
            customer_id=customer.id,
            lines=[{"sku_id": sku_id, "quantity": 2} for sku_id in sku_ids[:lines]],
            now=clock.now(),
        )
        session.commit()
        session.expire_all()
        with _statements(session) as seen:
            order = checkout(
                session,
                shop_id=shop_id,
                cart_id=cart.id,
                customer_id=customer.id,
                ip=None,
                coupon_codes=[],
                points_to_spend=0,
                stored_value_to_spend=0,
                now=clock.now(),
            )
            session.flush()
        counts[lines] = len(seen)
        # even SKUs at the level's member price (80, better than the package's 85), odd ones at the package's
        # price (70) where it has one, else at its 15 % off (85, better than the level's 10 % off)
        assert [line.unit_price for line in order.lines] == [
            80 if i % 2 == 0 else 70 if i < 40 and i % 4 == 1 else 85 for i in range(lines)
        ]
        session.commit()
    assert counts[1] == counts[20] == counts[100], counts
