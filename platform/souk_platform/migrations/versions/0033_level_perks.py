"""members: level perks — member prices per SKU and level, and the perks each order line and order got

Existing order lines were sold at their list price (``list_price`` = ``unit_price``, no perk); existing
orders had no member discount and earned points at 1× (``points_multiplier_percent`` 100).

Revision ID: 0033_level_perks
Revises: 0030_customer_profile
Create Date: 2026-12-07 05:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0033_level_perks'
down_revision = '0030_customer_profile'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('member_prices',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('shop_id', sa.String(length=64), nullable=False),
    sa.Column('sku_id', sa.String(length=64), nullable=False),
    sa.Column('level', sa.SmallInteger(), nullable=False),
    sa.Column('price', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint('level BETWEEN 1 AND 5', name=op.f('ck_member_prices_level_1_to_5')),
    sa.CheckConstraint('price >= 0', name=op.f('ck_member_prices_price_not_negative')),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_member_prices_shop_id_shops')),
    sa.ForeignKeyConstraint(['sku_id'], ['skus.id'], name=op.f('fk_member_prices_sku_id_skus')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_member_prices')),
    sa.UniqueConstraint('shop_id', 'sku_id', 'level', name=op.f('uq_member_prices_shop_id_sku_id_level'))
    )
    with op.batch_alter_table('member_prices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_member_prices_shop_id'), ['shop_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_member_prices_sku_id'), ['sku_id'], unique=False)

    # NOT NULL columns added with a default, so SQLite adds them in place: rebuilding order_lines there
    # would re-check every line's foreign key.
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('member_level', sa.SmallInteger(), nullable=True))
        batch_op.add_column(
            sa.Column('member_discount_total', sa.BigInteger(), server_default='0', nullable=False)
        )
        batch_op.add_column(
            sa.Column('points_multiplier_percent', sa.Integer(), server_default='100', nullable=False)
        )
    with op.batch_alter_table('order_lines', schema=None) as batch_op:
        batch_op.add_column(sa.Column('list_price', sa.BigInteger(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('member_perk', sa.String(length=16), nullable=True))

    op.execute("UPDATE order_lines SET list_price = unit_price")
    if op.get_bind().dialect.name != "sqlite":  # there, dropping a default rebuilds the table; the ORM sets it
        op.alter_column('order_lines', 'list_price', server_default=None)


def downgrade():
    with op.batch_alter_table('order_lines', schema=None) as batch_op:
        batch_op.drop_column('member_perk')
        batch_op.drop_column('list_price')
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_column('points_multiplier_percent')
        batch_op.drop_column('member_discount_total')
        batch_op.drop_column('member_level')

    with op.batch_alter_table('member_prices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_member_prices_sku_id'))
        batch_op.drop_index(batch_op.f('ix_member_prices_shop_id'))

    op.drop_table('member_prices')
