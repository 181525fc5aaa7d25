"""oauth: device logins of souk-dev (RFC 8628) and who approved an app token

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-21 12:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('oauth_device_authorizations',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('app_id', sa.String(length=64), nullable=False),
    sa.Column('device_code_hash', sa.String(length=64), nullable=False),
    sa.Column('user_code', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('decided_by', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_polled_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oauth_device_authorizations')),
    sa.UniqueConstraint('device_code_hash', name=op.f('uq_oauth_device_authorizations_device_code_hash')),
    sa.UniqueConstraint('user_code', name=op.f('uq_oauth_device_authorizations_user_code'))
    )
    with op.batch_alter_table('oauth_device_authorizations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_oauth_device_authorizations_app_id'), ['app_id'], unique=False)

    with op.batch_alter_table('oauth_app_tokens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('approved_by', sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table('oauth_app_tokens', schema=None) as batch_op:
        batch_op.drop_column('approved_by')

    with op.batch_alter_table('oauth_device_authorizations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_oauth_device_authorizations_app_id'))

    op.drop_table('oauth_device_authorizations')
