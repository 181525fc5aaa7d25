"""risk: decisions, block/allow lists, reviews; orders.device_id (docs/architecture.md §5.13)

Revision ID: 0040_risk
Revises: 0039_journey_engine
Create Date: 2026-12-07 08:00:00.000000

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0040_risk'
down_revision = '0039_journey_engine'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')


def upgrade():
    op.create_table('risk_decisions',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('shop_id', sa.String(length=64), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('subject_type', sa.String(length=16), nullable=False),
    sa.Column('subject_id', sa.String(length=64), nullable=False),
    sa.Column('customer_id', sa.String(length=64), nullable=True),
    sa.Column('ip', sa.String(length=64), nullable=True),
    sa.Column('device_id', sa.String(length=128), nullable=True),
    sa.Column('outcome', sa.String(length=8), nullable=False),
    sa.Column('rule_names', sa.String(length=500), nullable=False),
    sa.Column('rules', JSON, nullable=False),
    sa.Column('inputs', JSON, nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_risk_decisions_shop_id_shops')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_risk_decisions'))
    )
    with op.batch_alter_table('risk_decisions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_risk_decisions_shop_id'), ['shop_id'], unique=False)
        batch_op.create_index('ix_risk_decisions_shop_created', ['shop_id', 'created_at'], unique=False)
        batch_op.create_index('ix_risk_decisions_shop_customer', ['shop_id', 'customer_id'], unique=False)
        batch_op.create_index('ix_risk_decisions_shop_ip', ['shop_id', 'ip'], unique=False)

    op.create_table('risk_list_entries',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('shop_id', sa.String(length=64), nullable=False),
    sa.Column('list', sa.String(length=8), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('value', sa.String(length=128), nullable=False),
    sa.Column('note', sa.String(length=200), nullable=True),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_risk_list_entries_shop_id_shops')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_risk_list_entries')),
    sa.UniqueConstraint('shop_id', 'list', 'kind', 'value', name=op.f('uq_risk_list_entries_shop_id_list_kind_value'))
    )
    with op.batch_alter_table('risk_list_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_risk_list_entries_shop_id'), ['shop_id'], unique=False)

    op.create_table('risk_reviews',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('shop_id', sa.String(length=64), nullable=False),
    sa.Column('decision_id', sa.String(length=64), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('order_id', sa.String(length=64), nullable=False),
    sa.Column('customer_id', sa.String(length=64), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_by', sa.String(length=16), nullable=True),
    sa.Column('note', sa.String(length=200), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['decision_id'], ['risk_decisions.id'], name=op.f('fk_risk_reviews_decision_id_risk_decisions')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_risk_reviews_order_id_orders')),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_risk_reviews_shop_id_shops')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_risk_reviews')),
    sa.UniqueConstraint('order_id', name=op.f('uq_risk_reviews_order_id'))
    )
    with op.batch_alter_table('risk_reviews', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_risk_reviews_shop_id'), ['shop_id'], unique=False)
        batch_op.create_index('ix_risk_reviews_status_expires', ['status', 'expires_at'], unique=False)

    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('device_id', sa.String(length=128), nullable=True))
        batch_op.create_index('ix_orders_shop_device_created', ['shop_id', 'device_id', 'created_at'], unique=False)


def downgrade():
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_index('ix_orders_shop_device_created')
        batch_op.drop_column('device_id')
    with op.batch_alter_table('risk_reviews', schema=None) as batch_op:
        batch_op.drop_index('ix_risk_reviews_status_expires')
        batch_op.drop_index(batch_op.f('ix_risk_reviews_shop_id'))
    op.drop_table('risk_reviews')
    with op.batch_alter_table('risk_list_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_risk_list_entries_shop_id'))
    op.drop_table('risk_list_entries')
    with op.batch_alter_table('risk_decisions', schema=None) as batch_op:
        batch_op.drop_index('ix_risk_decisions_shop_ip')
        batch_op.drop_index('ix_risk_decisions_shop_customer')
        batch_op.drop_index('ix_risk_decisions_shop_created')
        batch_op.drop_index(batch_op.f('ix_risk_decisions_shop_id'))
    op.drop_table('risk_decisions')
