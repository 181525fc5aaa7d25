"""coupons: issuing a coupon to a list or a segment (coupon_issues) and its per-customer results

Revision ID: 0032_coupon_issues
Revises: 0032_coupon_wallet
Create Date: 2026-12-23 11:00:00.000000

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0032_coupon_issues'
down_revision = '0032_coupon_wallet'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('coupon_issues',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('shop_id', sa.String(length=64), nullable=False),
    sa.Column('coupon_id', sa.String(length=64), nullable=False),
    sa.Column('segment_id', sa.String(length=64), nullable=True),
    sa.Column('snapshot_id', sa.String(length=64), nullable=True),
    sa.Column('customer_ids', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('total', sa.Integer(), nullable=True),
    sa.Column('done', sa.Integer(), nullable=False),
    sa.Column('issued', sa.Integer(), nullable=False),
    sa.Column('skipped', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['coupon_id'], ['coupons.id'], name=op.f('fk_coupon_issues_coupon_id_coupons')),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_coupon_issues_shop_id_shops')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_coupon_issues'))
    )
    with op.batch_alter_table('coupon_issues', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_coupon_issues_shop_id'), ['shop_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_coupon_issues_coupon_id'), ['coupon_id'], unique=False)

    op.create_table('coupon_issue_results',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('shop_id', sa.String(length=64), nullable=False),
    sa.Column('issue_id', sa.String(length=64), nullable=False),
    sa.Column('customer_id', sa.String(length=64), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.String(length=300), nullable=True),
    sa.Column('reason_code', sa.String(length=32), nullable=True),
    sa.Column('customer_coupon_id', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['issue_id'], ['coupon_issues.id'], name=op.f('fk_coupon_issue_results_issue_id_coupon_issues')),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_coupon_issue_results_shop_id_shops')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_coupon_issue_results')),
    sa.UniqueConstraint('issue_id', 'customer_id', name=op.f('uq_coupon_issue_results_issue_id_customer_id'))
    )
    with op.batch_alter_table('coupon_issue_results', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_coupon_issue_results_shop_id'), ['shop_id'], unique=False)
        batch_op.create_index('ix_coupon_issue_results_issue_outcome', ['issue_id', 'outcome'], unique=False)


def downgrade():
    with op.batch_alter_table('coupon_issue_results', schema=None) as batch_op:
        batch_op.drop_index('ix_coupon_issue_results_issue_outcome')
        batch_op.drop_index(batch_op.f('ix_coupon_issue_results_shop_id'))
    op.drop_table('coupon_issue_results')
    with op.batch_alter_table('coupon_issues', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_coupon_issues_coupon_id'))
        batch_op.drop_index(batch_op.f('ix_coupon_issues_shop_id'))
    op.drop_table('coupon_issues')
