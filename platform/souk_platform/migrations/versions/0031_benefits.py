"""benefits: benefit packages (权益包) and their grants, once per package, customer and period

Revision ID: 0031_benefits
Revises: 0032_coupon_packs
Create Date: 2026-12-07 05:10:00.000000

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0031_benefits'
down_revision = '0032_coupon_packs'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')


def upgrade():
    op.create_table('benefit_packages',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('shop_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('description', sa.String(length=500), nullable=True),
    sa.Column('trigger', sa.String(length=16), nullable=False),
    sa.Column('trigger_params', JSON, nullable=False),
    sa.Column('items', JSON, nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_benefit_packages_shop_id_shops')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_benefit_packages'))
    )
    with op.batch_alter_table('benefit_packages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_benefit_packages_shop_id'), ['shop_id'], unique=False)

    op.create_table('benefit_grants',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('shop_id', sa.String(length=64), nullable=False),
    sa.Column('package_id', sa.String(length=64), nullable=False),
    sa.Column('customer_id', sa.String(length=64), nullable=False),
    sa.Column('period', sa.String(length=100), nullable=False),
    sa.Column('trigger', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('items', JSON, nullable=False),
    sa.Column('granted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('note', sa.String(length=200), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_benefit_grants_customer_id_customers')),
    sa.ForeignKeyConstraint(['package_id'], ['benefit_packages.id'], name=op.f('fk_benefit_grants_package_id_benefit_packages')),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_benefit_grants_shop_id_shops')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_benefit_grants')),
    sa.UniqueConstraint('shop_id', 'package_id', 'customer_id', 'period', name=op.f('uq_benefit_grants_shop_id_package_id_customer_id_period'))
    )
    with op.batch_alter_table('benefit_grants', schema=None) as batch_op:
        batch_op.create_index('ix_benefit_grants_customer_id_status', ['customer_id', 'status'], unique=False)
        batch_op.create_index('ix_benefit_grants_status_expires_at', ['status', 'expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_benefit_grants_package_id'), ['package_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_benefit_grants_shop_id'), ['shop_id'], unique=False)


def downgrade():
    with op.batch_alter_table('benefit_grants', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_benefit_grants_shop_id'))
        batch_op.drop_index(batch_op.f('ix_benefit_grants_package_id'))
        batch_op.drop_index('ix_benefit_grants_status_expires_at')
        batch_op.drop_index('ix_benefit_grants_customer_id_status')
    op.drop_table('benefit_grants')
    with op.batch_alter_table('benefit_packages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_benefit_packages_shop_id'))
    op.drop_table('benefit_packages')
