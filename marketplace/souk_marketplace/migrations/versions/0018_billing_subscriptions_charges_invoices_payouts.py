"""billing: app subscriptions, charges, refunds, invoices, payouts, exemptions

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-04 10:00:00.000000

Until the marketplace had its own branch this script was the platform's revision 0018 (off 0014, merged at
0021); it moved here unchanged but for the guard below and the branch's linear order.
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')


def upgrade():
    # A database migrated before the move already has these tables, made by this same script when it was the
    # platform's revision 0018: adopt them as they are (docs/architecture.md §9).
    if sa.inspect(op.get_bind()).has_table('billing_invoices'):
        return
    op.create_table('billing_invoices',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('shop_id', sa.String(length=64), nullable=False),
    sa.Column('number', sa.String(length=32), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('period_start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('period_end', sa.DateTime(timezone=True), nullable=False),
    sa.Column('lines', JSON, nullable=False),
    sa.Column('totals', JSON, nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_billing_invoices_shop_id_shops')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_billing_invoices')),
    sa.UniqueConstraint('shop_id', 'month', name=op.f('uq_billing_invoices_shop_id_month')),
    sa.UniqueConstraint('shop_id', 'sequence', name=op.f('uq_billing_invoices_shop_id_sequence'))
    )
    with op.batch_alter_table('billing_invoices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_billing_invoices_shop_id'), ['shop_id'], unique=False)

    op.create_table('billing_payouts',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('developer_id', sa.String(length=64), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('reference', sa.String(length=64), nullable=False),
    sa.Column('trigger', sa.String(length=16), nullable=False),
    sa.Column('transfer_id', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['developer_id'], ['users.id'], name=op.f('fk_billing_payouts_developer_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_billing_payouts')),
    sa.UniqueConstraint('reference', name=op.f('uq_billing_payouts_reference'))
    )
    with op.batch_alter_table('billing_payouts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_billing_payouts_developer_id'), ['developer_id'], unique=False)

    op.create_table('billing_exemptions',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('app_id', sa.String(length=64), nullable=False),
    sa.Column('shop_id', sa.String(length=64), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['app_id'], ['apps.id'], name=op.f('fk_billing_exemptions_app_id_apps')),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_billing_exemptions_shop_id_shops')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_billing_exemptions')),
    sa.UniqueConstraint('app_id', 'shop_id', name=op.f('uq_billing_exemptions_app_id_shop_id'))
    )
    with op.batch_alter_table('billing_exemptions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_billing_exemptions_app_id'), ['app_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_billing_exemptions_shop_id'), ['shop_id'], unique=False)

    op.create_table('billing_charges',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('shop_id', sa.String(length=64), nullable=False),
    sa.Column('app_id', sa.String(length=64), nullable=False),
    sa.Column('installation_id', sa.String(length=64), nullable=False),
    sa.Column('developer_id', sa.String(length=64), nullable=False),
    sa.Column('subscription_id', sa.String(length=64), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('description', sa.String(length=500), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('list_price', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('fee', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('free_reason', sa.String(length=200), nullable=True),
    sa.Column('return_url', sa.String(length=2000), nullable=True),
    sa.Column('idempotency_key', sa.String(length=255), nullable=True),
    sa.Column('period_start', sa.DateTime(timezone=True), nullable=True),
    sa.Column('period_end', sa.DateTime(timezone=True), nullable=True),
    sa.Column('refunded', sa.BigInteger(), nullable=False),
    sa.Column('held_amount', sa.BigInteger(), nullable=False),
    sa.Column('held_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('released_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_by', sa.String(length=64), nullable=True),
    sa.Column('paid_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['app_id'], ['apps.id'], name=op.f('fk_billing_charges_app_id_apps')),
    sa.ForeignKeyConstraint(['installation_id'], ['installations.id'], name=op.f('fk_billing_charges_installation_id_installations')),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_billing_charges_shop_id_shops')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_billing_charges')),
    sa.UniqueConstraint('subscription_id', 'idempotency_key', name=op.f('uq_billing_charges_subscription_id_idempotency_key'))
    )
    with op.batch_alter_table('billing_charges', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_billing_charges_app_id'), ['app_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_billing_charges_developer_id'), ['developer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_billing_charges_installation_id'), ['installation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_billing_charges_paid_at'), ['paid_at'], unique=False)
        batch_op.create_index('ix_billing_charges_release', ['released_at', 'held_until'], unique=False)
        batch_op.create_index(batch_op.f('ix_billing_charges_shop_id'), ['shop_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_billing_charges_subscription_id'), ['subscription_id'], unique=False)

    op.create_table('billing_subscriptions',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('shop_id', sa.String(length=64), nullable=False),
    sa.Column('app_id', sa.String(length=64), nullable=False),
    sa.Column('installation_id', sa.String(length=64), nullable=False),
    sa.Column('developer_id', sa.String(length=64), nullable=False),
    sa.Column('plan_id', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('price', sa.BigInteger(), nullable=False),
    sa.Column('list_price', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('interval', sa.String(length=8), nullable=False),
    sa.Column('trial_days', sa.Integer(), nullable=False),
    sa.Column('usage_cap', sa.BigInteger(), nullable=True),
    sa.Column('usage_used', sa.BigInteger(), nullable=False),
    sa.Column('return_url', sa.String(length=2000), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('free_reason', sa.String(length=200), nullable=True),
    sa.Column('replaces_id', sa.String(length=64), nullable=True),
    sa.Column('trial_ends_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('billing_anchor', sa.DateTime(timezone=True), nullable=True),
    sa.Column('current_period_start', sa.DateTime(timezone=True), nullable=True),
    sa.Column('current_period_end', sa.DateTime(timezone=True), nullable=True),
    sa.Column('retry_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('failed_attempts', sa.Integer(), nullable=False),
    sa.Column('decided_by', sa.String(length=64), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['app_id'], ['apps.id'], name=op.f('fk_billing_subscriptions_app_id_apps')),
    sa.ForeignKeyConstraint(['installation_id'], ['installations.id'], name=op.f('fk_billing_subscriptions_installation_id_installations')),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_billing_subscriptions_shop_id_shops')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_billing_subscriptions'))
    )
    with op.batch_alter_table('billing_subscriptions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_billing_subscriptions_app_id'), ['app_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_billing_subscriptions_current_period_end'), ['current_period_end'], unique=False)
        batch_op.create_index(batch_op.f('ix_billing_subscriptions_developer_id'), ['developer_id'], unique=False)
        batch_op.create_index('ix_billing_subscriptions_installation_status', ['installation_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_billing_subscriptions_shop_id'), ['shop_id'], unique=False)

    op.create_table('billing_refunds',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('shop_id', sa.String(length=64), nullable=False),
    sa.Column('charge_id', sa.String(length=64), nullable=False),
    sa.Column('app_id', sa.String(length=64), nullable=False),
    sa.Column('developer_id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('fee_reversed', sa.BigInteger(), nullable=False),
    sa.Column('from_held', sa.BigInteger(), nullable=False),
    sa.Column('from_available', sa.BigInteger(), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('idempotency_key', sa.String(length=255), nullable=True),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['charge_id'], ['billing_charges.id'], name=op.f('fk_billing_refunds_charge_id_billing_charges')),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_billing_refunds_shop_id_shops')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_billing_refunds')),
    sa.UniqueConstraint('charge_id', 'idempotency_key', name=op.f('uq_billing_refunds_charge_id_idempotency_key'))
    )
    with op.batch_alter_table('billing_refunds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_billing_refunds_app_id'), ['app_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_billing_refunds_charge_id'), ['charge_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_billing_refunds_developer_id'), ['developer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_billing_refunds_shop_id'), ['shop_id'], unique=False)



def downgrade():
    with op.batch_alter_table('billing_refunds', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_billing_refunds_shop_id'))
        batch_op.drop_index(batch_op.f('ix_billing_refunds_developer_id'))
        batch_op.drop_index(batch_op.f('ix_billing_refunds_charge_id'))
        batch_op.drop_index(batch_op.f('ix_billing_refunds_app_id'))

    op.drop_table('billing_refunds')
    with op.batch_alter_table('billing_subscriptions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_billing_subscriptions_shop_id'))
        batch_op.drop_index('ix_billing_subscriptions_installation_status')
        batch_op.drop_index(batch_op.f('ix_billing_subscriptions_developer_id'))
        batch_op.drop_index(batch_op.f('ix_billing_subscriptions_current_period_end'))
        batch_op.drop_index(batch_op.f('ix_billing_subscriptions_app_id'))

    op.drop_table('billing_subscriptions')
    with op.batch_alter_table('billing_charges', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_billing_charges_subscription_id'))
        batch_op.drop_index(batch_op.f('ix_billing_charges_shop_id'))
        batch_op.drop_index('ix_billing_charges_release')
        batch_op.drop_index(batch_op.f('ix_billing_charges_paid_at'))
        batch_op.drop_index(batch_op.f('ix_billing_charges_installation_id'))
        batch_op.drop_index(batch_op.f('ix_billing_charges_developer_id'))
        batch_op.drop_index(batch_op.f('ix_billing_charges_app_id'))

    op.drop_table('billing_charges')
    with op.batch_alter_table('billing_exemptions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_billing_exemptions_shop_id'))
        batch_op.drop_index(batch_op.f('ix_billing_exemptions_app_id'))

    op.drop_table('billing_exemptions')
    with op.batch_alter_table('billing_payouts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_billing_payouts_developer_id'))

    op.drop_table('billing_payouts')
    with op.batch_alter_table('billing_invoices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_billing_invoices_shop_id'))

    op.drop_table('billing_invoices')
