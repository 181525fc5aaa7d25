"""orders: the benefit package right that priced each order line (docs/architecture.md §5.10)

Existing lines were priced by level perks or at the list price: no grant, no package.

Revision ID: 0035_benefit_rights
Revises: 0038_journeys
Create Date: 2026-12-07 08:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0035_benefit_rights'
down_revision = '0038_journeys'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('order_lines', schema=None) as batch_op:
        batch_op.add_column(sa.Column('benefit_grant_id', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('benefit_package_id', sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table('order_lines', schema=None) as batch_op:
        batch_op.drop_column('benefit_package_id')
        batch_op.drop_column('benefit_grant_id')
