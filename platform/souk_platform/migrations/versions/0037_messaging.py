"""messaging: message channels (email, inbox, apps'), templates and messages

Revision ID: 0037_messaging
Revises: 0035_benefit_rights
Create Date: 2026-12-07 08:00:00.000000

"""
import datetime as dt

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from souk_platform.core.ids import new_id

# revision identifiers, used by Alembic.
revision = '0037_messaging'
down_revision = '0035_benefit_rights'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')


def upgrade():
    op.create_table('message_channels',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('shop_id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('config', JSON, nullable=False),
    sa.Column('installation_id', sa.String(length=64), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('daily_cap', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_message_channels_shop_id_shops')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_message_channels')),
    sa.UniqueConstraint('shop_id', 'installation_id', 'key', name=op.f('uq_message_channels_shop_id_installation_id_key'))
    )
    with op.batch_alter_table('message_channels', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_message_channels_shop_id'), ['shop_id'], unique=False)

    # Every shop's built-in email and inbox channels (new shops get theirs when created).
    connection = op.get_bind()
    now = dt.datetime.now(dt.UTC)
    if connection.dialect.name == "sqlite":
        now = now.replace(tzinfo=None)  # as UTCDateTime stores it there
    shops = connection.execute(sa.text("SELECT id, name FROM shops ORDER BY id")).all()
    if shops:
        channels = sa.table(
            'message_channels', *(sa.column(name) for name in (
                'id', 'shop_id', 'kind', 'name', 'status', 'config', 'installation_id', 'key', 'daily_cap',
                'created_at', 'updated_at', 'version',
            ))
        )
        channels.c.config.type = JSON
        op.bulk_insert(channels, [
            {
                "id": new_id("mch"),
                "shop_id": shop_id,
                "kind": key,
                "name": {"email": "Email", "inbox": "In-app inbox"}[key],
                "status": "active",
                "config": {"from_address": None, "from_name": shop_name} if key == "email" else {},
                "installation_id": "",
                "key": key,
                "daily_cap": None,
                "created_at": now,
                "updated_at": now,
                "version": 1,
            }
            for shop_id, shop_name in shops
            for key in ("email", "inbox")
        ])

    op.create_table('message_templates',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('shop_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('channel_kind', sa.String(length=16), nullable=False),
    sa.Column('subject', sa.String(length=500), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('variables', JSON, nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_message_templates_shop_id_shops')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_message_templates'))
    )
    with op.batch_alter_table('message_templates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_message_templates_shop_id'), ['shop_id'], unique=False)

    op.create_table('messages',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('shop_id', sa.String(length=64), nullable=False),
    sa.Column('customer_id', sa.String(length=64), nullable=False),
    sa.Column('channel_id', sa.String(length=64), nullable=False),
    sa.Column('template_id', sa.String(length=64), nullable=True),
    sa.Column('channel_kind', sa.String(length=16), nullable=False),
    sa.Column('subject', sa.String(length=500), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('recipient', sa.String(length=320), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=True),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('source_id', sa.String(length=64), nullable=True),
    sa.Column('idempotency_key', sa.String(length=200), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('send_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('clicked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('failed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['channel_id'], ['message_channels.id'], name=op.f('fk_messages_channel_id_message_channels')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_messages_customer_id_customers')),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_messages_shop_id_shops')),
    sa.ForeignKeyConstraint(['template_id'], ['message_templates.id'], name=op.f('fk_messages_template_id_message_templates')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_messages')),
    sa.UniqueConstraint('shop_id', 'idempotency_key', name=op.f('uq_messages_shop_id_idempotency_key'))
    )
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.create_index('ix_messages_customer_channel_created', ['customer_id', 'channel_id', 'created_at'], unique=False)
        batch_op.create_index('ix_messages_status_send_at', ['status', 'send_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_messages_channel_id'), ['channel_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_messages_shop_id'), ['shop_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_messages_template_id'), ['template_id'], unique=False)


def downgrade():
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_messages_template_id'))
        batch_op.drop_index(batch_op.f('ix_messages_shop_id'))
        batch_op.drop_index(batch_op.f('ix_messages_channel_id'))
        batch_op.drop_index('ix_messages_status_send_at')
        batch_op.drop_index('ix_messages_customer_channel_created')
    op.drop_table('messages')
    with op.batch_alter_table('message_templates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_message_templates_shop_id'))
    op.drop_table('message_templates')
    with op.batch_alter_table('message_channels', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_message_channels_shop_id'))
    op.drop_table('message_channels')
