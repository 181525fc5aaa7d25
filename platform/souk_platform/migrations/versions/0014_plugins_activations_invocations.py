"""plugins: modules, shop activations, invocation log

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')


def upgrade():
    op.create_table('plugins',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('shop_id', sa.String(length=64), nullable=True),
    sa.Column('app_version_id', sa.String(length=64), nullable=True),
    sa.Column('module_path', sa.String(length=200), nullable=True),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('point', sa.String(length=64), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('module', sa.LargeBinary(), nullable=False),
    sa.Column('config_schema', JSON, nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_plugins_shop_id_shops')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plugins')),
    sa.UniqueConstraint('app_version_id', 'module_path', name=op.f('uq_plugins_app_version_id_module_path'))
    )
    with op.batch_alter_table('plugins', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plugins_app_version_id'), ['app_version_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_plugins_sha256'), ['sha256'], unique=False)
        batch_op.create_index(batch_op.f('ix_plugins_shop_id'), ['shop_id'], unique=False)

    op.create_table('shop_plugin_activations',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('shop_id', sa.String(length=64), nullable=False),
    sa.Column('plugin_id', sa.String(length=64), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('config', JSON, nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('on_failure', sa.String(length=16), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['plugin_id'], ['plugins.id'], name=op.f('fk_shop_plugin_activations_plugin_id_plugins')),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_shop_plugin_activations_shop_id_shops')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shop_plugin_activations')),
    sa.UniqueConstraint('shop_id', 'plugin_id', name=op.f('uq_shop_plugin_activations_shop_id_plugin_id'))
    )
    with op.batch_alter_table('shop_plugin_activations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_shop_plugin_activations_plugin_id'), ['plugin_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_shop_plugin_activations_shop_id'), ['shop_id'], unique=False)

    op.create_table('plugin_invocations',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('shop_id', sa.String(length=64), nullable=False),
    sa.Column('plugin_id', sa.String(length=64), nullable=False),
    sa.Column('activation_id', sa.String(length=64), nullable=False),
    sa.Column('point', sa.String(length=64), nullable=False),
    sa.Column('outcome', sa.String(length=32), nullable=False),
    sa.Column('message', sa.String(length=500), nullable=False),
    sa.Column('fuel', sa.BigInteger(), nullable=False),
    sa.Column('elapsed_us', sa.Integer(), nullable=False),
    sa.Column('input_sha256', sa.String(length=64), nullable=False),
    sa.Column('input', sa.Text(), nullable=True),
    sa.Column('output', JSON, nullable=True),
    sa.Column('module_sha256', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['plugin_id'], ['plugins.id'], name=op.f('fk_plugin_invocations_plugin_id_plugins')),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_plugin_invocations_shop_id_shops')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plugin_invocations'))
    )
    with op.batch_alter_table('plugin_invocations', schema=None) as batch_op:
        batch_op.create_index('ix_plugin_invocations_shop_id_plugin_id_created_at', ['shop_id', 'plugin_id', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_plugin_invocations_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_plugin_invocations_plugin_id'), ['plugin_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_plugin_invocations_shop_id'), ['shop_id'], unique=False)


def downgrade():
    op.drop_table('plugin_invocations')
    op.drop_table('shop_plugin_activations')
    op.drop_table('plugins')
