"""Demo behaviour events for ``souk demo``: what the tea house's customers viewed, searched and added to
their carts over the last week, so the customer 360 page has a timeline (docs/architecture.md §14)."""

from __future__ import annotations

import datetime as dt
import random

import sqlalchemy as sa

from souk_platform.behaviour.models import CustomerEvent
from souk_platform.behaviour.services import record_events
from souk_platform.catalog.models import Product
from souk_platform.core.clock import SystemClock
from souk_platform.customers.models import Customer
from souk_platform.db import DbSession
from souk_platform.shops.models import Shop

SEARCHES = ("龙井", "铁观音 礼盒", "普洱 2019", "茶具")
CHANNELS = ("miniprogram", "app", "web")
RETENTION = dt.timedelta(days=30)  # the events are all from the last week: well inside any retention


def _properties(rng: random.Random, kind: str, products: list[str]) -> dict[str, object]:
    if kind == "searched":
        return {"query": rng.choice(SEARCHES)}
    if kind == "page_viewed":
        return {"url": "https://tea.example.cn/autumn"}
    if kind == "cart_added":
        return {"product_id": rng.choice(products), "quantity": rng.randint(1, 3)}
    return {"product_id": rng.choice(products)}


def seed(session: DbSession, shop: Shop) -> None:
    """About 40 events over the last 7 days for the shop's first customers (once per shop)."""
    if session.scalar(sa.select(CustomerEvent.id).where(CustomerEvent.shop_id == shop.id).limit(1)) is not None:
        return
    customers = list(
        session.scalars(sa.select(Customer.id).where(Customer.shop_id == shop.id).order_by(Customer.id).limit(6))
    )
    products = list(
        session.scalars(
            sa.select(Product.id).where(Product.shop_id == shop.id, Product.status == "active").order_by(Product.id)
        )
    )
    if not customers or not products:
        return
    rng = random.Random(16)
    now = SystemClock().now()
    events = []
    for n in range(40):
        kind = rng.choice(("product_viewed", "product_viewed", "searched", "cart_added", "page_viewed"))
        properties = _properties(rng, kind, products)
        events.append(
            {
                "event_id": f"demo-{n:03d}",
                "customer_id": customers[n % len(customers)],
                "type": kind,
                "occurred_at": now - dt.timedelta(days=rng.uniform(0.05, 7)),
                "channel": rng.choice(CHANNELS),
                "campaign": "中秋" if kind == "page_viewed" else None,
                "properties": properties,
            }
        )
    record_events(session, shop_id=shop.id, events=events, now=now, retention=RETENTION)
