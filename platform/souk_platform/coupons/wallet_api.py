"""A customer's coupon wallet: the coupons issued to them (docs/architecture.md §5.9)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask.views import MethodView

from souk_platform.api import current_principal, idempotency_required, page_of, page_schema, paginated, requires
from souk_platform.api.parsing import Blueprint
from souk_platform.core.clock import app_now
from souk_platform.coupons import wallet
from souk_platform.coupons.claims import claim_coupon
from souk_platform.coupons.models import CustomerCoupon
from souk_platform.coupons.schemas import CouponClaimRequestSchema, WalletCouponSchema, WalletQuerySchema
from souk_platform.db import db
from souk_platform.points.services import require_customer
from souk_platform.shops.services import get_shop

blp = Blueprint("coupon_wallet", __name__, url_prefix="/customers", description="Customers' coupon wallets")


@blp.route("/<customer_id>/coupons")
class Wallet(MethodView):
    @requires("read_coupons")
    @blp.arguments(WalletQuerySchema, location="query")
    @blp.response(200, page_schema(WalletCouponSchema))
    def get(self, args: dict[str, Any], customer_id: str) -> Any:
        """A customer's wallet: coupons issued to them (issued, reserved, used, expired, revoked), newest first"""
        shop_id = current_principal().shop_id
        require_customer(db.session, shop_id=shop_id, customer_id=customer_id)
        stmt = wallet.wallet_stmt(shop_id, customer_id, status=args.pop("status"))
        return paginated(page_of(db.session, stmt, CustomerCoupon.id, **args))

    @requires("write_coupons")
    @idempotency_required
    @blp.arguments(CouponClaimRequestSchema)
    @blp.response(201, WalletCouponSchema)
    @blp.alt_response(409, description="Not a public coupon in its window, or a limit reached (coupon-not-claimable)")
    @blp.alt_response(422, description="Refused by risk control (risk-denied, with rule and decision_id)")
    def post(self, body: dict[str, Any], customer_id: str) -> Any:
        """The customer claims a public coupon into their wallet (领券), within its window and per-customer limit
        (Idempotency-Key required)"""
        now: dt.datetime = app_now()
        entry = claim_coupon(
            db.session,
            shop=get_shop(db.session, current_principal().shop_id),
            coupon_id=body["coupon_id"],
            customer_id=customer_id,
            ip=body["ip"],
            device_id=body["device_id"],
            now=now,
        )
        return entry, 201
