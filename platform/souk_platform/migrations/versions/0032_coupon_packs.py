"""coupons: 付费券包 coupon packs and their purchases

Revision ID: 0032_coupon_packs
Revises: 0032_coupon_issues
Create Date: 2026-12-23 12:00:00.000000

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0032_coupon_packs'
down_revision = '0032_coupon_issues'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('coupon_packs',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('shop_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('price', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('items', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('stock', sa.Integer(), nullable=True),
    sa.Column('sold', sa.Integer(), nullable=False),
    sa.Column('per_customer_limit', sa.Integer(), nullable=True),
    sa.Column('sale_starts_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sale_ends_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('refund_days', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_coupon_packs_shop_id_shops')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_coupon_packs'))
    )
    with op.batch_alter_table('coupon_packs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_coupon_packs_shop_id'), ['shop_id'], unique=False)

    op.create_table('coupon_pack_purchases',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('shop_id', sa.String(length=64), nullable=False),
    sa.Column('pack_id', sa.String(length=64), nullable=False),
    sa.Column('customer_id', sa.String(length=64), nullable=False),
    sa.Column('order_id', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('price', sa.BigInteger(), nullable=False),
    sa.Column('problems', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('paid_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_coupon_pack_purchases_customer_id_customers')),
    sa.ForeignKeyConstraint(['pack_id'], ['coupon_packs.id'], name=op.f('fk_coupon_pack_purchases_pack_id_coupon_packs')),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_coupon_pack_purchases_shop_id_shops')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_coupon_pack_purchases')),
    sa.UniqueConstraint('order_id', name=op.f('uq_coupon_pack_purchases_order_id'))
    )
    with op.batch_alter_table('coupon_pack_purchases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_coupon_pack_purchases_shop_id'), ['shop_id'], unique=False)
        batch_op.create_index('ix_coupon_pack_purchases_pack_customer', ['pack_id', 'customer_id'], unique=False)


def downgrade():
    with op.batch_alter_table('coupon_pack_purchases', schema=None) as batch_op:
        batch_op.drop_index('ix_coupon_pack_purchases_pack_customer')
        batch_op.drop_index(batch_op.f('ix_coupon_pack_purchases_shop_id'))
    op.drop_table('coupon_pack_purchases')
    with op.batch_alter_table('coupon_packs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_coupon_packs_shop_id'))
    op.drop_table('coupon_packs')
