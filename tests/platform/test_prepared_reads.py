"""``PreparedRead``: the hot reads' rows are SQLAlchemy's rows, on PostgreSQL and SQLite (docs/architecture.md §4.9)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from factories import ShopFactory
from souk_platform.catalog.models import Product
from souk_platform.catalog.services import NewSku, create_product, list_products_stmt, product_rows
from souk_platform.db import db
from souk_platform.prepared import PreparedRead, id_array
from souk_platform.shops.models import Shop
from souk_platform.shops.services import SHOP_COLUMNS, get_shop_row

pytestmark = pytest.mark.usefixtures("session")


def test_a_prepared_row_is_the_row_sqlalchemy_reads_in_utc_whatever_the_server_zone(session: Any) -> None:
    shop = ShopFactory(name="Zoned 茶", settings={"points_per_yuan": 2})
    session.flush()
    session.connection().exec_driver_sql("SET TIME ZONE 'Asia/Shanghai'")  # the driver then returns +08:00
    try:
        expected = session.execute(sa.select(*SHOP_COLUMNS).where(Shop.id == shop.id)).one()
        row = get_shop_row(session, shop.id)
    finally:
        session.connection().exec_driver_sql("RESET TIME ZONE")  # the pooled connection outlives the test
    assert row._fields == tuple(expected._fields)
    assert tuple(row) == tuple(expected)
    assert row.created_at.utcoffset() == dt.timedelta(0) and row.created_at.isoformat().endswith("+00:00")
    assert row.settings == {"points_per_yuan": 2} and row.name == "Zoned 茶"


def test_it_sees_what_the_session_wrote_and_has_not_committed(session: Any) -> None:
    shop = ShopFactory()
    session.flush()
    read = PreparedRead(sa.select(Shop.id, Shop.version).where(Shop.id == sa.bindparam("shop_id")))
    assert read.first(session, {"shop_id": shop.id}) == (shop.id, 1)
    assert read.first(session, {"shop_id": "shp_none"}) is None


def test_an_id_array_matches_like_an_in_list_and_an_empty_one_matches_nothing(session: Any) -> None:
    shops = [ShopFactory() for _ in range(3)]
    session.flush()
    read = PreparedRead(
        sa.select(Shop.id).where(Shop.id.in_(sa.bindparam("ids", expanding=True))).order_by(Shop.id),
        postgresql=sa.select(Shop.id).where(Shop.id == sa.any_(id_array("ids"))).order_by(Shop.id),
    )
    wanted = sorted(shop.id for shop in shops[:2])
    assert [row.id for row in read.all(session, {"ids": wanted})] == wanted
    assert read.all(session, {"ids": []}) == []


def test_the_postgresql_form_must_select_the_same_columns() -> None:
    with pytest.raises(ValueError, match="same columns"):
        PreparedRead(sa.select(Shop.id), postgresql=sa.select(Shop.name))


def _catalog(session: Any) -> tuple[str, dict[str, str]]:
    shop = ShopFactory()
    ids = {}
    for n, (title, status) in enumerate(
        [("Longjing 250g", "active"), ("LONGJING gift", "draft"), ("100% pure", "active"), ("a_b tea", "active")]
    ):
        product = create_product(
            session,
            shop_id=shop.id,
            title=title,
            status=status,
            skus=[NewSku(f"P-{n}", "1", 100 + n, 5)],
            tags=["gift"] if title == "100% pure" else [],
        )
        ids[title] = product.id
    session.flush()
    return shop.id, ids


FILTERS: list[dict[str, Any]] = [
    {},
    {"status": "active"},
    {"q": "longjing"},
    {"q": "%"},  # a literal %, not a wildcard
    {"q": "a_b"},  # a literal _
    {"q": "longjing", "status": "draft"},
    {"tag": "gift"},
    {"tag": "none"},
    {"category_ids": []},
]


def _same_rows_both_ways(session: Any, shop_id: str, filters: dict[str, Any]) -> None:
    expected = [
        row.id
        for row in session.execute(list_products_stmt(shop_id, **filters).order_by(Product.id.desc()).limit(2 + 1))
    ]
    first = product_rows(session, shop_id, **filters, limit=3, after_id=None)
    assert [row.id for row in first] == expected, filters
    if first:
        rest = product_rows(session, shop_id, **filters, limit=250, after_id=first[0].id)
        assert [row.id for row in rest] == [
            row.id for row in session.execute(list_products_stmt(shop_id, **filters).order_by(Product.id.desc()))
        ][1:]


@pytest.mark.parametrize("filters", FILTERS, ids=lambda f: ",".join(f"{k}={v}" for k, v in f.items()) or "none")
def test_the_product_list_reads_what_the_plain_statement_reads_on_postgresql(
    session: Any, filters: dict[str, Any]
) -> None:
    shop_id, _ = _catalog(session)
    _same_rows_both_ways(session, shop_id, filters)


def test_the_product_list_reads_what_the_plain_statement_reads_on_sqlite(embedded_app: Flask) -> None:
    with embedded_app.app_context():
        shop_id, _ = _catalog(db.session)
        for filters in FILTERS:
            _same_rows_both_ways(db.session, shop_id, filters)
        assert [row.title for row in product_rows(db.session, shop_id, q="%", limit=5, after_id=None)] == ["100% pure"]
        db.session.rollback()
