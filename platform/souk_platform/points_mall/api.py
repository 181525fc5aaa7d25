"""积分商城: items, redemptions, and apps' fulfilment reports (docs/architecture.md §5.14)."""

from __future__ import annotations

from typing import Any

from flask import g
from flask.views import MethodView

from souk_platform.api import (
    current_principal,
    etag,
    expected_version,
    idempotency_required,
    idempotent,
    page_of,
    page_schema,
    paginated,
    requires,
    transactional,
)
from souk_platform.api.parsing import Blueprint
from souk_platform.apps.models import App
from souk_platform.core.clock import app_now
from souk_platform.db import db
from souk_platform.oauth.api import requires_app_token
from souk_platform.points_mall import services
from souk_platform.points_mall.models import MallItem, MallRedemption
from souk_platform.points_mall.schemas import (
    FulfilmentReportSchema,
    MallItemQuerySchema,
    MallItemSchema,
    MallItemUpdateSchema,
    RedemptionCancelSchema,
    RedemptionCreateSchema,
    RedemptionQuerySchema,
    RedemptionSchema,
)

blp = Blueprint("points_mall", __name__, url_prefix="", description="积分商城: the points mall's items and redemptions")


def _shop_id() -> str:
    return current_principal().shop_id


@blp.route("/points-mall/items")
class ItemList(MethodView):
    @requires("read_points_mall")
    @blp.arguments(MallItemQuerySchema, location="query")
    @blp.response(200, page_schema(MallItemSchema))
    def get(self, args: dict[str, Any]) -> Any:
        """The mall's items, newest first; filter by status or kind"""
        stmt = services.items_stmt(_shop_id(), status=args.pop("status"), kind=args.pop("kind"))
        return paginated(page_of(db.session, stmt, MallItem.id, **args))

    @requires("write_points_mall")
    @transactional
    @blp.arguments(MallItemSchema)
    @blp.response(201, MallItemSchema)
    def post(self, fields: dict[str, Any]) -> Any:
        """Add an item: goods (a SKU), a coupon, a benefit package or an app's item, for points (+ cash in fen)"""
        item = services.create_item(db.session, shop_id=_shop_id(), fields=fields)
        return item, 201, etag(item.version)


@blp.route("/points-mall/items/<item_id>")
class ItemResource(MethodView):
    @requires("read_points_mall")
    @blp.response(200, MallItemSchema)
    def get(self, item_id: str) -> Any:
        """One item"""
        item = services.get_item(db.session, shop_id=_shop_id(), item_id=item_id)
        return item, 200, etag(item.version)

    @requires("write_points_mall")
    @transactional
    @blp.arguments(MallItemUpdateSchema)
    @blp.response(200, MallItemSchema)
    @blp.alt_response(412, description="If-Match names a stale version")
    def patch(self, changes: dict[str, Any], item_id: str) -> Any:
        """Change an item: price, stock, limits, window, status (send If-Match); its kind and contents are fixed"""
        item = services.update_item(
            db.session, shop_id=_shop_id(), item_id=item_id, changes=changes, expected_version=expected_version()
        )
        return item, 200, etag(item.version)

    @requires("write_points_mall")
    @transactional
    @blp.response(204)
    @blp.alt_response(409, description="The item has redemptions: take it off sale instead")
    @blp.alt_response(412, description="If-Match names a stale version")
    def delete(self, item_id: str) -> Any:
        """Delete an item nobody redeemed (send If-Match)"""
        services.delete_item(db.session, shop_id=_shop_id(), item_id=item_id, expected_version=expected_version())
        return "", 204


@blp.route("/points-mall/redemptions")
class RedemptionList(MethodView):
    @requires("read_points_mall")
    @blp.arguments(RedemptionQuerySchema, location="query")
    @blp.response(200, page_schema(RedemptionSchema))
    def get(self, args: dict[str, Any]) -> Any:
        """Redemptions, newest first; filter by customer, item or status"""
        stmt = services.redemptions_stmt(
            _shop_id(), customer_id=args.pop("customer_id"), item_id=args.pop("item_id"), status=args.pop("status")
        )
        return paginated(page_of(db.session, stmt, MallRedemption.id, **args))

    @requires("write_points_mall")
    @idempotency_required
    @blp.arguments(RedemptionCreateSchema)
    @blp.response(201, RedemptionSchema)
    @blp.alt_response(409, description="Not on sale, outside its window, or sold out")
    @blp.alt_response(400, description="No Idempotency-Key")
    def post(self, body: dict[str, Any]) -> Any:
        """Redeem an item for a customer (send an Idempotency-Key).

        Checks the item's sale and window, the customer's level, their limit in the period, stock and points,
        then risk control: a denial is 422 redemption-rejected (with rule and decision_id), a review holds the
        redemption in_review. The points are debited at once; the cash part (if any) is its order's to pay
        (POST /orders/{order_id}/payments) — with none, it is paid and fulfilled at once."""
        return services.redeem(
            db.session,
            shop_id=_shop_id(),
            item_id=body["item_id"],
            customer_id=body["customer_id"],
            quantity=body["quantity"],
            ip=body["ip"],
            device_id=body["device_id"],
            now=app_now(),
        ), 201


@blp.route("/points-mall/redemptions/<redemption_id>")
class RedemptionResource(MethodView):
    @requires("read_points_mall")
    @blp.response(200, RedemptionSchema)
    def get(self, redemption_id: str) -> Any:
        """One redemption"""
        redemption = services.get_redemption(db.session, shop_id=_shop_id(), redemption_id=redemption_id)
        return redemption, 200, etag(redemption.version)


@blp.route("/points-mall/redemptions/<redemption_id>/cancel")
class RedemptionCancel(MethodView):
    @requires("write_points_mall")
    @idempotent
    @blp.arguments(RedemptionCancelSchema)
    @blp.response(200, RedemptionSchema)
    @blp.alt_response(409, description="Already fulfilled, cancelled or refunded")
    def post(self, body: dict[str, Any], redemption_id: str) -> Any:
        """Cancel a redemption before it is fulfilled: points, cash and stock come back exactly"""
        return services.cancel_redemption(
            db.session, shop_id=_shop_id(), redemption_id=redemption_id, reason=body["reason"], now=app_now()
        )


@blp.route("/app/points-mall/redemptions/<redemption_id>/fulfilment")
class AppFulfilmentReport(MethodView):
    @requires_app_token
    @transactional
    @blp.arguments(FulfilmentReportSchema)
    @blp.response(200, RedemptionSchema)
    @blp.alt_response(409, description="The redemption was cancelled or refunded")
    def post(self, body: dict[str, Any], redemption_id: str) -> Any:
        """An app reports whether it delivered its item for a redemption (points_mall.fulfilment_requested).

        Call it with the app's token (client credentials), from whichever shop the redemption came: only
        redemptions of the calling app's items are found, any other is 404. Reporting fulfilled again changes
        nothing."""
        calling_app: App = g.calling_app
        return services.report_fulfilment(
            db.session,
            app_id=calling_app.id,
            redemption_id=redemption_id,
            status=body["status"],
            reference=body["reference"],
            reason=body["reason"],
            now=app_now(),
        )
