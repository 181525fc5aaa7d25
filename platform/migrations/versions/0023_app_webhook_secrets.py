"""webhooks: the app's own signing secret and subscriptions declared by the app's manifest

The listing's webhook test secret goes: the submission checks sign with the app's secret, the one
production deliveries to the manifest's endpoints use.

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

    with op.batch_alter_table('listings', schema=None) as batch_op:
        batch_op.drop_column('webhook_test_secret_sealed')


def downgrade():
    with op.batch_alter_table('listings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('webhook_test_secret_sealed', sa.String(length=400), nullable=True))

    with op.batch_alter_table('webhook_subscriptions', schema=None) as batch_op:
        batch_op.drop_column('source')

    with op.batch_alter_table('apps', schema=None) as batch_op:
        batch_op.drop_column('previous_webhook_secret_expires_at')
        batch_op.drop_column('previous_webhook_secret_sealed')
        batch_op.drop_column('webhook_secret_sealed')
