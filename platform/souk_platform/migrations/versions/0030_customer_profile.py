"""customers: birthday, gender, source channel, and external identities

Revision ID: 0030_customer_profile
Revises: 0034_segment_snapshots
Create Date: 2026-12-07 05:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0030_customer_profile'
down_revision = '0034_segment_snapshots'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('birthday', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('gender', sa.String(length=8), server_default='unknown', nullable=False))
        batch_op.add_column(sa.Column('source_channel', sa.String(length=32), nullable=True))

    op.create_table('customer_identities',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('shop_id', sa.String(length=64), nullable=False),
    sa.Column('customer_id', sa.String(length=64), nullable=False),
    sa.Column('provider', sa.String(length=80), nullable=False),
    sa.Column('external_id', sa.String(length=128), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_customer_identities_customer_id_customers')),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_customer_identities_shop_id_shops')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customer_identities')),
    sa.UniqueConstraint('shop_id', 'provider', 'external_id', name=op.f('uq_customer_identities_shop_id_provider_external_id'))
    )
    with op.batch_alter_table('customer_identities', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_customer_identities_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_customer_identities_shop_id'), ['shop_id'], unique=False)


def downgrade():
    with op.batch_alter_table('customer_identities', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_customer_identities_shop_id'))
        batch_op.drop_index(batch_op.f('ix_customer_identities_customer_id'))
    op.drop_table('customer_identities')
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.drop_column('source_channel')
        batch_op.drop_column('gender')
        batch_op.drop_column('birthday')
