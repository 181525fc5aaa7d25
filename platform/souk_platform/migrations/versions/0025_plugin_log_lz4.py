"""plugins: the invocation log's inputs compressed with lz4 on PostgreSQL

Every plugin call stores its whole input (a 200-line cart is ~30 KB of JSON), which PostgreSQL
compresses with pglz when it is moved out of line; lz4 does the same several times faster. SQLite
does not compress, so nothing changes there.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-21 14:00:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE plugin_invocations ALTER COLUMN input SET COMPRESSION lz4")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE plugin_invocations ALTER COLUMN input SET COMPRESSION pglz")
