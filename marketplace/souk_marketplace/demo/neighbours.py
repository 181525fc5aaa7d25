"""Two neighbouring demo shops, so the requirement board has other merchants posting and pledging.

Their money is real: each sells a wholesale order through the real checkout and the test payment
provider, so their takings reach the ledger the way a shop's do, and pledges come out of them.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from souk_platform.auth.models import User
from souk_platform.auth.services import create_user
from souk_platform.catalog.services import NewSku, create_product
from souk_platform.checkout.services import checkout, create_cart
from souk_platform.customers.services import create_customer
from souk_platform.db import DbSession
from souk_platform.orders.services import settle_payment, start_payment
from souk_platform.shops.models import Shop, StaffMember
from souk_platform.shops.services import create_shop

# owner email, password, shop name, product, price of the wholesale order in fen
NEIGHBOURS = (
    ("xihu@demo.souk.dev", "souk-demo-xihu", "West Lake Tea Garden 西湖茶园", "Longjing gift box 龙井礼盒", 600_000),
    ("puer@demo.souk.dev", "souk-demo-puer", "Pu'er Corner 普洱小铺", "Aged pu'er cake 陈年普洱饼", 400_000),
)


def neighbour_shops(session: DbSession) -> list[Shop]:
    """The neighbours' shops, in ``NEIGHBOURS`` order (those that exist)."""
    shops = []
    for email, *_rest in NEIGHBOURS:
        shop = session.scalar(
            sa.select(Shop)
            .join(StaffMember, StaffMember.shop_id == Shop.id)
            .join(User, User.id == StaffMember.user_id)
            .where(User.email == email, StaffMember.role == "owner")
        )
        if shop is not None:
            shops.append(shop)
    return shops


def seed(session: DbSession, now: dt.datetime) -> list[Shop]:
    """Open the neighbours' shops once, each with one paid wholesale order; returns them."""
    existing = neighbour_shops(session)
    if existing:
        return existing
    shops = []
    for n, (email, password, shop_name, product, price) in enumerate(NEIGHBOURS):
        owner = create_user(session, email=email, name=shop_name.split(" ")[0], password=password)
        shop = create_shop(session, name=shop_name, owner=owner)
        sku = create_product(
            session,
            shop_id=shop.id,
            title=product,
            status="active",
            skus=[NewSku(code=f"WHOLESALE-{n + 1}", title="x10", price=price, on_hand=20)],
        ).skus[0]
        buyer = create_customer(
            session, shop_id=shop.id, name="Hotel buyer 酒店采购", email=f"buyer{n + 1}@hotel.example"
        )
        session.flush()
        cart = create_cart(
            session, shop_id=shop.id, customer_id=buyer.id, lines=[{"sku_id": sku.id, "quantity": 1}], now=now
        )
        order = checkout(
            session,
            shop_id=shop.id,
            cart_id=cart.id,
            customer_id=buyer.id,
            ip=f"10.9.{n}.1",
            coupon_codes=[],
            points_to_spend=0,
            stored_value_to_spend=0,
            now=now,
        )
        payment, _ = start_payment(session, shop_id=shop.id, order_id=order.id, now=now)
        settle_payment(session, shop_id=shop.id, payment_id=payment.id, callback={"outcome": "succeeded"}, now=now)
        shops.append(shop)
    return shops
