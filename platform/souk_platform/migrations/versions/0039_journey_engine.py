"""journey engine: the inbox of events journeys listen to, and fired periodic triggers

Revision ID: 0039_journey_engine
Revises: 0037_messaging
Create Date: 2026-12-07 08:00:00

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0039_journey_engine'
down_revision = '0037_messaging'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('journey_inbox',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('shop_id', sa.String(length=64), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('event_id', sa.String(length=64), nullable=False),
    sa.Column('event_type', sa.String(length=100), nullable=False),
    sa.Column('customer_id', sa.String(length=64), nullable=True),
    sa.Column('payload', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_journey_inbox_shop_id_shops')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_journey_inbox')),
    sa.UniqueConstraint('source', 'event_id', name=op.f('uq_journey_inbox_source_event_id'))
    )
    with op.batch_alter_table('journey_inbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_journey_inbox_shop_id'), ['shop_id'], unique=False)

    op.create_table('journey_trigger_runs',
    sa.Column('journey_id', sa.String(length=64), nullable=False),
    sa.Column('occurrence', sa.String(length=64), nullable=False),
    sa.Column('shop_id', sa.String(length=64), nullable=False),
    sa.Column('enrolled', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['journey_id'], ['journeys.id'], name=op.f('fk_journey_trigger_runs_journey_id_journeys')),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_journey_trigger_runs_shop_id_shops')),
    sa.PrimaryKeyConstraint('journey_id', 'occurrence', name=op.f('pk_journey_trigger_runs'))
    )
    with op.batch_alter_table('journey_trigger_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_journey_trigger_runs_shop_id'), ['shop_id'], unique=False)


def downgrade():
    with op.batch_alter_table('journey_trigger_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_journey_trigger_runs_shop_id'))
    op.drop_table('journey_trigger_runs')
    with op.batch_alter_table('journey_inbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_journey_inbox_shop_id'))
    op.drop_table('journey_inbox')
