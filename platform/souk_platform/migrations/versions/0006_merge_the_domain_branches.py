"""merge the domain branches

Revision ID: 0006
Revises: 0002, 0003, 0004, 0005
Create Date: 2026-11-25 15:39:14.480451

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = ('0002', '0003', '0004', '0005')
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
