"""oauth: authorization codes, refresh tokens, app (client-credentials) tokens

Revision ID: 0009
Revises: 0007
Create Date: 2026-11-26 10:00:00

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('oauth_codes',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('app_id', sa.String(length=64), nullable=False),
    sa.Column('shop_id', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('installation_id', sa.String(length=64), nullable=False),
    sa.Column('redirect_uri', sa.String(length=2000), nullable=True),
    sa.Column('scopes', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('code_challenge', sa.String(length=128), nullable=True),
    sa.Column('code_challenge_method', sa.String(length=16), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_oauth_codes_shop_id_shops')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oauth_codes')),
    sa.UniqueConstraint('code_hash', name=op.f('uq_oauth_codes_code_hash'))
    )
    with op.batch_alter_table('oauth_codes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_oauth_codes_app_id'), ['app_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_oauth_codes_installation_id'), ['installation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_oauth_codes_shop_id'), ['shop_id'], unique=False)

    op.create_table('oauth_refresh_tokens',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('app_id', sa.String(length=64), nullable=False),
    sa.Column('shop_id', sa.String(length=64), nullable=False),
    sa.Column('installation_id', sa.String(length=64), nullable=False),
    sa.Column('family_id', sa.String(length=64), nullable=False),
    sa.Column('access_token_id', sa.String(length=64), nullable=False),
    sa.Column('scopes', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('rotated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_oauth_refresh_tokens_shop_id_shops')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oauth_refresh_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_oauth_refresh_tokens_token_hash'))
    )
    with op.batch_alter_table('oauth_refresh_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_oauth_refresh_tokens_access_token_id'), ['access_token_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_oauth_refresh_tokens_app_id'), ['app_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_oauth_refresh_tokens_family_id'), ['family_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_oauth_refresh_tokens_installation_id'), ['installation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_oauth_refresh_tokens_shop_id'), ['shop_id'], unique=False)

    op.create_table('oauth_app_tokens',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('app_id', sa.String(length=64), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('token_hint', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oauth_app_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_oauth_app_tokens_token_hash'))
    )
    with op.batch_alter_table('oauth_app_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_oauth_app_tokens_app_id'), ['app_id'], unique=False)


def downgrade():
    with op.batch_alter_table('oauth_app_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_oauth_app_tokens_app_id'))

    op.drop_table('oauth_app_tokens')
    with op.batch_alter_table('oauth_refresh_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_oauth_refresh_tokens_shop_id'))
        batch_op.drop_index(batch_op.f('ix_oauth_refresh_tokens_installation_id'))
        batch_op.drop_index(batch_op.f('ix_oauth_refresh_tokens_family_id'))
        batch_op.drop_index(batch_op.f('ix_oauth_refresh_tokens_app_id'))
        batch_op.drop_index(batch_op.f('ix_oauth_refresh_tokens_access_token_id'))

    op.drop_table('oauth_refresh_tokens')
    with op.batch_alter_table('oauth_codes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_oauth_codes_shop_id'))
        batch_op.drop_index(batch_op.f('ix_oauth_codes_installation_id'))
        batch_op.drop_index(batch_op.f('ix_oauth_codes_app_id'))

    op.drop_table('oauth_codes')
