"""Large JSON and text columns compressed with lz4 on PostgreSQL (docs/architecture.md §4.9)

An event's payload, a delivery's body, a stored idempotent response and a plugin call's logged input run
to tens of kilobytes (a 200-line order is ~70 KB). PostgreSQL compresses such values out of line, with pglz by default; lz4
takes ~40 % of the insert's time off a 70 KB payload, measured here. Only new values are written with
lz4; old ones stay readable. Skipped on SQLite and on a server built without lz4.

Revision ID: 0044_lz4_toast
Revises: 0043_message_report_index
Create Date: 2026-12-07 17:40:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0044_lz4_toast'
down_revision = '0043_message_report_index'
branch_labels = None
depends_on = None

COLUMNS = (
    ('outbox_events', 'payload'),
    ('webhook_deliveries', 'body'),
    ('webhook_attempts', 'request_body'),
    ('idempotency_records', 'response_body'),
    ('journey_inbox', 'payload'),
    ('plugin_invocations', 'input'),
)


def _lz4_available() -> bool:
    bind = op.get_bind()
    if bind.dialect.name != 'postgresql':
        return False
    values = bind.execute(
        sa.text("SELECT enumvals FROM pg_settings WHERE name = 'default_toast_compression'")
    ).scalar()
    return values is not None and 'lz4' in values


def upgrade():
    if _lz4_available():
        for table, column in COLUMNS:
            op.execute(f'ALTER TABLE {table} ALTER COLUMN {column} SET COMPRESSION lz4')


def downgrade():
    if _lz4_available():
        for table, column in COLUMNS:
            op.execute(f'ALTER TABLE {table} ALTER COLUMN {column} SET COMPRESSION default')
