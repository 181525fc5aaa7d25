"""``PreparedRead``: the hot reads' rows are SQLAlchemy's rows, on PostgreSQL and SQLite (docs/architecture.md §4.9)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from factories import ShopFactory
from souk_platform.catalog.errors import ProductNotFound
from souk_platform.catalog.models import Product
from souk_platform.catalog.services import (
    NewSku,
    add_sku,
    create_product,
    get_product_row,
    list_products_stmt,
    product_page,
    product_rows,
    skus_of_products,
    tags_of_products,
)
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
            tags=["gift", "Zen", "绿茶", "a tag"] if title == "100% pure" else [],
        )
        ids[title] = product.id
    add_sku(session, shop_id=shop.id, product_id=ids["100% pure"], spec=NewSku("P-2b", "2", 300, 0))
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


def _page_as_before(session: Any, shop_id: str, filters: dict[str, Any], limit: int, after_id: str | None) -> list:
    """What the list endpoint read before a page came in one statement: the page, then its SKUs and tags."""
    rows = product_rows(session, shop_id, **filters, limit=limit, after_id=after_id)
    ids = [row.id for row in rows]
    skus, tags = skus_of_products(session, ids), tags_of_products(session, ids)
    return [(tuple(row), [tuple(sku) for sku in skus[row.id]], tags[row.id]) for row in rows]


def _page_read(session: Any, shop_id: str, filters: dict[str, Any], limit: int, after_id: str | None) -> list:
    page = product_page(session, shop_id, **filters, limit=limit, after_id=after_id)
    return [(tuple(found.product), [tuple(sku) for sku in found.skus], found.tags) for found in page]


def _same_details_both_ways(session: Any, shop_id: str) -> None:
    for filters in FILTERS:
        for limit, after in ((2, None), (250, None)):
            expected = _page_as_before(session, shop_id, filters, limit, after)
            assert _page_read(session, shop_id, filters, limit, after) == expected, filters
            if expected:
                later = _page_as_before(session, shop_id, filters, 250, expected[0][0][0])
                assert _page_read(session, shop_id, filters, 250, expected[0][0][0]) == later, filters


def test_a_page_with_its_skus_and_tags_in_one_statement_reads_what_three_statements_read(session: Any) -> None:
    shop_id, ids = _catalog(session)
    _same_details_both_ways(session, shop_id)
    pure = next(
        found for found in product_page(session, shop_id, limit=10, after_id=None) if found.id == ids["100% pure"]
    )
    assert {sku.code for sku in pure.skus} == {"P-2", "P-2b"}
    assert [sku.id for sku in pure.skus] == sorted(sku.id for sku in pure.skus)
    assert pure.tags == tags_of_products(session, [pure.id])[pure.id]
    assert sorted(pure.tags) == sorted(["gift", "Zen", "绿茶", "a tag"])


def test_one_product_in_one_statement_reads_what_three_statements_read(session: Any) -> None:
    shop_id, ids = _catalog(session)
    expected = {found[0][0]: found for found in _page_as_before(session, shop_id, {}, 250, None)}
    for product_id in ids.values():
        product, skus, tags = get_product_row(session, shop_id=shop_id, product_id=product_id)
        assert (tuple(product), [tuple(sku) for sku in skus], tags) == expected[product_id]
        assert product.created_at.isoformat().endswith("+00:00")
    other = ShopFactory()
    session.flush()
    with pytest.raises(ProductNotFound):  # another shop's product is not there
        get_product_row(session, shop_id=other.id, product_id=ids["100% pure"])
    with pytest.raises(ProductNotFound):
        get_product_row(session, shop_id=shop_id, product_id="prd_nothing")


def test_a_page_with_its_skus_and_tags_reads_the_same_on_sqlite(embedded_app: Flask) -> None:
    with embedded_app.app_context():
        shop_id, ids = _catalog(db.session)
        _same_details_both_ways(db.session, shop_id)
        product, skus, tags = get_product_row(db.session, shop_id=shop_id, product_id=ids["100% pure"])
        assert (product.title, len(skus), sorted(tags)) == ("100% pure", 2, sorted(["gift", "Zen", "绿茶", "a tag"]))
        db.session.rollback()


def test_postgresql_sessions_run_in_utc_whatever_the_server_zone(session: Any) -> None:
    # The server here defaults to 'Etc/UTC': 'UTC' is the app's own startup option (app.py).
    assert session.connection().exec_driver_sql("SHOW TimeZone").scalar() == "UTC"
    shop = ShopFactory()
    session.flush()
    row = get_shop_row(session, shop.id)
    assert row.created_at.tzinfo is dt.UTC  # passed through as psycopg made it, not converted


def test_a_connect_option_of_the_operators_own_is_kept_beside_utc() -> None:
    from souk_platform.app import _postgresql_sessions_in_utc

    app = Flask("t")
    app.config["SQLALCHEMY_DATABASE_URI"] = "postgresql+psycopg://db/souk"
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {"pool_recycle": 60, "connect_args": {"options": "-c work_mem=8MB"}}
    _postgresql_sessions_in_utc(app)
    assert app.config["SQLALCHEMY_ENGINE_OPTIONS"] == {
        "pool_recycle": 60,
        "connect_args": {"options": "-c work_mem=8MB -c TimeZone=UTC"},
    }
    sqlite = Flask("t")
    sqlite.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///x.db"
    _postgresql_sessions_in_utc(sqlite)
    assert "SQLALCHEMY_ENGINE_OPTIONS" not in sqlite.config
