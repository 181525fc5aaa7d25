"""messages: an index on (shop_id, created_at) for the engagement report's period (docs/architecture.md §5.11)

Revision ID: 0043_message_report_index
Revises: 0042_points_tasks
Create Date: 2026-12-07 12:00:00.000000

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0043_message_report_index'
down_revision = '0042_points_tasks'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_messages_shop_created', 'messages', ['shop_id', 'created_at'], unique=False)


def downgrade():
    op.drop_index('ix_messages_shop_created', table_name='messages')
