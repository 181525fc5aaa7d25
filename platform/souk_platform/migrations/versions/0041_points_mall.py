"""points mall: items and redemptions (docs/architecture.md §5.14)

Revision ID: 0041_points_mall
Revises: 0040_risk
Create Date: 2026-12-07 11:00:00.000000

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0041_points_mall'
down_revision = '0040_risk'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')


def upgrade():
    op.create_table('points_mall_items',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('shop_id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.String(length=2000), nullable=False),
    sa.Column('image_url', sa.String(length=500), nullable=True),
    sa.Column('sku_id', sa.String(length=64), nullable=True),
    sa.Column('coupon_id', sa.String(length=64), nullable=True),
    sa.Column('package_id', sa.String(length=64), nullable=True),
    sa.Column('installation_id', sa.String(length=64), nullable=True),
    sa.Column('app_item_code', sa.String(length=100), nullable=True),
    sa.Column('points', sa.BigInteger(), nullable=False),
    sa.Column('cash', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('stock', sa.Integer(), nullable=True),
    sa.Column('redeemed', sa.Integer(), nullable=False),
    sa.Column('per_member_limit', sa.Integer(), nullable=True),
    sa.Column('limit_period', sa.String(length=16), nullable=False),
    sa.Column('min_level', sa.SmallInteger(), nullable=True),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('sort', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_points_mall_items_shop_id_shops')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_points_mall_items'))
    )
    with op.batch_alter_table('points_mall_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_points_mall_items_shop_id'), ['shop_id'], unique=False)
        batch_op.create_index('ix_points_mall_items_shop_status_sort', ['shop_id', 'status', 'sort'], unique=False)

    op.create_table('points_mall_redemptions',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('shop_id', sa.String(length=64), nullable=False),
    sa.Column('item_id', sa.String(length=64), nullable=False),
    sa.Column('customer_id', sa.String(length=64), nullable=False),
    sa.Column('order_id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('points', sa.BigInteger(), nullable=False),
    sa.Column('cash', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('ip', sa.String(length=64), nullable=True),
    sa.Column('device_id', sa.String(length=128), nullable=True),
    sa.Column('risk_decision_id', sa.String(length=64), nullable=True),
    sa.Column('fulfilment', JSON, nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('paid_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('fulfilled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('refunded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_points_mall_redemptions_customer_id_customers')),
    sa.ForeignKeyConstraint(['item_id'], ['points_mall_items.id'], name=op.f('fk_points_mall_redemptions_item_id_points_mall_items')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_points_mall_redemptions_order_id_orders')),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_points_mall_redemptions_shop_id_shops')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_points_mall_redemptions')),
    sa.UniqueConstraint('order_id', name=op.f('uq_points_mall_redemptions_order_id'))
    )
    with op.batch_alter_table('points_mall_redemptions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_points_mall_redemptions_shop_id'), ['shop_id'], unique=False)
        batch_op.create_index('ix_points_mall_redemptions_customer', ['shop_id', 'customer_id', 'created_at'], unique=False)
        batch_op.create_index('ix_points_mall_redemptions_item_customer', ['item_id', 'customer_id', 'created_at'], unique=False)
        batch_op.create_index('ix_points_mall_redemptions_ip', ['shop_id', 'ip', 'created_at'], unique=False)
        batch_op.create_index('ix_points_mall_redemptions_device', ['shop_id', 'device_id', 'created_at'], unique=False)


def downgrade():
    with op.batch_alter_table('points_mall_redemptions', schema=None) as batch_op:
        batch_op.drop_index('ix_points_mall_redemptions_device')
        batch_op.drop_index('ix_points_mall_redemptions_ip')
        batch_op.drop_index('ix_points_mall_redemptions_item_customer')
        batch_op.drop_index('ix_points_mall_redemptions_customer')
        batch_op.drop_index(batch_op.f('ix_points_mall_redemptions_shop_id'))
    op.drop_table('points_mall_redemptions')
    with op.batch_alter_table('points_mall_items', schema=None) as batch_op:
        batch_op.drop_index('ix_points_mall_items_shop_status_sort')
        batch_op.drop_index(batch_op.f('ix_points_mall_items_shop_id'))
    op.drop_table('points_mall_items')
