"""The demo seed places real orders through the services."""

from __future__ import annotations

import sqlalchemy as sa

from factories import ShopFactory
from souk_platform.ledger.services import check_invariants
from souk_platform.orders.models import Order, OrderLine
from souk_platform.seeds import STEPS


def test_demo_orders_are_real(session):
    shop = ShopFactory()
    labels = [label for label, _ in STEPS]
    assert labels.index("Orders / 订单") > labels.index("Coupons, points and stored value / 优惠券、积分与储值")
    for _, step in STEPS:
        step(session, shop)
        session.commit()
    orders = list(session.scalars(sa.select(Order).where(Order.shop_id == shop.id)))
    statuses = [o.status for o in orders]
    assert len(orders) >= 15
    assert statuses.count("pending_payment") == 1
    assert {"paid", "fulfilled", "completed"} <= set(statuses)
    assert sum(1 for o in orders if o.refunded_total) == 1
    assert check_invariants(session) == []
    # the benefit packages' step places one order priced by a birthday gift's discount (§5.10)
    perks = session.scalars(
        sa.select(OrderLine.member_perk).join(Order, Order.id == OrderLine.order_id).where(Order.shop_id == shop.id)
    ).all()
    assert "benefit_discount" in perks
    # seeding orders again does nothing
    dict(STEPS)["Orders / 订单"](session, shop)
    assert session.scalar(sa.select(sa.func.count()).select_from(Order).where(Order.shop_id == shop.id)) == len(orders)
