"""service market: providers, services, packages, portfolio, orders, milestones, extensions, timeline, files, ratings

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-10 10:00:00.000000

Until the marketplace had its own branch this script was the platform's revision 0020 (off 0014, merged at
0021); it moved here unchanged but for the guard below and the branch's linear order.
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')
TS = sa.DateTime(timezone=True)


def upgrade():
    # A database migrated before the move already has these tables, made by this same script when it was the
    # platform's revision 0020: adopt them as they are (docs/architecture.md §9).
    if sa.inspect(op.get_bind()).has_table('service_providers'):
        return
    op.create_table('service_providers',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('display_name', sa.String(length=100), nullable=False),
    sa.Column('bio', sa.Text(), nullable=False),
    sa.Column('categories', JSON, nullable=False),
    sa.Column('created_at', TS, nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_service_providers_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_service_providers')),
    sa.UniqueConstraint('user_id', name=op.f('uq_service_providers_user_id'))
    )

    op.create_table('market_services',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('provider_id', sa.String(length=64), nullable=False),
    sa.Column('category', sa.String(length=32), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', TS, nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['provider_id'], ['service_providers.id'], name=op.f('fk_market_services_provider_id_service_providers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_market_services'))
    )
    with op.batch_alter_table('market_services', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_market_services_provider_id'), ['provider_id'], unique=False)
        batch_op.create_index('ix_market_services_status_category', ['status', 'category'], unique=False)

    op.create_table('service_packages',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('service_id', sa.String(length=64), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('description', sa.String(length=1000), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('price', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('delivery_days', sa.Integer(), nullable=False),
    sa.Column('revisions', sa.Integer(), nullable=False),
    sa.Column('milestones', JSON, nullable=False),
    sa.Column('created_at', TS, nullable=False),
    sa.Column('archived_at', TS, nullable=True),
    sa.ForeignKeyConstraint(['service_id'], ['market_services.id'], name=op.f('fk_service_packages_service_id_market_services')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_service_packages'))
    )
    with op.batch_alter_table('service_packages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_service_packages_service_id'), ['service_id'], unique=False)

    op.create_table('service_portfolio_items',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('provider_id', sa.String(length=64), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('link', sa.String(length=500), nullable=True),
    sa.Column('image_type', sa.String(length=50), nullable=True),
    sa.Column('image', sa.LargeBinary(), nullable=True),
    sa.Column('created_at', TS, nullable=False),
    sa.ForeignKeyConstraint(['provider_id'], ['service_providers.id'], name=op.f('fk_service_portfolio_items_provider_id_service_providers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_service_portfolio_items'))
    )
    with op.batch_alter_table('service_portfolio_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_service_portfolio_items_provider_id'), ['provider_id'], unique=False)

    op.create_table('service_orders',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('shop_id', sa.String(length=64), nullable=False),
    sa.Column('provider_id', sa.String(length=64), nullable=False),
    sa.Column('provider_user_id', sa.String(length=64), nullable=False),
    sa.Column('service_id', sa.String(length=64), nullable=False),
    sa.Column('package_id', sa.String(length=64), nullable=False),
    sa.Column('service_title', sa.String(length=200), nullable=False),
    sa.Column('package_name', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('revisions_included', sa.Integer(), nullable=False),
    sa.Column('fee_bps', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=32), nullable=False),
    sa.Column('placed_by', sa.String(length=64), nullable=True),
    sa.Column('requirements', sa.Text(), nullable=True),
    sa.Column('due_at', TS, nullable=True),
    sa.Column('review_until', TS, nullable=True),
    sa.Column('clearing_until', TS, nullable=True),
    sa.Column('dispute_from', sa.String(length=32), nullable=True),
    sa.Column('dispute_reason', sa.Text(), nullable=True),
    sa.Column('answer_until', TS, nullable=True),
    sa.Column('mediation_until', TS, nullable=True),
    sa.Column('offer_by', sa.String(length=16), nullable=True),
    sa.Column('offer_refund', sa.BigInteger(), nullable=True),
    sa.Column('released_total', sa.BigInteger(), nullable=False),
    sa.Column('fee_total', sa.BigInteger(), nullable=False),
    sa.Column('refunded_total', sa.BigInteger(), nullable=False),
    sa.Column('created_at', TS, nullable=False),
    sa.Column('closed_at', TS, nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['package_id'], ['service_packages.id'], name=op.f('fk_service_orders_package_id_service_packages')),
    sa.ForeignKeyConstraint(['provider_id'], ['service_providers.id'], name=op.f('fk_service_orders_provider_id_service_providers')),
    sa.ForeignKeyConstraint(['service_id'], ['market_services.id'], name=op.f('fk_service_orders_service_id_market_services')),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_service_orders_shop_id_shops')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_service_orders'))
    )
    with op.batch_alter_table('service_orders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_service_orders_shop_id'), ['shop_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_service_orders_provider_id'), ['provider_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_service_orders_service_id'), ['service_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_service_orders_state'), ['state'], unique=False)
        batch_op.create_index(batch_op.f('ix_service_orders_review_until'), ['review_until'], unique=False)
        batch_op.create_index(batch_op.f('ix_service_orders_clearing_until'), ['clearing_until'], unique=False)
        batch_op.create_index(batch_op.f('ix_service_orders_answer_until'), ['answer_until'], unique=False)
        batch_op.create_index(batch_op.f('ix_service_orders_mediation_until'), ['mediation_until'], unique=False)
        batch_op.create_index('ix_service_orders_shop_state', ['shop_id', 'state'], unique=False)

    op.create_table('service_milestones',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('order_id', sa.String(length=64), nullable=False),
    sa.Column('shop_id', sa.String(length=64), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('delivery_days', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('revisions_used', sa.Integer(), nullable=False),
    sa.Column('started_at', TS, nullable=True),
    sa.Column('due_at', TS, nullable=True),
    sa.Column('delivered_at', TS, nullable=True),
    sa.Column('accepted_at', TS, nullable=True),
    sa.Column('released_at', TS, nullable=True),
    sa.ForeignKeyConstraint(['order_id'], ['service_orders.id'], name=op.f('fk_service_milestones_order_id_service_orders')),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_service_milestones_shop_id_shops')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_service_milestones'))
    )
    with op.batch_alter_table('service_milestones', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_service_milestones_order_id'), ['order_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_service_milestones_shop_id'), ['shop_id'], unique=False)

    op.create_table('service_extensions',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('order_id', sa.String(length=64), nullable=False),
    sa.Column('shop_id', sa.String(length=64), nullable=False),
    sa.Column('milestone_id', sa.String(length=64), nullable=False),
    sa.Column('days', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=1000), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('requested_at', TS, nullable=False),
    sa.Column('expires_at', TS, nullable=False),
    sa.Column('decided_at', TS, nullable=True),
    sa.ForeignKeyConstraint(['milestone_id'], ['service_milestones.id'], name=op.f('fk_service_extensions_milestone_id_service_milestones')),
    sa.ForeignKeyConstraint(['order_id'], ['service_orders.id'], name=op.f('fk_service_extensions_order_id_service_orders')),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_service_extensions_shop_id_shops')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_service_extensions'))
    )
    with op.batch_alter_table('service_extensions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_service_extensions_order_id'), ['order_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_service_extensions_shop_id'), ['shop_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_service_extensions_expires_at'), ['expires_at'], unique=False)

    op.create_table('service_order_events',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('order_id', sa.String(length=64), nullable=False),
    sa.Column('shop_id', sa.String(length=64), nullable=False),
    sa.Column('at', TS, nullable=False),
    sa.Column('actor', sa.String(length=16), nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=True),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('from_state', sa.String(length=32), nullable=True),
    sa.Column('to_state', sa.String(length=32), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('details', JSON, nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['service_orders.id'], name=op.f('fk_service_order_events_order_id_service_orders')),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_service_order_events_shop_id_shops')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_service_order_events'))
    )
    with op.batch_alter_table('service_order_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_service_order_events_order_id'), ['order_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_service_order_events_shop_id'), ['shop_id'], unique=False)

    op.create_table('service_files',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('order_id', sa.String(length=64), nullable=False),
    sa.Column('shop_id', sa.String(length=64), nullable=False),
    sa.Column('milestone_id', sa.String(length=64), nullable=True),
    sa.Column('uploaded_by', sa.String(length=16), nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=True),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', TS, nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['service_orders.id'], name=op.f('fk_service_files_order_id_service_orders')),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_service_files_shop_id_shops')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_service_files'))
    )
    with op.batch_alter_table('service_files', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_service_files_order_id'), ['order_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_service_files_shop_id'), ['shop_id'], unique=False)

    op.create_table('service_ratings',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('order_id', sa.String(length=64), nullable=False),
    sa.Column('shop_id', sa.String(length=64), nullable=False),
    sa.Column('provider_id', sa.String(length=64), nullable=False),
    sa.Column('service_id', sa.String(length=64), nullable=False),
    sa.Column('stars', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('created_at', TS, nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['service_orders.id'], name=op.f('fk_service_ratings_order_id_service_orders')),
    sa.ForeignKeyConstraint(['provider_id'], ['service_providers.id'], name=op.f('fk_service_ratings_provider_id_service_providers')),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_service_ratings_shop_id_shops')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_service_ratings')),
    sa.UniqueConstraint('order_id', name=op.f('uq_service_ratings_order_id'))
    )
    with op.batch_alter_table('service_ratings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_service_ratings_provider_id'), ['provider_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_service_ratings_service_id'), ['service_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_service_ratings_shop_id'), ['shop_id'], unique=False)


def downgrade():
    op.drop_table('service_ratings')
    op.drop_table('service_files')
    op.drop_table('service_order_events')
    op.drop_table('service_extensions')
    op.drop_table('service_milestones')
    op.drop_table('service_orders')
    op.drop_table('service_portfolio_items')
    op.drop_table('service_packages')
    op.drop_table('market_services')
    op.drop_table('service_providers')
