"""webhooks: the app's own signing secret and subscriptions declared by the app's manifest

The listing's webhook test secret went in the same step (the submission checks sign with the app's secret,
the one production deliveries to the manifest's endpoints use); that part now lives on the marketplace's
branch, revision 0026_boundaries.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-21 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('apps', schema=None) as batch_op:
        batch_op.add_column(sa.Column('webhook_secret_sealed', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('previous_webhook_secret_sealed', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('previous_webhook_secret_expires_at', sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table('webhook_subscriptions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source', sa.String(length=16), server_default='api', nullable=False))


def downgrade():
    with op.batch_alter_table('webhook_subscriptions', schema=None) as batch_op:
        batch_op.drop_column('source')

    with op.batch_alter_table('apps', schema=None) as batch_op:
        batch_op.drop_column('previous_webhook_secret_expires_at')
        batch_op.drop_column('previous_webhook_secret_sealed')
        batch_op.drop_column('webhook_secret_sealed')
