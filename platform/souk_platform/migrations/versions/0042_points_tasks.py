"""points tasks: earning tasks, their completions (sign-ins), coupon claims (docs/architecture.md §5.15)

Revision ID: 0042_points_tasks
Revises: 0041_points_mall
Create Date: 2026-12-07 11:00:00.000000

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0042_points_tasks'
down_revision = '0041_points_mall'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')


def upgrade():
    op.create_table('points_tasks',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('shop_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('period', sa.String(length=8), nullable=True),
    sa.Column('daily_cap', sa.Integer(), nullable=True),
    sa.Column('total_cap', sa.Integer(), nullable=True),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('params', JSON, nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_points_tasks_shop_id_shops')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_points_tasks'))
    )
    with op.batch_alter_table('points_tasks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_points_tasks_shop_id'), ['shop_id'], unique=False)

    op.create_table('points_task_completions',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('shop_id', sa.String(length=64), nullable=False),
    sa.Column('task_id', sa.String(length=64), nullable=False),
    sa.Column('customer_id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('slot', sa.String(length=80), nullable=False),
    sa.Column('reference', sa.String(length=64), nullable=True),
    sa.Column('local_date', sa.Date(), nullable=False),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.Column('bonus_points', sa.Integer(), nullable=False),
    sa.Column('streak', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('decision_id', sa.String(length=64), nullable=True),
    sa.Column('ip', sa.String(length=64), nullable=True),
    sa.Column('device_id', sa.String(length=128), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_points_task_completions_customer_id_customers')),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_points_task_completions_shop_id_shops')),
    sa.ForeignKeyConstraint(['task_id'], ['points_tasks.id'], name=op.f('fk_points_task_completions_task_id_points_tasks')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_points_task_completions')),
    sa.UniqueConstraint('task_id', 'customer_id', 'slot', name=op.f('uq_points_task_completions_task_id_customer_id_slot')),
    sa.UniqueConstraint('task_id', 'reference', name=op.f('uq_points_task_completions_task_id_reference'))
    )
    with op.batch_alter_table('points_task_completions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_points_task_completions_shop_id'), ['shop_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_points_task_completions_task_id'), ['task_id'], unique=False)
        batch_op.create_index('ix_points_task_completions_customer_day', ['shop_id', 'customer_id', 'local_date'], unique=False)
        batch_op.create_index('ix_points_task_completions_ip', ['shop_id', 'ip', 'created_at'], unique=False)
        batch_op.create_index('ix_points_task_completions_device', ['shop_id', 'device_id', 'created_at'], unique=False)

    op.create_table('coupon_claims',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('shop_id', sa.String(length=64), nullable=False),
    sa.Column('coupon_id', sa.String(length=64), nullable=False),
    sa.Column('customer_id', sa.String(length=64), nullable=False),
    sa.Column('entry_id', sa.String(length=64), nullable=False),
    sa.Column('ip', sa.String(length=64), nullable=True),
    sa.Column('device_id', sa.String(length=128), nullable=True),
    sa.Column('decision_id', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['coupon_id'], ['coupons.id'], name=op.f('fk_coupon_claims_coupon_id_coupons')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_coupon_claims_customer_id_customers')),
    sa.ForeignKeyConstraint(['entry_id'], ['customer_coupons.id'], name=op.f('fk_coupon_claims_entry_id_customer_coupons')),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_coupon_claims_shop_id_shops')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_coupon_claims')),
    sa.UniqueConstraint('entry_id', name=op.f('uq_coupon_claims_entry_id'))
    )
    with op.batch_alter_table('coupon_claims', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_coupon_claims_shop_id'), ['shop_id'], unique=False)
        batch_op.create_index('ix_coupon_claims_customer', ['shop_id', 'customer_id', 'created_at'], unique=False)
        batch_op.create_index('ix_coupon_claims_ip', ['shop_id', 'ip', 'created_at'], unique=False)
        batch_op.create_index('ix_coupon_claims_device', ['shop_id', 'device_id', 'created_at'], unique=False)


def downgrade():
    with op.batch_alter_table('coupon_claims', schema=None) as batch_op:
        batch_op.drop_index('ix_coupon_claims_device')
        batch_op.drop_index('ix_coupon_claims_ip')
        batch_op.drop_index('ix_coupon_claims_customer')
        batch_op.drop_index(batch_op.f('ix_coupon_claims_shop_id'))
    op.drop_table('coupon_claims')
    with op.batch_alter_table('points_task_completions', schema=None) as batch_op:
        batch_op.drop_index('ix_points_task_completions_device')
        batch_op.drop_index('ix_points_task_completions_ip')
        batch_op.drop_index('ix_points_task_completions_customer_day')
        batch_op.drop_index(batch_op.f('ix_points_task_completions_task_id'))
        batch_op.drop_index(batch_op.f('ix_points_task_completions_shop_id'))
    op.drop_table('points_task_completions')
    with op.batch_alter_table('points_tasks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_points_tasks_shop_id'))
    op.drop_table('points_tasks')
