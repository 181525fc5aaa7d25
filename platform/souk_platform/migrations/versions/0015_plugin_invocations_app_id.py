"""plugin invocations: the app whose plugin ran

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-10 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('plugin_invocations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('app_id', sa.String(length=64), nullable=True))
        batch_op.create_index('ix_plugin_invocations_app_id_id', ['app_id', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('plugin_invocations', schema=None) as batch_op:
        batch_op.drop_index('ix_plugin_invocations_app_id_id')
        batch_op.drop_column('app_id')
