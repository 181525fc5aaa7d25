"""webhooks: listen sessions of the developer CLI and the deliveries they handed out

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-20 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('webhook_listen_sessions',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('app_id', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_poll_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['app_id'], ['apps.id'], name=op.f('fk_webhook_listen_sessions_app_id_apps')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_listen_sessions'))
    )
    with op.batch_alter_table('webhook_listen_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_webhook_listen_sessions_app_id'), ['app_id'], unique=False)

    op.create_table('webhook_listen_events',
    sa.Column('session_id', sa.String(length=64), nullable=False),
    sa.Column('delivery_id', sa.String(length=64), nullable=False),
    sa.Column('taken_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['session_id'], ['webhook_listen_sessions.id'], name=op.f('fk_webhook_listen_events_session_id_webhook_listen_sessions')),
    sa.PrimaryKeyConstraint('session_id', 'delivery_id', name=op.f('pk_webhook_listen_events'))
    )


def downgrade():
    op.drop_table('webhook_listen_events')
    with op.batch_alter_table('webhook_listen_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_webhook_listen_sessions_app_id'))
    op.drop_table('webhook_listen_sessions')
