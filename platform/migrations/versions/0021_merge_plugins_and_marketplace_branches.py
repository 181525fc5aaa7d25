"""merge the plugin-log and marketplace branches (listings, billing, requirements, service market)

Revision ID: 0021
Revises: 0015, 0017, 0018, 0019, 0020
Create Date: 2026-11-25 19:10:00

"""

# revision identifiers, used by Alembic.
revision = "0021"
down_revision = ("0015", "0017", "0018", "0019", "0020")
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
