"""segment facts: orders.channel (existing orders are 'online') and sold orders by customer and time

Revision ID: 0029_segment_facts
Revises: 0033_level_perks
Create Date: 2026-12-07 05:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0029_segment_facts'
down_revision = '0033_level_perks'
branch_labels = None
depends_on = None


def upgrade():
    # The server default fills every existing row: orders placed before channels existed were online.
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('channel', sa.String(length=32), server_default='online', nullable=False))
    # Counts, spend and last-order tests of the filter fields read a customer's sold orders from this
    # index alone on PostgreSQL (it is built from the existing rows: nothing else to backfill).
    sold = sa.text("status IN ('paid', 'fulfilled', 'completed')")
    op.create_index(
        'ix_orders_sold_customer_paid', 'orders', ['shop_id', 'customer_id', 'paid_at'], unique=False,
        postgresql_include=['subtotal', 'discount_total'], postgresql_where=sold, sqlite_where=sold,
    )


def downgrade():
    op.drop_index('ix_orders_sold_customer_paid', table_name='orders')
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_column('channel')
