"""A day of risk decisions for ``souk demo`` (docs/architecture.md §5.13): real checkouts through the one
pipeline — allowed and paid, one refused by the block list, two held for review — and the lists behind them;
and the 黄牛 script's refused attempts on the days before, so the dashboard's chart has a history."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from souk_platform.catalog.models import Sku
from souk_platform.checkout.errors import OrderRejected
from souk_platform.checkout.services import checkout, create_cart
from souk_platform.core.clock import SystemClock
from souk_platform.customers.models import Customer
from souk_platform.db import DbSession
from souk_platform.orders.services import settle_payment, start_payment
from souk_platform.risk.models import RiskListEntry
from souk_platform.risk.services import create_entry
from souk_platform.shops.models import Shop
from souk_platform.shops.services import update_shop

SCALPER_IP = "10.66.6.6"  # a 黄牛 script's address, on the block list
SHARED_DEVICE = "dev_7f3a91c2"  # one phone, three accounts: the third is held (一机多号)

# (hours ago, customer index, sku code, quantity, ip, device id)
CHECKOUTS = (
    (9, 0, "TGY-125G", 1, "10.0.200.1", "dev_a18c03d4"),
    (8, 1, "TGY-125G", 2, SCALPER_IP, None),  # refused: the IP is blocked
    (7, 2, "TGY-125G", 1, "10.0.200.2", SHARED_DEVICE),
    (6, 3, "TGY-125G", 1, "10.0.200.3", SHARED_DEVICE),
    (5, 4, "TGY-125G", 1, "10.0.200.4", SHARED_DEVICE),  # held: a third account on the device
    (3, 0, "LJ-250G", 3, "10.0.200.1", "dev_a18c03d4"),  # held: a new account's ¥1,164 order
    (2, 5, "LJ-250G", 3, "10.0.200.6", None),  # allowed: the customer is on the allow list
)

# the same script on earlier days: (days ago, attempts), each refused by the block list
EARLIER_ATTEMPTS = ((1, 3), (2, 1), (3, 2), (5, 4), (6, 1), (9, 2))


def seed(session: DbSession, shop: Shop) -> None:
    """Lists, thresholds and the day's checkouts (once per shop)."""
    seeded = session.scalar(sa.select(RiskListEntry.id).where(RiskListEntry.shop_id == shop.id).limit(1))
    if seeded is not None:
        return
    customers = list(
        session.scalars(sa.select(Customer.id).where(Customer.shop_id == shop.id).order_by(Customer.id).limit(6))
    )
    skus = dict(session.execute(sa.select(Sku.code, Sku.id).where(Sku.shop_id == shop.id)).all())
    if len(customers) < 6 or not {"TGY-125G", "LJ-250G"} <= set(skus):
        return
    now = SystemClock().now()
    update_shop(
        session,
        shop_id=shop.id,
        changes={
            "settings": {
                "risk_device_customers_max": 2,
                "risk_new_account_order_min": 100_000,  # ¥1,000 from an account younger than 3 days
                "risk_new_account_hours": 72,
            }
        },
        expected_version=None,
    )
    create_entry(
        session,
        shop_id=shop.id,
        fields={"list": "block", "kind": "ip", "value": SCALPER_IP, "note": "黄牛脚本，连续抢购"},
        now=now,
    )
    create_entry(
        session,
        shop_id=shop.id,
        fields={"list": "allow", "kind": "customer", "value": customers[5], "note": "企业团购客户"},
        now=now,
    )
    attempts = [
        (days * 24 + i, 1, "TGY-125G", 2, SCALPER_IP, None) for days, count in EARLIER_ATTEMPTS for i in range(count)
    ]
    for hours, who, code, quantity, ip, device_id in (*attempts, *CHECKOUTS):
        at = now - dt.timedelta(hours=hours)
        try:
            with session.begin_nested():  # a refusal rolls back to here; its decision is kept
                _place(session, shop, customers[who], skus[code], quantity, ip, device_id, at)
        except OrderRejected:
            continue


def _place(
    session: DbSession,
    shop: Shop,
    customer_id: str,
    sku_id: str,
    quantity: int,
    ip: str,
    device_id: str | None,
    at: dt.datetime,
) -> None:
    cart = create_cart(
        session, shop_id=shop.id, customer_id=customer_id, lines=[{"sku_id": sku_id, "quantity": quantity}], now=at
    )
    order = checkout(
        session,
        shop_id=shop.id,
        cart_id=cart.id,
        customer_id=customer_id,
        ip=ip,
        device_id=device_id,
        coupon_codes=[],
        points_to_spend=0,
        stored_value_to_spend=0,
        now=at,
    )
    if order.status != "pending_payment":
        return  # held for review: it waits in the queue
    paid_at = at + dt.timedelta(minutes=2)
    payment, _ = start_payment(session, shop_id=shop.id, order_id=order.id, now=paid_at)
    if payment.status == "pending":
        settle_payment(session, shop_id=shop.id, payment_id=payment.id, callback={"outcome": "succeeded"}, now=paid_at)
