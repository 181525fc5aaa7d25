"""Migrations are the only way the schema changes: they must build exactly what the models say."""

from __future__ import annotations

import sqlalchemy as sa
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


def test_plugin_inputs_are_compressed_with_lz4_on_postgres(app):
    # Not a model property (autogenerate cannot see it): migration 0025 sets it, this checks it stays.
    query = sa.text(
        "SELECT attcompression FROM pg_attribute WHERE attrelid = 'plugin_invocations'::regclass AND attname = 'input'"
    )
    with app.app_context(), db.engine.connect() as connection:
        assert connection.execute(query).scalar() == "l"
