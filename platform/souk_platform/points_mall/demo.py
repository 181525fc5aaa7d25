"""A stocked points mall for ``souk demo`` (docs/architecture.md §5.14): goods for points, goods for points and
cash, an issued coupon, a benefit package, a V3+ item and a draft; and a few members' redemptions through the
one pipeline — a coupon in the wallet, goods awaiting shipping, points + cash paid with the test provider."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from souk_platform.benefits.models import BenefitPackage
from souk_platform.catalog.models import Sku
from souk_platform.core.clock import SystemClock
from souk_platform.core.errors import SoukError
from souk_platform.coupons.models import Coupon
from souk_platform.customers.models import Customer
from souk_platform.db import DbSession
from souk_platform.orders.services import settle_payment, start_payment
from souk_platform.points.services import points_balance
from souk_platform.points_mall.models import MallItem
from souk_platform.points_mall.services import create_item, redeem
from souk_platform.shops.models import Shop

# (key, fields) — what the item gives is filled in from the shop's catalog, coupons and packages
ITEMS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("tea", {"kind": "goods", "title": "铁观音 125g · 积分兑", "points": 300, "sort": 1, "per_member_limit": 2,
             "limit_period": "month", "description": "每月限兑 2 件"}),
    ("longjing", {"kind": "goods", "title": "龙井 250g · 积分加钱购", "points": 200, "cash": 1990, "sort": 2}),
    ("coupon", {"kind": "coupon", "title": "满50减5 券", "points": 50, "stock": 500, "sort": 3,
                "per_member_limit": 1, "limit_period": "day"}),
    ("package", {"kind": "benefit_package", "title": "会员礼包", "points": 120, "stock": 100, "sort": 4}),
    ("vip", {"kind": "goods", "title": "铁观音 500g 礼盒 · V3 专享", "points": 800, "min_level": 3, "sort": 5}),
    ("draft", {"kind": "coupon", "title": "新春券（筹备中）", "points": 30, "status": "draft", "sort": 9}),
)  # fmt: skip

# (customer index, item key, quantity, hours ago)
REDEMPTIONS = (
    (0, "coupon", 1, 30),
    (1, "tea", 1, 20),
    (2, "longjing", 1, 8),
    (3, "package", 1, 5),
    (4, "coupon", 1, 2),
)


def _references(session: DbSession, shop: Shop) -> dict[str, dict[str, Any]] | None:
    skus = dict(session.execute(sa.select(Sku.code, Sku.id).where(Sku.shop_id == shop.id)).all())
    coupon = session.scalar(sa.select(Coupon.id).where(Coupon.shop_id == shop.id, Coupon.code == "PACK5"))
    package = session.scalar(
        sa.select(BenefitPackage.id).where(BenefitPackage.shop_id == shop.id).order_by(BenefitPackage.id).limit(1)
    )
    if not {"TGY-125G", "LJ-250G", "TGY-500G"} <= set(skus) or coupon is None or package is None:
        return None
    return {
        "tea": {"sku_id": skus["TGY-125G"]},
        "longjing": {"sku_id": skus["LJ-250G"]},
        "coupon": {"coupon_id": coupon},
        "package": {"package_id": package},
        "vip": {"sku_id": skus["TGY-500G"]},
        "draft": {"coupon_id": coupon},
    }


def seed(session: DbSession, shop: Shop) -> None:
    """The mall's items and five redemptions (once per shop)."""
    if session.scalar(sa.select(MallItem.id).where(MallItem.shop_id == shop.id).limit(1)) is not None:
        return
    references = _references(session, shop)
    if references is None:
        return
    items = {
        key: create_item(session, shop_id=shop.id, fields={"status": "on_sale", **fields, **references[key]}).id
        for key, fields in ITEMS
    }
    customers = list(
        session.scalars(sa.select(Customer.id).where(Customer.shop_id == shop.id).order_by(Customer.id).limit(5))
    )
    now = SystemClock().now()
    for who, key, quantity, hours in REDEMPTIONS:
        if who >= len(customers):
            continue
        at = now - dt.timedelta(hours=hours)
        try:
            with session.begin_nested():  # a member short of points (or a risk rule) skips just this one
                _redeem(session, shop, customers[who], items[key], quantity, f"10.0.180.{who + 1}", at)
        except SoukError:
            continue


def _redeem(
    session: DbSession, shop: Shop, customer_id: str, item_id: str, quantity: int, ip: str, at: dt.datetime
) -> None:
    if points_balance(session, shop_id=shop.id, customer_id=customer_id) <= 0:
        return
    redemption = redeem(
        session,
        shop_id=shop.id,
        item_id=item_id,
        customer_id=customer_id,
        quantity=quantity,
        ip=ip,
        device_id=None,
        now=at,
    )
    if redemption.status != "pending_payment":
        return
    paid_at = at + dt.timedelta(minutes=3)
    payment, _ = start_payment(session, shop_id=shop.id, order_id=redemption.order_id, now=paid_at)
    if payment.status == "pending":
        settle_payment(session, shop_id=shop.id, payment_id=payment.id, callback={"outcome": "succeeded"}, now=paid_at)
