"""付费券包 coupon packs: selling them, and buying one through the order and payment path (§5.9)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from souk_platform.api import (
    current_principal,
    etag,
    expected_version,
    idempotent,
    page_of,
    page_schema,
    paginated,
    requires,
    transactional,
)
from souk_platform.api.pagination import PageArgs
from souk_platform.api.parsing import Blueprint
from souk_platform.core.clock import app_now
from souk_platform.coupons import packs
from souk_platform.coupons.models import CouponPack, CouponPackPurchase
from souk_platform.coupons.schemas import (
    CouponPackPurchaseCreateSchema,
    CouponPackPurchaseSchema,
    CouponPackQuerySchema,
    CouponPackSchema,
    CouponPackUpdateSchema,
)
from souk_platform.db import db

blp = Blueprint(
    "coupon_packs", __name__, url_prefix="/coupon-packs", description="付费券包: coupon packs sold for money"
)


@blp.route("")
class PackList(MethodView):
    @requires("read_coupons")
    @blp.arguments(CouponPackQuerySchema, location="query")
    @blp.response(200, page_schema(CouponPackSchema))
    def get(self, args: dict[str, Any]) -> Any:
        """The shop's coupon packs, newest first"""
        stmt = packs.packs_stmt(current_principal().shop_id, status=args.pop("status"))
        return paginated(page_of(db.session, stmt, CouponPack.id, **args))

    @requires("write_coupons")
    @transactional
    @blp.arguments(CouponPackSchema)
    @blp.response(201, CouponPackSchema)
    def post(self, fields: dict[str, Any]) -> Any:
        """Put a pack of issued coupons on sale (price in fen)"""
        pack = packs.create_pack(db.session, shop_id=current_principal().shop_id, fields=fields)
        return pack, 201, etag(pack.version)


@blp.route("/<pack_id>")
class PackResource(MethodView):
    @requires("read_coupons")
    @blp.response(200, CouponPackSchema)
    def get(self, pack_id: str) -> Any:
        """One coupon pack"""
        pack = packs.get_pack(db.session, shop_id=current_principal().shop_id, pack_id=pack_id)
        return pack, 200, etag(pack.version)

    @requires("write_coupons")
    @transactional
    @blp.arguments(CouponPackUpdateSchema)
    @blp.response(200, CouponPackSchema)
    @blp.alt_response(412, description="If-Match names a stale version")
    def patch(self, changes: dict[str, Any], pack_id: str) -> Any:
        """Change a pack's sale: stock, limit, window, refund days, status (send If-Match)"""
        pack = packs.update_pack(
            db.session,
            shop_id=current_principal().shop_id,
            pack_id=pack_id,
            changes=changes,
            expected_version=expected_version(),
        )
        return pack, 200, etag(pack.version)


@blp.route("/<pack_id>/purchases")
class PackPurchases(MethodView):
    @requires("read_coupons")
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, page_schema(CouponPackPurchaseSchema))
    def get(self, args: dict[str, Any], pack_id: str) -> Any:
        """Who bought this pack, newest first"""
        stmt = packs.purchases_stmt(db.session, shop_id=current_principal().shop_id, pack_id=pack_id)
        return paginated(page_of(db.session, stmt, CouponPackPurchase.id, **args))

    @requires("write_orders")
    @idempotent
    @blp.arguments(CouponPackPurchaseCreateSchema)
    @blp.response(201, CouponPackPurchaseSchema)
    @blp.alt_response(409, description="Sold out, not on sale, or the customer bought as many as allowed")
    def post(self, body: dict[str, Any], pack_id: str) -> Any:
        """Buy a pack for a customer: an order of the pack awaiting payment.

        Pay its order_id as any order (POST /orders/{order_id}/payments); payment puts the pack's coupons
        into the customer's wallet. Refund it with POST /orders/{order_id}/refunds: in full, within the
        pack's refund_days, while none of its coupons was used."""
        return packs.purchase_pack(
            db.session,
            shop_id=current_principal().shop_id,
            pack_id=pack_id,
            customer_id=body["customer_id"],
            now=app_now(),
        ), 201
