"""The shop's points policy and its points liability (docs/architecture.md §5.15)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from souk_platform.api import current_principal, etag, expected_version, requires, transactional
from souk_platform.api.parsing import Blueprint
from souk_platform.core.clock import app_now
from souk_platform.db import db
from souk_platform.points.liability import points_liability
from souk_platform.points.policy import points_policy_view, update_points_policy
from souk_platform.points_tasks.schemas import PointsLiabilitySchema, PointsPolicySchema
from souk_platform.shops.services import get_shop

blp = Blueprint("points_policy", __name__, url_prefix="/points", description="The shop's points policy and liability")


@blp.route("/policy")
class PointsPolicy(MethodView):
    @requires("read_points")
    @blp.response(200, PointsPolicySchema)
    def get(self) -> Any:
        """Earn rate, a point's value, the spend cap per order and expiry, in one place"""
        shop = get_shop(db.session, current_principal().shop_id)
        return points_policy_view(shop), 200, etag(shop.version)

    @requires("write_points")
    @transactional
    @blp.arguments(PointsPolicySchema)
    @blp.response(200, PointsPolicySchema)
    @blp.alt_response(412, description="If-Match names a stale shop version")
    def put(self, changes: dict[str, Any]) -> Any:
        """Change the fields sent (the others stay); send If-Match with the shop version you read"""
        shop = update_points_policy(
            db.session, shop_id=current_principal().shop_id, changes=changes, expected_version=expected_version()
        )
        return points_policy_view(shop), 200, etag(shop.version)


@blp.route("/liability")
class PointsLiability(MethodView):
    @requires("read_points")
    @blp.response(200, PointsLiabilitySchema)
    def get(self) -> Any:
        """Points outstanding and their worth, points expiring within 30 and 90 days, issued and redeemed per
        month over the last 12 shop-local months"""
        shop = get_shop(db.session, current_principal().shop_id)
        return points_liability(db.session, shop=shop, now=app_now())
