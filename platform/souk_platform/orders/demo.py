"""Demo orders: about 20 over the last 30 days, placed and paid through the real services, so
stock, the ledger, points, cashback and reports all hold real figures; and two paid purchases of the demo's
coupon pack."""

from __future__ import annotations

import datetime as dt
import random

import sqlalchemy as sa

from souk_platform.catalog.models import Product, Sku
from souk_platform.checkout.services import checkout, create_cart
from souk_platform.core.clock import SystemClock
from souk_platform.core.errors import SoukError
from souk_platform.coupons.models import CouponPack
from souk_platform.coupons.packs import purchase_pack
from souk_platform.customers.models import Customer
from souk_platform.db import DbSession
from souk_platform.orders.models import Order
from souk_platform.orders.services import complete_order, create_refund, fulfil_order, settle_payment, start_payment
from souk_platform.shops.models import Shop

ORDERS = 20


def seed(session: DbSession, shop: Shop) -> None:
    """Place the demo orders once (does nothing if the shop already has orders, or nothing to sell)."""
    if session.scalar(sa.select(Order.id).where(Order.shop_id == shop.id).limit(1)) is not None:
        return
    skus = list(
        session.scalars(
            sa.select(Sku.id)
            .join(Product, Product.id == Sku.product_id)
            .where(Sku.shop_id == shop.id, Product.status == "active", Sku.on_hand - Sku.reserved >= 10)
            .order_by(Sku.code)
        )
    )
    customers = list(session.scalars(sa.select(Customer.id).where(Customer.shop_id == shop.id).order_by(Customer.id)))
    if not skus or not customers:
        return
    rng = random.Random(2026)
    now = SystemClock().now()
    for i in range(ORDERS):
        at = now - dt.timedelta(days=30 - i * 1.5, hours=rng.randrange(8), minutes=rng.randrange(60))
        lines = [
            {"sku_id": sku, "quantity": rng.randint(1, 2)} for sku in rng.sample(skus, k=min(len(skus), 1 + i % 2))
        ]
        try:
            with session.begin_nested():  # a refused order (stock, risk) is skipped, not fatal
                _place(session, shop, i, at, customers[i % len(customers)], lines, now)
        except SoukError:
            continue
    _buy_the_demo_pack(session, shop, customers, now)


def _buy_the_demo_pack(session: DbSession, shop: Shop, customers: list[str], now: dt.datetime) -> None:
    """Two customers buy the demo's coupon pack (§5.9) three days ago and pay for it, so the pack's sales
    page lists them (and offers the refund of an unused pack)."""
    pack_id = session.scalar(
        sa.select(CouponPack.id).where(CouponPack.shop_id == shop.id).order_by(CouponPack.id).limit(1)
    )
    if pack_id is None:
        return
    at = now - dt.timedelta(days=3)
    for customer_id in customers[-2:]:  # not the first five: they hold VIP30 already (its limit is 1)
        try:
            with session.begin_nested():
                purchase = purchase_pack(session, shop_id=shop.id, pack_id=pack_id, customer_id=customer_id, now=at)
                payment, _ = start_payment(session, shop_id=shop.id, order_id=purchase.order_id, now=at)
                if payment.status == "pending":
                    settle_payment(
                        session, shop_id=shop.id, payment_id=payment.id, callback={"outcome": "succeeded"}, now=at
                    )
        except SoukError:
            continue


def _place(
    session: DbSession,
    shop: Shop,
    i: int,
    at: dt.datetime,
    customer_id: str,
    lines: list[dict[str, object]],
    now: dt.datetime,
) -> None:
    cart = create_cart(session, shop_id=shop.id, customer_id=customer_id, lines=lines, now=at)
    order = checkout(
        session,
        shop_id=shop.id,
        cart_id=cart.id,
        customer_id=customer_id,
        ip=f"10.0.{i}.8",
        coupon_codes=[],
        points_to_spend=0,
        stored_value_to_spend=0,
        now=at,
        channel=("online", "store", "mini_program")[i % 3],  # trade fields can filter by channel
    )
    if i == ORDERS - 1:
        return  # the newest order stays awaiting payment
    paid_at = at + dt.timedelta(minutes=3)
    payment, _ = start_payment(session, shop_id=shop.id, order_id=order.id, now=paid_at)
    if payment.status == "pending":
        settle_payment(session, shop_id=shop.id, payment_id=payment.id, callback={"outcome": "succeeded"}, now=paid_at)
    if i == 4:
        create_refund(
            session,
            shop_id=shop.id,
            order_id=order.id,
            amount=None,
            lines=None,
            reason="Tin arrived dented / 茶罐压坏",
            restock=False,
            now=paid_at + dt.timedelta(days=1),
        )
        return
    if i % 3 == 0 and paid_at + dt.timedelta(days=1) < now:
        fulfil_order(session, shop_id=shop.id, order_id=order.id, now=paid_at + dt.timedelta(days=1))
        if i % 6 == 0 and paid_at + dt.timedelta(days=4) < now:
            complete_order(session, shop_id=shop.id, order_id=order.id, now=paid_at + dt.timedelta(days=4))
