"""listings: drop the webhook test secret (submission checks sign with the app's own secret)

The platform's revision 0023 did this before the marketplace had its own branch; a database migrated then has
no such column any more, so the drop only happens where the column is still there.

Revision ID: 0026_boundaries
Revises: 0020
Create Date: 2026-12-06 23:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0026_boundaries'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade():
    columns = {column['name'] for column in sa.inspect(op.get_bind()).get_columns('listings')}
    if 'webhook_test_secret_sealed' not in columns:
        return
    with op.batch_alter_table('listings', schema=None) as batch_op:
        batch_op.drop_column('webhook_test_secret_sealed')


def downgrade():
    with op.batch_alter_table('listings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('webhook_test_secret_sealed', sa.String(length=400), nullable=True))
