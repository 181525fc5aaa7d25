"""merge the plugin-log and marketplace branches (listings, billing, requirements, service market)

Since the marketplace's revisions 0017-0020 moved to its own branch (souk_marketplace/migrations), this
revision follows 0015 alone; it stays so databases that recorded it keep a known history.

Revision ID: 0021
Revises: 0015
Create Date: 2026-11-25 19:10:00

"""

# revision identifiers, used by Alembic.
revision = "0021"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
