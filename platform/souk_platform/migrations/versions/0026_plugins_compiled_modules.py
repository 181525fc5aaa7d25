"""plugins: each module's compiled code, stored at upload so no checkout ever compiles

``compiled`` holds ``Module.serialize()`` of the module, ``compiled_key`` the wasmtime version and
engine configuration it is valid for. Rows uploaded before this revision have none: the first call
of such a plugin fails per its point's failure policy and asks a job to compile it (bounded).

Revision ID: 0026_plugins
Revises: 0025
Create Date: 2026-12-06 23:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0026_plugins'
down_revision = '0025'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("plugins") as batch:
        batch.add_column(sa.Column("compiled", sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column("compiled_key", sa.String(length=100), nullable=True))


def downgrade():
    with op.batch_alter_table("plugins") as batch:
        batch.drop_column("compiled_key")
        batch.drop_column("compiled")
