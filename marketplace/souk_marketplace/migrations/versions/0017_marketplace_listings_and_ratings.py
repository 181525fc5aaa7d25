"""marketplace: listings, submissions, images, listing timeline, app ratings

Revision ID: 0017
Revises: (the marketplace branch starts here; depends on platform 0014)
Create Date: 2026-12-05 10:00:00.000000

Until the marketplace had its own branch this script was the platform's revision 0017 (off 0014, merged at
0021); it moved here unchanged but for the guard below and the branch's linear order.
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0017'
down_revision = None
branch_labels = ('marketplace',)
depends_on = '0014'

JSON = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')
SEARCH_VECTOR = postgresql.TSVECTOR().with_variant(sa.Text(), 'sqlite')


def upgrade():
    # A database migrated before the move already has these tables, made by this same script when it was the
    # platform's revision 0017: adopt them as they are (docs/architecture.md §9).
    if sa.inspect(op.get_bind()).has_table('listings'):
        return
    op.create_table('listings',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('app_id', sa.String(length=64), nullable=False),
    sa.Column('slug', sa.String(length=80), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('listed_submission_id', sa.String(length=64), nullable=True),
    sa.Column('category', sa.String(length=32), nullable=True),
    sa.Column('first_listed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('listed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('crowdfunded', sa.Boolean(), nullable=False),
    sa.Column('crowdfunded_requirement_id', sa.String(length=64), nullable=True),
    sa.Column('webhook_test_secret_sealed', sa.String(length=400), nullable=True),
    sa.Column('search_text', sa.Text(), nullable=False),
    sa.Column('search_vector', SEARCH_VECTOR, nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['app_id'], ['apps.id'], name=op.f('fk_listings_app_id_apps')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_listings')),
    sa.UniqueConstraint('app_id', name=op.f('uq_listings_app_id')),
    sa.UniqueConstraint('slug', name=op.f('uq_listings_slug'))
    )
    with op.batch_alter_table('listings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_listings_category'), ['category'], unique=False)
        batch_op.create_index(batch_op.f('ix_listings_state'), ['state'], unique=False)
        batch_op.create_index('ix_listings_search_vector', ['search_vector'], unique=False, postgresql_using='gin')

    op.create_table('listing_images',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('listing_id', sa.String(length=64), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('content_type', sa.String(length=32), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['listing_id'], ['listings.id'], name=op.f('fk_listing_images_listing_id_listings')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_listing_images')),
    sa.UniqueConstraint('listing_id', 'sha256', name=op.f('uq_listing_images_listing_id_sha256'))
    )
    with op.batch_alter_table('listing_images', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_listing_images_listing_id'), ['listing_id'], unique=False)

    op.create_table('listing_submissions',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('listing_id', sa.String(length=64), nullable=False),
    sa.Column('app_id', sa.String(length=64), nullable=False),
    sa.Column('app_version_id', sa.String(length=64), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('texts', JSON, nullable=False),
    sa.Column('category', sa.String(length=32), nullable=False),
    sa.Column('icon_image_id', sa.String(length=64), nullable=False),
    sa.Column('screenshot_image_ids', JSON, nullable=False),
    sa.Column('support_contact', sa.String(length=320), nullable=False),
    sa.Column('privacy_url', sa.String(length=2000), nullable=False),
    sa.Column('install_url', sa.String(length=2000), nullable=True),
    sa.Column('changelog', sa.Text(), nullable=False),
    sa.Column('scope_justifications', JSON, nullable=False),
    sa.Column('checks', JSON, nullable=False),
    sa.Column('submitted_by', sa.String(length=64), nullable=True),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('checks_finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_by', sa.String(length=64), nullable=True),
    sa.Column('decision_reason', sa.Text(), nullable=True),
    sa.Column('checklist', JSON, nullable=False),
    sa.ForeignKeyConstraint(['app_id'], ['apps.id'], name=op.f('fk_listing_submissions_app_id_apps')),
    sa.ForeignKeyConstraint(['app_version_id'], ['app_versions.id'], name=op.f('fk_listing_submissions_app_version_id_app_versions')),
    sa.ForeignKeyConstraint(['decided_by'], ['users.id'], name=op.f('fk_listing_submissions_decided_by_users')),
    sa.ForeignKeyConstraint(['icon_image_id'], ['listing_images.id'], name=op.f('fk_listing_submissions_icon_image_id_listing_images')),
    sa.ForeignKeyConstraint(['listing_id'], ['listings.id'], name=op.f('fk_listing_submissions_listing_id_listings')),
    sa.ForeignKeyConstraint(['submitted_by'], ['users.id'], name=op.f('fk_listing_submissions_submitted_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_listing_submissions')),
    sa.UniqueConstraint('listing_id', 'number', name=op.f('uq_listing_submissions_listing_id_number'))
    )
    with op.batch_alter_table('listing_submissions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_listing_submissions_app_id'), ['app_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_listing_submissions_app_version_id'), ['app_version_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_listing_submissions_listing_id'), ['listing_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_listing_submissions_status'), ['status'], unique=False)

    op.create_table('listing_events',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('listing_id', sa.String(length=64), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('submission_id', sa.String(length=64), nullable=True),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('from_state', sa.String(length=16), nullable=False),
    sa.Column('to_state', sa.String(length=16), nullable=False),
    sa.Column('actor_kind', sa.String(length=16), nullable=False),
    sa.Column('actor_id', sa.String(length=64), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['listing_id'], ['listings.id'], name=op.f('fk_listing_events_listing_id_listings')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_listing_events')),
    sa.UniqueConstraint('listing_id', 'number', name=op.f('uq_listing_events_listing_id_number'))
    )
    with op.batch_alter_table('listing_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_listing_events_listing_id'), ['listing_id'], unique=False)

    op.create_table('app_ratings',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('app_id', sa.String(length=64), nullable=False),
    sa.Column('shop_id', sa.String(length=64), nullable=False),
    sa.Column('stars', sa.SmallInteger(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reply_text', sa.Text(), nullable=True),
    sa.Column('replied_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint('stars BETWEEN 1 AND 5', name=op.f('ck_app_ratings_stars_range')),
    sa.ForeignKeyConstraint(['app_id'], ['apps.id'], name=op.f('fk_app_ratings_app_id_apps')),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_app_ratings_shop_id_shops')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_app_ratings')),
    sa.UniqueConstraint('app_id', 'shop_id', name=op.f('uq_app_ratings_app_id_shop_id'))
    )
    with op.batch_alter_table('app_ratings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_app_ratings_app_id'), ['app_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_app_ratings_shop_id'), ['shop_id'], unique=False)


def downgrade():
    with op.batch_alter_table('app_ratings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_app_ratings_shop_id'))
        batch_op.drop_index(batch_op.f('ix_app_ratings_app_id'))
    op.drop_table('app_ratings')
    with op.batch_alter_table('listing_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_listing_events_listing_id'))
    op.drop_table('listing_events')
    with op.batch_alter_table('listing_submissions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_listing_submissions_status'))
        batch_op.drop_index(batch_op.f('ix_listing_submissions_listing_id'))
        batch_op.drop_index(batch_op.f('ix_listing_submissions_app_version_id'))
        batch_op.drop_index(batch_op.f('ix_listing_submissions_app_id'))
    op.drop_table('listing_submissions')
    with op.batch_alter_table('listing_images', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_listing_images_listing_id'))
    op.drop_table('listing_images')
    with op.batch_alter_table('listings', schema=None) as batch_op:
        batch_op.drop_index('ix_listings_search_vector')
        batch_op.drop_index(batch_op.f('ix_listings_state'))
        batch_op.drop_index(batch_op.f('ix_listings_category'))
    op.drop_table('listings')
