"""apps: developer accounts (users.is_developer) and plugin activations

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('is_developer', sa.Boolean(), server_default=sa.false(), nullable=False))

    op.create_table('plugin_activations',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('installation_id', sa.String(length=64), nullable=False),
    sa.Column('shop_id', sa.String(length=64), nullable=False),
    sa.Column('app_id', sa.String(length=64), nullable=False),
    sa.Column('point', sa.String(length=64), nullable=False),
    sa.Column('module', sa.String(length=200), nullable=False),
    sa.Column('config', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['app_id'], ['apps.id'], name=op.f('fk_plugin_activations_app_id_apps')),
    sa.ForeignKeyConstraint(['installation_id'], ['installations.id'], name=op.f('fk_plugin_activations_installation_id_installations')),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_plugin_activations_shop_id_shops')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plugin_activations')),
    sa.UniqueConstraint('installation_id', 'point', 'module', name=op.f('uq_plugin_activations_installation_id_point_module'))
    )
    with op.batch_alter_table('plugin_activations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plugin_activations_app_id'), ['app_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_plugin_activations_installation_id'), ['installation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_plugin_activations_shop_id'), ['shop_id'], unique=False)


def downgrade():
    with op.batch_alter_table('plugin_activations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plugin_activations_shop_id'))
        batch_op.drop_index(batch_op.f('ix_plugin_activations_installation_id'))
        batch_op.drop_index(batch_op.f('ix_plugin_activations_app_id'))

    op.drop_table('plugin_activations')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('is_developer')
