"""Reserving and releasing many lines at once: the same outcomes on PostgreSQL and on SQLite (embedded)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa

from factories import ShopFactory
from souk_platform.catalog.models import Sku, StockReservation
from souk_platform.catalog.services import (
    NewSku,
    _lock_skus,
    _shift_reserved,
    create_product,
    release_stock,
    reserve_stock,
)
from souk_platform.core.errors import OutOfStock
from souk_platform.db import db
from souk_platform.events.models import OutboxEvent

LATER = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)


def _stock(session: Any, sku_ids: list[str]) -> list[tuple[int, int, int]]:
    session.expire_all()
    skus = {sku.id: sku for sku in session.scalars(sa.select(Sku).where(Sku.id.in_(sku_ids)))}
    return [(skus[i].on_hand, skus[i].reserved, skus[i].version) for i in sku_ids]


def _shop_with_skus(session: Any, on_hands: list[int]) -> tuple[str, list[str]]:
    shop = ShopFactory()
    product = create_product(
        session,
        shop_id=shop.id,
        title="Sampler",
        status="active",
        skus=[NewSku(f"S-{i}", f"No. {i}", 1000, on_hand) for i, on_hand in enumerate(on_hands)],
    )
    session.commit()
    by_code = {sku.code: sku.id for sku in product.skus}
    return shop.id, [by_code[f"S-{i}"] for i in range(len(on_hands))]


def _many_lines_scenario(session: Any) -> None:
    """Thirty lines, one of them short: refused naming that line alone, nothing moved; then all reserved
    exactly (``reserved`` and ``version`` as the event says), then released exactly."""
    shop_id, sku_ids = _shop_with_skus(session, [5] * 30)
    before = _stock(session, sku_ids)
    wanted = {sku_id: 1 + n % 3 for n, sku_id in enumerate(sku_ids)}
    short = sku_ids[17]
    with pytest.raises(OutOfStock) as refused:
        reserve_stock(session, shop_id=shop_id, ref="ord_many", quantities={**wanted, short: 6}, expires_at=LATER)
    assert refused.value.errors == {short: ["only 5 available"]}
    session.rollback()
    assert _stock(session, sku_ids) == before

    reserve_stock(session, shop_id=shop_id, ref="ord_many", quantities=wanted, expires_at=LATER)
    session.flush()
    event = session.scalars(
        sa.select(OutboxEvent).where(OutboxEvent.subject_id == "ord_many", OutboxEvent.type == "stock.reserved")
    ).one()
    told = {line["sku_id"]: (line["sku"]["reserved"], line["sku"]["version"]) for line in event.payload["lines"]}
    after = _stock(session, sku_ids)
    assert after == [(5, wanted[i], version + 1) for i, (_, _, version) in zip(sku_ids, before, strict=True)]
    assert told == {i: (reserved, version) for i, (_, reserved, version) in zip(sku_ids, after, strict=True)}
    holds = session.scalar(
        sa.select(sa.func.count()).select_from(StockReservation).where(StockReservation.ref == "ord_many")
    )
    assert holds == 30

    release_stock(session, shop_id=shop_id, ref="ord_many")
    session.flush()
    assert _stock(session, sku_ids) == [(5, 0, version + 2) for _, _, version in before]


def _guard_scenario(session: Any) -> None:
    """The one-statement move names exactly the lines that would break ``0 <= reserved <= on_hand`` and
    leaves those rows as they were, while moving the others."""
    shop_id, sku_ids = _shop_with_skus(session, [3, 3, 3, 3])
    skus = _lock_skus(session, shop_id, sku_ids)
    short = _shift_reserved(session, skus, {sku_ids[0]: 3, sku_ids[1]: 4, sku_ids[2]: -1, sku_ids[3]: 1})
    assert short == sorted([sku_ids[1], sku_ids[2]])
    assert [reserved for _, reserved, _ in _stock(session, sku_ids)] == [3, 0, 0, 1]


def test_many_lines_on_postgresql(session):
    _many_lines_scenario(session)


def test_guard_on_postgresql(session):
    _guard_scenario(session)


@pytest.mark.embedded
def test_many_lines_on_sqlite(embedded_app):
    with embedded_app.app_context():
        try:
            _many_lines_scenario(db.session)
        finally:
            db.session.rollback()
            db.session.remove()


@pytest.mark.embedded
def test_guard_on_sqlite(embedded_app):
    with embedded_app.app_context():
        try:
            _guard_scenario(db.session)
        finally:
            db.session.rollback()
            db.session.remove()
