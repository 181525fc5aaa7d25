"""The demo shop's levels carry perks, member prices and a category rule, and its orders were priced with them."""

from __future__ import annotations

import sqlalchemy as sa

from factories import ShopFactory
from souk_platform.catalog.models import Category
from souk_platform.ledger.services import check_invariants
from souk_platform.members.models import MemberPrice
from souk_platform.members.services import get_level_config
from souk_platform.orders.models import Order, OrderLine
from souk_platform.seeds import STEPS


def test_the_demo_levels_have_perks_and_the_demo_orders_used_them(session):
    shop = ShopFactory()
    labels = [label for label, _ in STEPS]
    assert (
        labels.index("Customers, levels and tags / 顾客、等级与标签")
        < labels.index("Level perks and member prices / 等级权益与会员价")
        < labels.index("Orders / 订单")
    )
    for _, step in STEPS:
        step(session, shop)
        session.commit()
    levels = get_level_config(session, shop_id=shop.id)["levels"]
    assert [(e["discount_bps"], e["points_multiplier_percent"]) for e in levels] == [
        (0, 100),
        (200, 100),
        (500, 120),
        (800, 150),
        (1200, 200),
    ]
    tea_ware = session.scalar(sa.select(Category.id).where(Category.shop_id == shop.id, Category.name == "茶具"))
    assert levels[2]["upgrade"]["category"] == {"category_id": tea_ware, "spend": 100_000}
    prices = session.scalar(sa.select(sa.func.count()).select_from(MemberPrice).where(MemberPrice.shop_id == shop.id))
    assert prices == 5
    members = session.scalars(sa.select(Order).where(Order.shop_id == shop.id, Order.member_discount_total > 0)).all()
    assert members, "no demo order was priced for a member's level"
    for order in members:
        lines = session.scalars(sa.select(OrderLine).where(OrderLine.order_id == order.id)).all()
        assert order.member_discount_total == sum((line.list_price - line.unit_price) * line.quantity for line in lines)
        assert order.subtotal == sum(line.unit_price * line.quantity for line in lines)
    assert check_invariants(session) == []
    # seeding the perks again changes nothing
    version = get_level_config(session, shop_id=shop.id)["version"]
    dict(STEPS)["Level perks and member prices / 等级权益与会员价"](session, shop)
    assert get_level_config(session, shop_id=shop.id)["version"] == version
