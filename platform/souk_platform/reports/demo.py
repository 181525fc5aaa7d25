"""Demo orders of the shop's current day, so the dashboard of ``souk demo`` opens on today's sales
(the orders step places its orders over the last 30 days; docs/architecture.md §14)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from souk_platform.catalog.models import Product, Sku
from souk_platform.checkout.services import checkout, create_cart
from souk_platform.core.clock import SystemClock
from souk_platform.core.errors import SoukError
from souk_platform.customers.models import Customer
from souk_platform.db import DbSession
from souk_platform.orders.models import Order
from souk_platform.orders.services import settle_payment, start_payment
from souk_platform.reports.services import local_midnight, local_today, shop_zone
from souk_platform.shops.models import Shop

TODAY_ORDERS = 3
IP_PREFIX = "10.9."  # the checkout IP that tells this step's orders from the orders step's (10.0.x.8)


def seed(session: DbSession, shop: Shop) -> None:
    """Place and pay ``TODAY_ORDERS`` orders between the shop's local midnight and now (once per shop)."""
    if session.scalar(sa.select(Order.id).where(Order.shop_id == shop.id, Order.ip.startswith(IP_PREFIX)).limit(1)):
        return
    skus = list(
        session.scalars(
            sa.select(Sku.id)
            .join(Product, Product.id == Sku.product_id)
            .where(Sku.shop_id == shop.id, Product.status == "active", Sku.on_hand - Sku.reserved >= 5)
            .order_by(Sku.price)
            .limit(TODAY_ORDERS)
        )
    )
    customers = list(
        session.scalars(sa.select(Customer.id).where(Customer.shop_id == shop.id).order_by(Customer.id.desc()))
    )
    if not skus or not customers:
        return
    now = SystemClock().now()
    midnight = local_midnight(local_today(now, shop.timezone), shop_zone(shop.timezone))
    for i, sku in enumerate(skus):
        at = midnight + (now - midnight) * (i + 1) / (len(skus) + 1)
        try:
            with session.begin_nested():  # a refused order (stock, risk) is skipped, not fatal
                _place(session, shop, i, at, customers[i % len(customers)], sku, now)
        except SoukError:
            continue


def _place(
    session: DbSession, shop: Shop, i: int, at: dt.datetime, customer_id: str, sku_id: str, now: dt.datetime
) -> None:
    cart = create_cart(
        session, shop_id=shop.id, customer_id=customer_id, lines=[{"sku_id": sku_id, "quantity": 1}], now=at
    )
    order = checkout(
        session,
        shop_id=shop.id,
        cart_id=cart.id,
        customer_id=customer_id,
        ip=f"{IP_PREFIX}{i}.8",
        coupon_codes=[],
        points_to_spend=0,
        stored_value_to_spend=0,
        now=at,
    )
    paid_at = min(at + dt.timedelta(minutes=2), now)
    payment, _ = start_payment(session, shop_id=shop.id, order_id=order.id, now=paid_at)
    if payment.status == "pending":
        settle_payment(session, shop_id=shop.id, payment_id=payment.id, callback={"outcome": "succeeded"}, now=paid_at)
