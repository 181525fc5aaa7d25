"""Customers' points: balance, history and manual adjustments."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from souk_platform.api import PageArgs, current_principal, idempotent, page_of, page_schema, paginated, requires
from souk_platform.api.parsing import Blueprint
from souk_platform.core.clock import app_now
from souk_platform.db import db
from souk_platform.ledger.models import LedgerEntry
from souk_platform.points import services
from souk_platform.points.schemas import (
    AccountEntrySchema,
    PointsAdjustmentResultSchema,
    PointsAdjustmentSchema,
    PointsSummarySchema,
)

blp = Blueprint("points", __name__, url_prefix="/customers", description="Customers' loyalty points")


@blp.route("/<customer_id>/points")
class PointsBalance(MethodView):
    @requires("read_points")
    @blp.response(200, PointsSummarySchema)
    def get(self, customer_id: str) -> Any:
        """A customer's points balance and the points expiring within 30 days"""
        return services.points_summary(
            db.session,
            shop_id=current_principal().shop_id,
            customer_id=customer_id,
            now=app_now(),
        )


@blp.route("/<customer_id>/points/history")
class PointsHistory(MethodView):
    @requires("read_points")
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, page_schema(AccountEntrySchema))
    def get(self, args: dict[str, Any], customer_id: str) -> Any:
        """Every points movement of a customer, newest first"""
        shop_id = current_principal().shop_id
        services.require_customer(db.session, shop_id=shop_id, customer_id=customer_id)
        account_id = services.points_account_id(db.session, shop_id=shop_id, customer_id=customer_id)
        page = page_of(db.session, services.account_entries_stmt(account_id), LedgerEntry.id, **args)
        body, status, headers = paginated(page)
        body["items"] = services.describe_entries(db.session, page.items)
        return body, status, headers


@blp.route("/<customer_id>/points/adjustments")
class PointsAdjustments(MethodView):
    @requires("write_points")
    @idempotent
    @blp.arguments(PointsAdjustmentSchema)
    @blp.response(201, PointsAdjustmentResultSchema)
    @blp.alt_response(422, description="A deduction beyond the balance (insufficient-balance)")
    def post(self, body: dict[str, Any], customer_id: str) -> Any:
        """Add or deduct points by hand, with a reason (send an Idempotency-Key to retry safely)"""
        return services.adjust_points(
            db.session,
            shop_id=current_principal().shop_id,
            customer_id=customer_id,
            points=body["points"],
            reason=body["reason"],
            now=app_now(),
        )
