"""Products, SKUs and inventory adjustments over HTTP (scopes ``read_products`` / ``write_products``)."""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask.views import MethodView

from souk_platform.api import (
    Page,
    PageArgs,
    current_principal,
    etag,
    expected_version,
    fast_response,
    idempotent,
    page_of,
    page_schema,
    paginated,
    requires,
    transactional,
)
from souk_platform.api.pagination import cursor_id, cut_page
from souk_platform.api.parsing import Blueprint
from souk_platform.catalog import categories, services
from souk_platform.catalog.models import InventoryAdjustment
from souk_platform.catalog.schemas import (
    AdjustmentCreateSchema,
    AdjustmentResultSchema,
    AdjustmentSchema,
    CategoryCreateSchema,
    CategoryListSchema,
    CategorySchema,
    CategoryUpdateSchema,
    ProductCreateSchema,
    ProductQuerySchema,
    ProductSchema,
    ProductUpdateSchema,
    SkuCreateSchema,
    SkuSchema,
    SkuUpdateSchema,
    product_json,
)
from souk_platform.db import db

blp = Blueprint("catalog", __name__, url_prefix="", description="Categories, products, SKUs and stock")


def _shop_id() -> str:
    return current_principal().shop_id


@blp.route("/products")
class ProductList(MethodView):
    @requires("read_products")
    @blp.arguments(ProductQuerySchema, location="query")
    @fast_response(blp, 200, page_schema(ProductSchema))
    def get(self, args: dict[str, Any]) -> Any:
        """The shop's products with their SKUs, newest first (filter by status, title, category subtree or tag)"""
        category_id, shop_id = args.pop("category_id"), _shop_id()
        rows = services.product_page(
            db.session,
            shop_id,
            status=args["status"],
            q=args["q"],
            category_ids=None
            if category_id is None
            else categories.subtree_ids(db.session, shop_id=shop_id, category_id=category_id),
            tag=args["tag"],
            limit=args["limit"] + 1,
            after_id=cursor_id(args["cursor"]),
        )
        page = cut_page(rows, args["limit"])
        return paginated(
            Page([product_json(found.product, found.skus, found.tags) for found in page.items], page.next_cursor)
        )

    @requires("write_products")
    @transactional
    @blp.arguments(ProductCreateSchema)
    @blp.response(201, ProductSchema)
    @blp.alt_response(404, description="The category is not in this shop")
    @blp.alt_response(409, description="A SKU code is already used in this shop")
    def post(self, args: dict[str, Any]) -> Any:
        """Create a product together with its SKUs (prices in fen of the shop's currency) and tags"""
        product = services.create_product(
            db.session,
            shop_id=_shop_id(),
            title=args["title"],
            description=args["description"],
            status=args["status"],
            skus=[services.NewSku(**sku) for sku in args["skus"]],
            category_id=args.get("category_id"),
            tags=args["tags"],
        )
        headers = {**etag(product.version), "Location": url_for("catalog.ProductResource", product_id=product.id)}
        return product, 201, headers


@blp.route("/products/<product_id>")
class ProductResource(MethodView):
    @requires("read_products")
    @fast_response(blp, 200, ProductSchema)
    def get(self, product_id: str) -> Any:
        """One product with its SKUs and their available stock"""
        product, skus, tags = services.get_product_row(db.session, shop_id=_shop_id(), product_id=product_id)
        return product_json(product, skus, tags), 200, etag(product.version)

    @requires("write_products")
    @transactional
    @blp.arguments(ProductUpdateSchema)
    @blp.response(200, ProductSchema)
    @blp.alt_response(404, description="The category is not in this shop")
    @blp.alt_response(412, description="If-Match names a stale version")
    def patch(self, changes: dict[str, Any], product_id: str) -> Any:
        """Change a product's title, description, status, category or tags (send If-Match with the version you read)"""
        product = services.update_product(
            db.session,
            shop_id=_shop_id(),
            product_id=product_id,
            changes=changes,
            expected_version=expected_version(),
        )
        return product, 200, etag(product.version)

    @requires("write_products")
    @transactional
    @blp.response(200, ProductSchema)
    @blp.alt_response(412, description="If-Match names a stale version")
    def delete(self, product_id: str) -> Any:
        """Archive a product: it stays for order history but can no longer be sold"""
        product = services.archive_product(
            db.session, shop_id=_shop_id(), product_id=product_id, expected_version=expected_version()
        )
        return product, 200, etag(product.version)


@blp.route("/products/<product_id>/skus")
class ProductSkus(MethodView):
    @requires("write_products")
    @transactional
    @blp.arguments(SkuCreateSchema)
    @blp.response(201, SkuSchema)
    @blp.alt_response(409, description="The SKU code is already used in this shop")
    def post(self, args: dict[str, Any], product_id: str) -> Any:
        """Add a SKU to a product"""
        sku = services.add_sku(db.session, shop_id=_shop_id(), product_id=product_id, spec=services.NewSku(**args))
        return sku, 201, {**etag(sku.version), "Location": url_for("catalog.SkuResource", sku_id=sku.id)}


