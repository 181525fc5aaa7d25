"""Migrations are the only way the schema changes: they must build exactly what the models say."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

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
