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
    row_page_of,
    transactional,
)
from souk_platform.api.parsing import Blueprint
from souk_platform.catalog import services
from souk_platform.catalog.models import InventoryAdjustment, Product
from souk_platform.catalog.schemas import (
    AdjustmentCreateSchema,
    AdjustmentResultSchema,
    AdjustmentSchema,
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

blp = Blueprint("catalog", __name__, url_prefix="", description="Products, SKUs and stock")


def _shop_id() -> str:
    return current_principal().shop_id


@blp.route("/products")
class ProductList(MethodView):
    @requires("read_products")
    @blp.arguments(ProductQuerySchema, location="query")
    @fast_response(blp, 200, page_schema(ProductSchema))
    def get(self, args: dict[str, Any]) -> Any:
        """The shop's products with their SKUs, newest first (filter by status or title)"""
        stmt = services.list_products_stmt(_shop_id(), status=args.pop("status"), q=args.pop("q"))
        page = row_page_of(db.session, stmt, Product.id, **args)
        skus = services.skus_of_products(db.session, [product.id for product in page.items])
        return paginated(Page([product_json(product, skus[product.id]) for product in page.items], page.next_cursor))

    @requires("write_products")
    @transactional
    @blp.arguments(ProductCreateSchema)
    @blp.response(201, ProductSchema)
    @blp.alt_response(409, description="A SKU code is already used in this shop")
    def post(self, args: dict[str, Any]) -> Any:
        """Create a product together with its SKUs (prices in fen of the shop's currency)"""
        product = services.create_product(
            db.session,
            shop_id=_shop_id(),
            title=args["title"],
            description=args["description"],
            status=args["status"],
            skus=[services.NewSku(**sku) for sku in args["skus"]],
        )
        headers = {**etag(product.version), "Location": url_for("catalog.ProductResource", product_id=product.id)}
        return product, 201, headers


@blp.route("/products/<product_id>")
class ProductResource(MethodView):
    @requires("read_products")
    @fast_response(blp, 200, ProductSchema)
    def get(self, product_id: str) -> Any:
        """One product with its SKUs and their available stock"""
        product, skus = services.get_product_row(db.session, shop_id=_shop_id(), product_id=product_id)
        return product_json(product, skus), 200, etag(product.version)

    @requires("write_products")
    @transactional
    @blp.arguments(ProductUpdateSchema)
    @blp.response(200, ProductSchema)
    @blp.alt_response(412, description="If-Match names a stale version")
    def patch(self, changes: dict[str, Any], product_id: str) -> Any:
        """Change a product's title, description or status (send If-Match with the version you read)"""
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
