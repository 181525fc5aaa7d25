"""tags: segment snapshots (固化人群包) and their members

Revision ID: 0034_segment_snapshots
Revises: 0028_customer_events
Create Date: 2026-12-07 05:10:00.000000

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0034_segment_snapshots'
down_revision = '0028_customer_events'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('segment_snapshots',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('shop_id', sa.String(length=64), nullable=False),
    sa.Column('segment_id', sa.String(length=64), nullable=True),
    sa.Column('segment_name', sa.String(length=100), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('condition', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('member_count', sa.Integer(), nullable=False),
    sa.Column('taken_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['segment_id'], ['segments.id'], name=op.f('fk_segment_snapshots_segment_id_segments'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_segment_snapshots_shop_id_shops')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_segment_snapshots'))
    )
    with op.batch_alter_table('segment_snapshots', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_segment_snapshots_shop_id'), ['shop_id'], unique=False)
        batch_op.create_index('ix_segment_snapshots_shop_segment', ['shop_id', 'segment_id'], unique=False)

    op.create_table('segment_snapshot_members',
    sa.Column('snapshot_id', sa.String(length=64), nullable=False),
    sa.Column('customer_id', sa.String(length=64), nullable=False),
    sa.Column('shop_id', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_segment_snapshot_members_customer_id_customers')),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_segment_snapshot_members_shop_id_shops')),
    sa.ForeignKeyConstraint(['snapshot_id'], ['segment_snapshots.id'], name=op.f('fk_segment_snapshot_members_snapshot_id_segment_snapshots'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('snapshot_id', 'customer_id', name=op.f('pk_segment_snapshot_members'))
    )
    with op.batch_alter_table('segment_snapshot_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_segment_snapshot_members_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_segment_snapshot_members_shop_id'), ['shop_id'], unique=False)


def downgrade():
    with op.batch_alter_table('segment_snapshot_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_segment_snapshot_members_shop_id'))
        batch_op.drop_index(batch_op.f('ix_segment_snapshot_members_customer_id'))
    op.drop_table('segment_snapshot_members')
    with op.batch_alter_table('segment_snapshots', schema=None) as batch_op:
        batch_op.drop_index('ix_segment_snapshots_shop_segment')
        batch_op.drop_index(batch_op.f('ix_segment_snapshots_shop_id'))
    op.drop_table('segment_snapshots')
