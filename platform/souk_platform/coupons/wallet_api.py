"""A customer's coupon wallet: the coupons issued to them (docs/architecture.md §5.9)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from souk_platform.api import current_principal, page_of, page_schema, paginated, requires
from souk_platform.api.parsing import Blueprint
from souk_platform.coupons import wallet
from souk_platform.coupons.models import CustomerCoupon
from souk_platform.coupons.schemas import WalletCouponSchema, WalletQuerySchema
from souk_platform.db import db
from souk_platform.points.services import require_customer

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