@blp.route("/skus/<sku_id>")
class SkuResource(MethodView):
    @requires("read_products")
    @blp.response(200, SkuSchema)
    def get(self, sku_id: str) -> Any:
        """One SKU with its stock: on hand, reserved by unpaid orders, available"""
        sku = services.get_sku(db.session, shop_id=_shop_id(), sku_id=sku_id)
        return sku, 200, etag(sku.version)

    @requires("write_products")
    @transactional
    @blp.arguments(SkuUpdateSchema)
    @blp.response(200, SkuSchema)
    @blp.alt_response(409, description="The SKU code is already used in this shop")
    @blp.alt_response(412, description="If-Match names a stale version")
    def patch(self, changes: dict[str, Any], sku_id: str) -> Any:
        """Change a SKU's code, title or price (stock changes are inventory adjustments)"""
        sku = services.update_sku(
            db.session, shop_id=_shop_id(), sku_id=sku_id, changes=changes, expected_version=expected_version()
        )
        return sku, 200, etag(sku.version)


@blp.route("/skus/<sku_id>/inventory-adjustments")
class SkuAdjustments(MethodView):
    @requires("read_products")
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, page_schema(AdjustmentSchema))
    def get(self, args: dict[str, Any], sku_id: str) -> Any:
        """The SKU's stock audit trail (adjustments, sales, returns), newest first"""
        stmt = services.list_adjustments_stmt(db.session, shop_id=_shop_id(), sku_id=sku_id)
        return paginated(page_of(db.session, stmt, InventoryAdjustment.id, **args))

    @requires("write_products")
    @idempotent
    @blp.arguments(AdjustmentCreateSchema)
    @blp.response(201, AdjustmentResultSchema)
    @blp.alt_response(409, description="The stock would fall below what unpaid orders hold")
    def post(self, args: dict[str, Any], sku_id: str) -> Any:
        """Add or remove stock on hand (send an Idempotency-Key to retry safely)"""
        return services.adjust_inventory(
            db.session, shop_id=_shop_id(), sku_id=sku_id, delta=args["delta"], reason=args["reason"]
        )


@blp.route("/categories")
class CategoryList(MethodView):
    @requires("read_products")
    @blp.response(200, CategoryListSchema)
    def get(self) -> Any:
        """The shop's whole category tree as a flat list, depth first, each with its depth and path"""
        return {"items": categories.category_tree(db.session, shop_id=_shop_id())}

    @requires("write_products")
    @transactional
    @blp.arguments(CategoryCreateSchema)
    @blp.response(201, CategorySchema)
    @blp.alt_response(404, description="The parent is not in this shop")
    @blp.alt_response(409, description="A sibling has this name, or the shop has as many categories as allowed")
    @blp.alt_response(422, description="The tree would be more than 3 levels deep")
    def post(self, args: dict[str, Any]) -> Any:
        """Create a category, at the top level or under a parent (3 levels at most)"""
        category = categories.create_category(db.session, shop_id=_shop_id(), **args)
        node = categories.get_category_node(db.session, shop_id=_shop_id(), category_id=category.id)
        headers = {**etag(category.version), "Location": url_for("catalog.CategoryResource", category_id=category.id)}
        return node, 201, headers


@blp.route("/categories/<category_id>")
class CategoryResource(MethodView):
    @requires("read_products")
    @blp.response(200, CategorySchema)
    def get(self, category_id: str) -> Any:
        """One category with its depth and path"""
        node = categories.get_category_node(db.session, shop_id=_shop_id(), category_id=category_id)
        return node, 200, etag(node.version)

    @requires("write_products")
    @transactional
    @blp.arguments(CategoryUpdateSchema)
    @blp.response(200, CategorySchema)
    @blp.alt_response(409, description="A sibling has this name")
    @blp.alt_response(412, description="If-Match names a stale version")
    @blp.alt_response(422, description="A move under itself or a descendant, or deeper than 3 levels")
    def patch(self, changes: dict[str, Any], category_id: str) -> Any:
        """Rename, reorder or move a category with its subcategories (send If-Match with the version you read)"""
        category = categories.update_category(
            db.session,
            shop_id=_shop_id(),
            category_id=category_id,
            changes=changes,
            expected_version=expected_version(),
        )
        node = categories.get_category_node(db.session, shop_id=_shop_id(), category_id=category.id)
        return node, 200, etag(category.version)

    @requires("write_products")
    @transactional
    @blp.response(204)
    @blp.alt_response(409, description="It still has products or subcategories, or is the default category")
    @blp.alt_response(412, description="If-Match names a stale version")
    def delete(self, category_id: str) -> Any:
        """Delete an empty category (move its products and subcategories first)"""
        categories.delete_category(
            db.session, shop_id=_shop_id(), category_id=category_id, expected_version=expected_version()
        )
        return "", 204
