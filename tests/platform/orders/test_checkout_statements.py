"""A checkout's SQL statements do not grow with its number of lines, and a short line among many still
refuses the whole checkout."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa

from factories import ShopFactory
from souk_platform.catalog.services import NewSku, create_product
from souk_platform.checkout.services import checkout, create_cart
from souk_platform.db import db


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


def test_checkout_statements_do_not_grow_with_lines(session, clock):
    shop = ShopFactory()
    product = create_product(
        session,
        shop_id=shop.id,
        title="Sampler",
        status="active",
        skus=[NewSku(f"S-{i}", f"No. {i}", 100, 50) for i in range(100)],
    )
    session.commit()
    sku_ids = [sku.id for sku in product.skus]
    counts = {}
    for lines in (1, 20, 100):
        cart = create_cart(
            session,
            shop_id=shop.id,
            customer_id=None,
            lines=[{"sku_id": sku_id, "quantity": 2} for sku_id in sku_ids[:lines]],
            now=clock.now(),
        )
        session.commit()
        session.expire_all()
        with _statements(session) as seen:
            order = checkout(
                session,
                shop_id=shop.id,
                cart_id=cart.id,
                customer_id=None,
                ip=None,
                coupon_codes=[],
                points_to_spend=0,
                stored_value_to_spend=0,
                now=clock.now(),
            )
            session.flush()
        assert len(order.lines) == lines
        counts[lines] = len(seen)
    assert counts[1] == counts[20] == counts[100], counts


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
