"""Demo benefit packages (入会礼, 生日礼, 成长礼), a few grants and one order priced by a right, for ``souk demo``
(docs/architecture.md §5.10)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from souk_platform.benefits.models import BenefitPackage
from souk_platform.benefits.services import create_package, grant_package, shop_today
from souk_platform.catalog.models import Product, Sku
from souk_platform.checkout.services import checkout, create_cart
from souk_platform.core.clock import SystemClock
from souk_platform.core.errors import SoukError
from souk_platform.customers.models import Customer
from souk_platform.db import DbSession
from souk_platform.orders.services import settle_payment, start_payment
from souk_platform.shops.models import Shop

PACKAGES = (
    {
        "name": "入会礼",
        "description": "新会员注册即送",
        "trigger": "join",
        "trigger_params": {},
        "items": [{"type": "points", "points": 100}, {"type": "free_shipping", "valid_days": 30}],
    },
    {
        "name": "生日礼",
        "description": "生日当天送积分、储值金和一张 9 折权益",
        "trigger": "birthday",
        "trigger_params": {"when": "day"},
        "items": [
            {"type": "points", "points": 88},
            {"type": "stored_value", "amount": 2_000},
            {"type": "member_discount", "percent_off": 10, "valid_days": 30},
        ],
    },
    {
        "name": "金卡成长礼",
        "description": "升到 V3 金卡：长期 95 折",
        "trigger": "level",
        "trigger_params": {"level": 3},
        "items": [{"type": "member_discount", "percent_off": 5, "valid_days": 365}],
    },
)


def seed(session: DbSession, shop: Shop) -> None:
    """Three packages, the 生日礼 given to the first customers with a birthday (once per shop)."""
    seeded = session.scalar(sa.select(BenefitPackage.id).where(BenefitPackage.shop_id == shop.id).limit(1))
    if seeded is not None:
        return
    now = SystemClock().now()
    packages = [create_package(session, shop_id=shop.id, fields=dict(fields)) for fields in PACKAGES]
    birthday = packages[1]
    year = shop_today(session, shop.id, now).year
    celebrated = list(
        session.scalars(
            sa.select(Customer.id)
            .where(Customer.shop_id == shop.id, Customer.birthday.is_not(None))
            .order_by(Customer.id)
            .limit(3)
        )
    )
    for customer_id in celebrated:
        grant_package(session, package=birthday, customer_id=customer_id, period=f"birthday:{year}", now=now)
    if celebrated:
        _order_with_the_birthday_discount(session, shop, celebrated, now)


def _order_with_the_birthday_discount(session: DbSession, shop: Shop, celebrated: list[str], now: dt.datetime) -> None:
    """One paid order by the celebrated customer of the lowest level, so the order page shows a package's
    discount at work (§5.7); nothing when there is nothing to sell or the checkout refuses."""
    customer_id = session.scalar(
        sa.select(Customer.id).where(Customer.id.in_(celebrated)).order_by(Customer.level, Customer.id).limit(1)
    )
    sku_id = session.scalar(
        sa.select(Sku.id)
        .join(Product, Product.id == Sku.product_id)
        .where(Sku.shop_id == shop.id, Product.status == "active", Sku.on_hand - Sku.reserved >= 5)
        .order_by(Sku.price.desc(), Sku.code)
        .limit(1)
    )
    if customer_id is None or sku_id is None:
        return
    try:
        with session.begin_nested():
            cart = create_cart(
                session, shop_id=shop.id, customer_id=customer_id, lines=[{"sku_id": sku_id, "quantity": 1}], now=now
            )
            order = checkout(
                session,
                shop_id=shop.id,
                cart_id=cart.id,
                customer_id=customer_id,
                ip="10.0.99.8",
                coupon_codes=[],
                points_to_spend=0,
                stored_value_to_spend=0,
                now=now,
            )
            payment, _ = start_payment(session, shop_id=shop.id, order_id=order.id, now=now)
            if payment.status == "pending":
                settle_payment(
                    session, shop_id=shop.id, payment_id=payment.id, callback={"outcome": "succeeded"}, now=now
                )
    except SoukError:
        return
