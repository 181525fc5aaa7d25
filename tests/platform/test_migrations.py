"""Migrations are the only way the schema changes: they must build exactly what the models say."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade

from souk_platform import create_app
from souk_platform.db import db


def _diff(connection):
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return compare_metadata(context, db.metadata)


def test_postgres_schema_matches_models(app):
    with app.app_context(), db.engine.connect() as connection:
        assert _diff(connection) == []


def test_sqlite_schema_matches_models(embedded_app):
    with embedded_app.app_context(), db.engine.connect() as connection:
        assert _diff(connection) == []


def test_plugin_inputs_are_compressed_with_lz4_on_postgres(app):
    # Not a model property (autogenerate cannot see it): migration 0025 sets it, this checks it stays.
    query = sa.text(
        "SELECT attcompression FROM pg_attribute WHERE attrelid = 'plugin_invocations'::regclass AND attname = 'input'"
    )
    with app.app_context(), db.engine.connect() as connection:
        assert connection.execute(query).scalar() == "l"


# -- databases migrated before the marketplace had its own Alembic branch ------------------------------------
# The fixtures are the schema (and the alembic_version row, '0025') that the scripts of that time built: the
# platform's revisions 0017-0020 then created the marketplace's tables. Upgrading such a database must reach
# the same heads and the same schema as a fresh one.
BEFORE_SPLIT = Path(__file__).parent / "migrations_before_split"
PG_BASE = os.environ.get("SOUK_TEST_PG", "postgresql://postgres@127.0.0.1:5432")


def _schema(connection: sa.Connection) -> dict[str, Any]:
    """What a reader of the database sees: tables, columns, keys, indexes and the Alembic heads."""
    inspector = sa.inspect(connection)
    tables: dict[str, Any] = {}
    for table in inspector.get_table_names():
        if table == "alembic_version":
            continue
        tables[table] = {
            "columns": [
                (c["name"], str(c["type"]), c["nullable"], str(c.get("default"))) for c in inspector.get_columns(table)
            ],
            "primary_key": inspector.get_pk_constraint(table)["constrained_columns"],
            "foreign_keys": sorted(
                (tuple(fk["constrained_columns"]), fk["referred_table"], tuple(fk["referred_columns"]))
                for fk in inspector.get_foreign_keys(table)
            ),
            "indexes": sorted(
                (ix["name"], tuple(ix["column_names"]), ix["unique"]) for ix in inspector.get_indexes(table)
            ),
            "unique": sorted(tuple(u["column_names"]) for u in inspector.get_unique_constraints(table)),
        }
    heads = sorted(connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalars())
    return {"tables": tables, "heads": heads}


def _migrate(url: str) -> dict[str, Any]:
    """Upgrade the database at ``url`` to every head, as ``souk db upgrade`` does; return its schema."""
    application = create_app({"SQLALCHEMY_DATABASE_URI": url, "SOUK_REDIS_URL": None, "SOUK_JOBS": "inline"})
    try:
        with application.app_context():
            upgrade(revision="heads")
            with db.engine.connect() as connection:
                assert _diff(connection) == []
                return _schema(connection)
    finally:
        with application.app_context():
            db.engine.dispose()
        application.extensions["souk.jobs"].stop()


def test_sqlite_database_from_before_the_split_upgrades_to_the_fresh_schema(tmp_path):
    old = tmp_path / "old.sqlite3"
    with sqlite3.connect(old) as connection:
        connection.executescript((BEFORE_SPLIT / "schema_at_0025.sqlite.sql").read_text(encoding="utf-8"))
    connection.close()

    upgraded = _migrate(f"sqlite:///{old}")

    assert len(upgraded["heads"]) == 2 and "0026_boundaries" in upgraded["heads"]  # platform + marketplace
    assert "listings" in upgraded["tables"]  # adopted, not dropped
    assert upgraded == _migrate(f"sqlite:///{tmp_path / 'fresh.sqlite3'}")


@pytest.fixture
def postgres_database_from_before_the_split() -> Iterator[str]:
    name = f"souk_test_{os.getpid()}_before_split"
    with psycopg.connect(f"{PG_BASE}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    with psycopg.connect(f"{PG_BASE}/{name}", autocommit=True) as connection:
        connection.execute((BEFORE_SPLIT / "schema_at_0025.postgresql.sql").read_text(encoding="utf-8"))
    yield f"{PG_BASE.replace('postgresql://', 'postgresql+psycopg://')}/{name}"
    with psycopg.connect(f"{PG_BASE}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_postgres_database_from_before_the_split_upgrades_to_the_fresh_schema(
    app, postgres_database_from_before_the_split
):
    upgraded = _migrate(postgres_database_from_before_the_split)

    assert len(upgraded["heads"]) == 2 and "0026_boundaries" in upgraded["heads"]  # platform + marketplace
    with app.app_context(), db.engine.connect() as connection:  # the session's fresh database, migrated at start
        assert upgraded == _schema(connection)


# -- 0027_categories: every product of an existing database lands in its shop's default category ---------------
_OLD_ROWS = [
    "INSERT INTO shops VALUES ('shp_a', 'A', 'CNY', 'Asia/Shanghai', '{}', '2026-01-01 00:00:00', 1)",
    "INSERT INTO shops VALUES ('shp_b', 'B', 'CNY', 'Asia/Shanghai', '{}', '2026-01-01 00:00:00', 1)",
    "INSERT INTO shops VALUES ('shp_c', 'C', 'CNY', 'Asia/Shanghai', '{}', '2026-01-01 00:00:00', 1)",
    "INSERT INTO products VALUES ('prd_a1', 'shp_a', 'Tea', '', 'active', '2026-01-01', '2026-01-01', 1)",
    "INSERT INTO products VALUES ('prd_a2', 'shp_a', 'Cup', '', 'draft', '2026-01-01', '2026-01-01', 1)",
    "INSERT INTO products VALUES ('prd_b1', 'shp_b', 'Milk', '', 'active', '2026-01-01', '2026-01-01', 1)",
]


def _categorised(url: str) -> tuple[dict[str, tuple[str, str, bool]], dict[str, str]]:
    """Each shop's categories (name, parent, default) and each product's shop-and-category-name."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            categories = {
                row.id: (row.shop_id, row.name, bool(row.is_default), row.parent_id)
                for row in connection.execute(sa.text("SELECT * FROM categories"))
            }
            products = {
                row.id: (row.shop_id, *categories[row.category_id][:3])
                for row in connection.execute(sa.text("SELECT id, shop_id, category_id FROM products"))
            }
            lines = dict(connection.execute(sa.text("SELECT id, category_id FROM order_lines")).all())
    finally:
        engine.dispose()
    return (
        {shop_id: (name, parent, default) for shop_id, name, default, parent in categories.values()},
        {"products": products, "lines": {k: categories[v][1] if v else None for k, v in lines.items()}},
    )


