"""merge the apps, OAuth, webhooks and report-index branches

Revision ID: 0013
Revises: 0008, 0009, 0011, 0012
Create Date: 2026-11-25 16:20:00

"""

# revision identifiers, used by Alembic.
revision = "0013"
down_revision = ("0008", "0009", "0011", "0012")
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
