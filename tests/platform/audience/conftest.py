"""A shop whose customers touch every source the filter fields read, built the same way on PostgreSQL and SQLite."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pytest

from factories import ShopFactory, token_for
from souk_platform.behaviour.models import CustomerEvent
from souk_platform.benefits.models import BenefitGrant, BenefitPackage
from souk_platform.catalog.models import Category, Product, ProductTag
from souk_platform.coupons.models import Coupon, CouponRedemption, CustomerCoupon
from souk_platform.customers.models import Customer, CustomerIdentity
from souk_platform.ledger.models import LedgerEntry
from souk_platform.ledger.services import Leg, get_account, post_transfer
from souk_platform.members.models import MemberLevelChange
from souk_platform.orders.models import Order, OrderLine, Refund
from souk_platform.points.models import PointsLot
from souk_platform.tags.models import CustomerTag
from souk_platform.tags.services import create_tag, tag_customers

NOW = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)  # the tests' frozen clock
DAY = dt.timedelta(days=1)


@dataclass
class Shop:
    """A seeded shop: ids by name, for exact tests."""

    shop_id: str
    headers: dict[str, str]
    customers: dict[str, str] = field(default_factory=dict)
    categories: dict[str, str] = field(default_factory=dict)
    products: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    coupons: dict[str, str] = field(default_factory=dict)
    packages: dict[str, str] = field(default_factory=dict)


class Builder:
    """Writes rows straight through the ORM (no events, no ledger rules beyond what a field reads)."""

    def __init__(self, session: Any, shop_id: str) -> None:
        self.session = session
        self.shop_id = shop_id
        self.count = 0

    def category(self, name: str, parent: str | None = None) -> str:
        row = Category(shop_id=self.shop_id, parent_id=parent, name=name, sibling_key=f"{parent or ''}/{name}")
        self.session.add(row)
        self.session.flush()
        return row.id

    def product(self, title: str, category_id: str, tags: tuple[str, ...] = ()) -> str:
        row = Product(shop_id=self.shop_id, title=title, status="active", category_id=category_id)
        self.session.add(row)
        self.session.flush()
        for tag in tags:
            self.session.add(ProductTag(product_id=row.id, tag=tag, shop_id=self.shop_id))
        return row.id

    def customer(self, name: str, **columns: Any) -> str:
        columns.setdefault("created_at", NOW - 400 * DAY)
        row = Customer(shop_id=self.shop_id, name=name, **columns)
        self.session.add(row)
        self.session.flush()
        return row.id

    def order(
        self,
        customer_id: str | None,
        paid_at: dt.datetime,
        lines: list[tuple[str, str | None, int, int, int]],  # (product id, category id, unit price, qty, discount)
        *,
        status: str = "paid",
        channel: str = "online",
        points_spent: int = 0,
        stored_value_used: int = 0,
        refunded_total: int = 0,
        fee_total: int = 0,
    ) -> str:
        subtotal = sum(price * qty for _, _, price, qty, _ in lines)
        discount = sum(d for *_, d in lines)
        cash = subtotal - discount + fee_total - points_spent - stored_value_used
        row = Order(
            shop_id=self.shop_id,
            customer_id=customer_id,
            status=status,
            currency="CNY",
            subtotal=subtotal,
            discount_total=discount,
            fee_total=fee_total,
            points_spent=points_spent,
            points_value=points_spent,
            stored_value_used=stored_value_used,
            total=cash,
            refunded_total=refunded_total,
            channel=channel,
            reservation_expires_at=paid_at,
            created_at=paid_at - dt.timedelta(minutes=5),
            paid_at=paid_at if status != "pending_payment" else None,
            cancelled_at=paid_at if status == "cancelled" else None,
        )
        row.lines = [
            OrderLine(
                shop_id=self.shop_id,
                sku_id=f"sku_{product_id}",
                product_id=product_id,
                category_id=category_id,
                title=f"Product {product_id}",
                unit_price=price,
                quantity=qty,
                discount=disc,
                position=i,
            )
            for i, (product_id, category_id, price, qty, disc) in enumerate(lines)
        ]
        self.session.add(row)
        self.session.flush()
        return row.id

    def event(self, customer_id: str, type_: str, at: dt.datetime, **properties: Any) -> None:
        self.count += 1
        scene = {k: properties.pop(k) for k in ("channel", "store", "campaign") if k in properties}
        self.session.add(
            CustomerEvent(
                shop_id=self.shop_id,
                event_id=f"ev-{self.count}",
                customer_id=customer_id,
                type=type_,
                occurred_at=at,
                received_at=at,
                properties=properties,
                **scene,
            )
        )

    def points(self, customer_id: str, amount: int, kind: str = "points.earn", at: dt.datetime = NOW) -> None:
        issued = get_account(
            self.session, shop_id=self.shop_id, kind="shop.points_issued", owner_id=self.shop_id, unit="PTS"
        )
        mine = get_account(self.session, shop_id=self.shop_id, kind="customer.points", owner_id=customer_id, unit="PTS")
        transfer = post_transfer(
            self.session, shop_id=self.shop_id, kind=kind, legs=[Leg(issued, -amount), Leg(mine, amount)]
        )
        self.session.flush()
        for entry in self.session.query(LedgerEntry).filter_by(transfer_id=transfer.id):
            entry.created_at = at

    def stored_value(
        self, customer_id: str, amount: int, kind: str = "stored_value.top_up", at: dt.datetime = NOW
    ) -> None:
        issued = get_account(
            self.session, shop_id=self.shop_id, kind="shop.stored_value_issued", owner_id=self.shop_id, unit="CNY"
        )
        mine = get_account(
            self.session, shop_id=self.shop_id, kind="customer.stored_value", owner_id=customer_id, unit="CNY"
        )
        transfer = post_transfer(
            self.session, shop_id=self.shop_id, kind=kind, legs=[Leg(issued, -amount), Leg(mine, amount)]
        )
        self.session.flush()
        for entry in self.session.query(LedgerEntry).filter_by(transfer_id=transfer.id):
            entry.created_at = at


def build_rich_shop(session: Any) -> Shop:
    """Customers ann…kim touching orders, lines, refunds, events, points, stored value, levels, coupons and tags."""
    shop_row = ShopFactory()
    shop = Shop(shop_row.id, token_for(shop_row))
    b = Builder(session, shop.shop_id)
    baby = shop.categories["母婴"] = b.category("母婴")
    milk = shop.categories["奶粉"] = b.category("奶粉", baby)
    shop.categories["婴儿奶粉"] = b.category("婴儿奶粉", milk)
    digital = shop.categories["数码"] = b.category("数码")
    formula = shop.products["formula"] = b.product("Milk formula", milk, ("baby", "hot"))
    phone = shop.products["phone"] = b.product("Phone", digital, ("hot",))
    c = shop.customers
    c["ann"] = b.customer(
        "Ann",
        phone="+8613800000001",
        email="ann@example.cn",
        level=2,
        birthday=dt.date(1990, 3, 5),  # 35 on NOW; her birthday is 3 days away
        gender="female",
        source_channel="store",
    )
    c["bob"] = b.customer(
        "Bob",
        email="bob@corp.example",
        level=3,
        level_changed_at=NOW - 10 * DAY,
        birthday=dt.date(2000, 2, 29),
        gender="male",
    )
    c["cat"] = b.customer("Cat", level=1, created_at=NOW - 5 * DAY)
    c["dan"] = b.customer("Dan", phone="+8613900000004", level=4)
    c["eve"] = b.customer("Eve", level=5)
    b.order(
        c["ann"], NOW - 10 * DAY, [(formula, milk, 20_000, 2, 1_000), (phone, digital, 100_000, 1, 0)], points_spent=500
    )
    b.order(c["ann"], NOW - 40 * DAY, [(formula, milk, 20_000, 1, 0)], channel="store", stored_value_used=5_000)
    b.order(c["bob"], NOW - 200 * DAY, [(phone, digital, 150_000, 1, 10_000)], refunded_total=20_000, fee_total=1_000)
    b.order(c["dan"], NOW - 1 * DAY, [(formula, milk, 35_000, 1, 0)], status="pending_payment")
    b.order(c["dan"], NOW - 3 * DAY, [(phone, digital, 99_000, 1, 0)], status="cancelled")
    b.order(None, NOW - 3 * DAY, [(formula, milk, 1_000, 1, 0)])  # a guest: never a customer of any field
    session.flush()
    bob_order = session.query(Order).filter_by(customer_id=c["bob"]).one()
    session.add(
        Refund(shop_id=shop.shop_id, order_id=bob_order.id, amount=20_000, reason="broken", created_at=NOW - 150 * DAY)
    )
    b.event(c["ann"], "product_viewed", NOW - 2 * DAY, product_id=formula, channel="app")
    b.event(c["cat"], "product_viewed", NOW - 2 * DAY, product_id=formula, channel="app")
    b.event(c["cat"], "cart_added", NOW - 1 * DAY, product_id=phone, quantity=2)
    b.event(c["cat"], "searched", NOW - 1 * DAY, query="Milk powder")
    b.event(c["dan"], "store_visited", NOW - 6 * DAY, store="S1", campaign="C1")
    b.event(c["eve"], "review_posted", NOW - 20 * DAY, product_id=phone, rating=2)
    for kind in ("page_viewed", "service_contacted", "coupon_viewed", "share_clicked"):
        b.event(c["eve"], kind, NOW - 4 * DAY, **({"url": "/x"} if kind == "page_viewed" else {}))
    b.points(c["ann"], 1_000, at=NOW - 30 * DAY)
    b.points(c["dan"], 3_000, at=NOW - 2 * DAY)
    session.add(
        PointsLot(
            shop_id=shop.shop_id,
            customer_id=c["dan"],
            points=3_000,
            remaining=3_000,
            expires_at=NOW + 20 * DAY,
            dedupe_key=f"lot-{c['dan']}",
            transfer_id="trf_x",
        )
    )
    b.stored_value(c["bob"], 50_000, at=NOW - 60 * DAY)
    session.add(
        MemberLevelChange(
            shop_id=shop.shop_id,
            customer_id=c["bob"],
            from_level=2,
            to_level=3,
            source="rule",
            reason="spend",
            created_at=NOW - 10 * DAY,
        )
    )
    coupon = Coupon(shop_id=shop.shop_id, code="TEN", name="Ten off", kind="fixed", value=1_000)
    session.add(coupon)
    session.flush()
    shop.coupons["TEN"] = coupon.id
    ann_order = session.query(Order).filter_by(customer_id=c["ann"]).order_by(Order.paid_at.desc()).first()
    session.add(
        CouponRedemption(
            shop_id=shop.shop_id,
            coupon_id=coupon.id,
            customer_id=c["ann"],
            order_id=ann_order.id,
            amount=1_000,
            status="redeemed",
            created_at=NOW - 10 * DAY,
        )
    )
    # The wallet (§5.9): GIFT, an issued coupon. ann used hers, bob's expired (the timer ran), cat holds one
    # unused, dan's is past its expiry with the timer not yet run, eve's is held by a checkout.
    gift = Coupon(shop_id=shop.shop_id, code="GIFT", name="Gift", kind="fixed", value=500, distribution="issued")
    session.add(gift)
    session.flush()
    shop.coupons["GIFT"] = gift.id
    for name, days_ago, status, expires_in in (
        ("ann", 20, "used", 10),
        ("bob", 100, "expired", -70),
        ("cat", 3, "issued", 10),
        ("dan", 15, "issued", -1),
        ("eve", 2, "reserved", 10),
    ):
        session.add(
            CustomerCoupon(
                shop_id=shop.shop_id,
                coupon_id=gift.id,
                customer_id=c[name],
                status=status,
                source="api",
                source_id="",
                issued_at=NOW - days_ago * DAY,
                expires_at=NOW + expires_in * DAY,
                used_at=NOW - 10 * DAY if status == "used" else None,
                ended_at=NOW - 70 * DAY if status == "expired" else None,
            )
        )
    # Benefits (§5.10): BIRTHDAY granted to ann 5 days ago (active), bob 50 days ago (used), eve 60 days ago
    # (active but past its expiry).
    birthday = BenefitPackage(shop_id=shop.shop_id, name="Birthday", trigger="manual", trigger_params={}, items=[])
    session.add(birthday)
    session.flush()
    shop.packages["BIRTHDAY"] = birthday.id
    for name, days_ago, status, expires_in in (
        ("ann", 5, "active", 30),
        ("bob", 50, "used", 30),
        ("eve", 60, "active", -1),
    ):
        session.add(
            BenefitGrant(
                shop_id=shop.shop_id,
                package_id=birthday.id,
                customer_id=c[name],
                period=f"manual:{name}",
                trigger="manual",
                status=status,
                items=[],
                granted_at=NOW - days_ago * DAY,
                expires_at=NOW + expires_in * DAY,
                used_at=NOW - 40 * DAY if status == "used" else None,
            )
        )
    vip = create_tag(session, shop_id=shop.shop_id, name="VIP", now=NOW)
    tag_customers(session, shop_id=shop.shop_id, tag_id=vip.id, customer_ids=[c["ann"], c["eve"]])
    shop.tags["VIP"] = vip.id
    session.add(
        CustomerIdentity(shop_id=shop.shop_id, customer_id=c["dan"], provider="wechat_openid:wx1", external_id="o1")
    )
    session.query(CustomerTag).filter_by(tag_id=vip.id).update({"created_at": NOW - DAY})
    session.commit()
    return shop


@pytest.fixture
def rich(session, clock) -> Shop:
    return build_rich_shop(session)
