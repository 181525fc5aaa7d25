"""coupons: the wallet (customer_coupons) and a coupon's distribution, validity after issue and issued count

Revision ID: 0032_coupon_wallet
Revises: 0029_segment_facts
Create Date: 2026-12-23 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0032_coupon_wallet'
down_revision = '0029_segment_facts'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('coupons', schema=None) as batch_op:
        batch_op.add_column(sa.Column('distribution', sa.String(length=16), server_default='public', nullable=False))
        batch_op.add_column(sa.Column('valid_days', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('issued_count', sa.Integer(), server_default='0', nullable=False))

    op.create_table('customer_coupons',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('shop_id', sa.String(length=64), nullable=False),
    sa.Column('coupon_id', sa.String(length=64), nullable=False),
    sa.Column('customer_id', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('source_id', sa.String(length=64), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('order_id', sa.String(length=64), nullable=True),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['coupon_id'], ['coupons.id'], name=op.f('fk_customer_coupons_coupon_id_coupons')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_customer_coupons_customer_id_customers')),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_customer_coupons_shop_id_shops')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customer_coupons')),
    sa.UniqueConstraint('coupon_id', 'customer_id', 'source', 'source_id', name=op.f('uq_customer_coupons_coupon_id_customer_id_source_source_id'))
    )
    with op.batch_alter_table('customer_coupons', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_customer_coupons_shop_id'), ['shop_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_customer_coupons_coupon_id'), ['coupon_id'], unique=False)
        batch_op.create_index('ix_customer_coupons_shop_customer_status', ['shop_id', 'customer_id', 'status'], unique=False)
        batch_op.create_index('ix_customer_coupons_status_expires', ['status', 'expires_at'], unique=False)
        batch_op.create_index('ix_customer_coupons_order', ['order_id'], unique=False)


def downgrade():
    with op.batch_alter_table('customer_coupons', schema=None) as batch_op:
        batch_op.drop_index('ix_customer_coupons_order')
        batch_op.drop_index('ix_customer_coupons_status_expires')
        batch_op.drop_index('ix_customer_coupons_shop_customer_status')
        batch_op.drop_index(batch_op.f('ix_customer_coupons_coupon_id'))
        batch_op.drop_index(batch_op.f('ix_customer_coupons_shop_id'))
    op.drop_table('customer_coupons')
    with op.batch_alter_table('coupons', schema=None) as batch_op:
        batch_op.drop_column('issued_count')
        batch_op.drop_column('distribution')
        batch_op.drop_column('valid_days')