def test_existing_products_and_order_lines_get_their_shops_default_category_on_sqlite(tmp_path):
    old = tmp_path / "old.sqlite3"
    with sqlite3.connect(old) as connection:
        connection.executescript((BEFORE_SPLIT / "schema_at_0025.sqlite.sql").read_text(encoding="utf-8"))
        for statement in _OLD_ROWS:
            connection.execute(statement)
        # Foreign keys are off on SQLite by default: a line needs no order row here.
        connection.execute(
            "INSERT INTO order_lines VALUES ('oln_1', 'ord_1', 'shp_a', 'sku_1', 'prd_a1', 'Tea', 100, 1, 0, 0, 0)"
        )
    connection.close()

    _migrate(f"sqlite:///{old}")
    categories, rows = _categorised(f"sqlite:///{old}")

    assert categories == {shop: ("未分类", None, True) for shop in ("shp_a", "shp_b", "shp_c")}
    assert rows["products"] == {
        "prd_a1": ("shp_a", "shp_a", "未分类", True),
        "prd_a2": ("shp_a", "shp_a", "未分类", True),
        "prd_b1": ("shp_b", "shp_b", "未分类", True),
    }
    assert rows["lines"] == {"oln_1": "未分类"}


def test_existing_products_get_their_shops_default_category_on_postgres(postgres_database_from_before_the_split):
    url = postgres_database_from_before_the_split
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        for statement in _OLD_ROWS:
            connection.execute(sa.text(statement.replace("'{}'", "'{}'::json")))
    engine.dispose()

    _migrate(url)
    categories, rows = _categorised(url)

    assert categories == {shop: ("未分类", None, True) for shop in ("shp_a", "shp_b", "shp_c")}
    assert {
        product: shop for product, (shop, category_shop, *_) in rows["products"].items() if shop == category_shop
    } == {
        "prd_a1": "shp_a",
        "prd_a2": "shp_a",
        "prd_b1": "shp_b",
    }
