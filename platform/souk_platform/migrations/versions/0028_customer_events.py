"""behaviour: customers' behaviour events, one row per (shop, sender's event id)

Revision ID: 0028_customer_events
Revises: 0027_categories
Create Date: 2026-12-22 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0028_customer_events'
down_revision = '0027_categories'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('customer_events',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('shop_id', sa.String(length=64), nullable=False),
    sa.Column('event_id', sa.String(length=64), nullable=False),
    sa.Column('customer_id', sa.String(length=64), nullable=False),
    sa.Column('type', sa.String(length=32), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('channel', sa.String(length=64), nullable=True),
    sa.Column('campaign', sa.String(length=64), nullable=True),
    sa.Column('store', sa.String(length=64), nullable=True),
    sa.Column('properties', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_customer_events_customer_id_customers')),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_customer_events_shop_id_shops')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customer_events')),
    sa.UniqueConstraint('shop_id', 'event_id', name=op.f('uq_customer_events_shop_id_event_id'))
    )
    with op.batch_alter_table('customer_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_customer_events_shop_id'), ['shop_id'], unique=False)
        batch_op.create_index('ix_customer_events_shop_customer_occurred', ['shop_id', 'customer_id', 'occurred_at'], unique=False)
        batch_op.create_index('ix_customer_events_shop_type_occurred', ['shop_id', 'type', 'occurred_at'], unique=False)


def downgrade():
    with op.batch_alter_table('customer_events', schema=None) as batch_op:
        batch_op.drop_index('ix_customer_events_shop_type_occurred')
        batch_op.drop_index('ix_customer_events_shop_customer_occurred')
        batch_op.drop_index(batch_op.f('ix_customer_events_shop_id'))
    op.drop_table('customer_events')
