"""catalog: the category tree, product tags, every product in a category, order lines keep theirs

Every existing shop gets its default category ("未分类") and every existing product goes into it.
Existing order lines get the category of their product (the only one it ever had); from now on
checkout copies it, so a later re-categorisation does not rewrite history.

Revision ID: 0027_categories
Revises: 0026_plugins
Create Date: 2026-12-22 10:00:00.000000

"""
import datetime as dt

from alembic import op
import sqlalchemy as sa

from souk_platform.core.ids import new_id


# revision identifiers, used by Alembic.
revision = '0027_categories'
down_revision = '0026_plugins'
branch_labels = None
depends_on = None

DEFAULT_NAME = "未分类"  # souk_platform.catalog.models.DEFAULT_CATEGORY_NAME at this revision


def upgrade():
    categories = op.create_table('categories',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('shop_id', sa.String(length=64), nullable=False),
    sa.Column('parent_id', sa.String(length=64), nullable=True),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('sibling_key', sa.String(length=130), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('is_default', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['parent_id'], ['categories.id'], name=op.f('fk_categories_parent_id_categories')),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_categories_shop_id_shops')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_categories')),
    sa.UniqueConstraint('shop_id', 'sibling_key', name=op.f('uq_categories_shop_id_sibling_key'))
    )
    with op.batch_alter_table('categories', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_categories_parent_id'), ['parent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_categories_shop_id'), ['shop_id'], unique=False)

    op.create_table('product_tags',
    sa.Column('product_id', sa.String(length=64), nullable=False),
    sa.Column('tag', sa.String(length=30), nullable=False),
    sa.Column('shop_id', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_product_tags_product_id_products')),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_product_tags_shop_id_shops')),
    sa.PrimaryKeyConstraint('product_id', 'tag', name=op.f('pk_product_tags'))
    )
    with op.batch_alter_table('product_tags', schema=None) as batch_op:
        batch_op.create_index('ix_product_tags_shop_id_tag', ['shop_id', 'tag'], unique=False)
        batch_op.create_index(batch_op.f('ix_product_tags_shop_id'), ['shop_id'], unique=False)

    with op.batch_alter_table('order_lines', schema=None) as batch_op:
        batch_op.add_column(sa.Column('category_id', sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f('ix_order_lines_category_id'), ['category_id'], unique=False)

    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.add_column(sa.Column('category_id', sa.String(length=64), nullable=True))

    # The default category of every shop, then every product and order line into it.
    connection = op.get_bind()
    now = dt.datetime.now(dt.UTC)
    if connection.dialect.name == "sqlite":
        now = now.replace(tzinfo=None)  # as UTCDateTime stores it there
    shop_ids = connection.execute(sa.text("SELECT id FROM shops ORDER BY id")).scalars().all()
    if shop_ids:
        op.bulk_insert(categories, [
            {
                "id": new_id("cat"),
                "shop_id": shop_id,
                "parent_id": None,
                "name": DEFAULT_NAME,
                "sibling_key": f"/{DEFAULT_NAME.casefold()}",
                "position": 0,
                "is_default": True,
                "created_at": now,
                "version": 1,
            }
            for shop_id in shop_ids
        ])
    op.execute(
        "UPDATE products SET category_id = (SELECT c.id FROM categories c"
        " WHERE c.shop_id = products.shop_id AND c.is_default)"
    )
    op.execute(
        "UPDATE order_lines SET category_id = (SELECT p.category_id FROM products p"
        " WHERE p.id = order_lines.product_id)"
    )

    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.alter_column('category_id', existing_type=sa.String(length=64), nullable=False)
        batch_op.create_index(batch_op.f('ix_products_category_id'), ['category_id'], unique=False)
        batch_op.create_foreign_key(
            batch_op.f('fk_products_category_id_categories'), 'categories', ['category_id'], ['id']
        )


def downgrade():
    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_products_category_id_categories'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_products_category_id'))
        batch_op.drop_column('category_id')

    with op.batch_alter_table('order_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_order_lines_category_id'))
        batch_op.drop_column('category_id')

    with op.batch_alter_table('product_tags', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_product_tags_shop_id'))
        batch_op.drop_index('ix_product_tags_shop_id_tag')

    op.drop_table('product_tags')
    with op.batch_alter_table('categories', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_categories_shop_id'))
        batch_op.drop_index(batch_op.f('ix_categories_parent_id'))

    op.drop_table('categories')
