"""The demo shop opens on a dashboard with figures: today's orders, the week's sales, new members, levels;
its products sit in a category tree and its customers have a behaviour timeline."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from factories import ShopFactory
from souk_platform.behaviour.models import CustomerEvent
from souk_platform.catalog.categories import category_tree
from souk_platform.catalog.models import Product
from souk_platform.ledger.services import check_invariants
from souk_platform.orders.models import Order
from souk_platform.reports.services import dashboard
from souk_platform.seeds import STEPS


def _count(session, model, shop_id):
    return session.scalar(sa.select(sa.func.count()).select_from(model).where(model.shop_id == shop_id))


def test_the_demo_dashboard_has_todays_sales_new_members_levels_categories_and_events(session):
    shop = ShopFactory()
    for _, step in STEPS:
        step(session, shop)
        session.commit()

    board = dashboard(session, shop_id=shop.id, timezone=shop.timezone, now=dt.datetime.now(dt.UTC))
    assert board.today_sales.orders_paid >= 1 and board.today_sales.revenue > 0
    assert board.week_sales.orders_paid > board.today_sales.orders_paid
    assert board.new_members_today == board.customers >= 10
    assert sum(1 for share in board.levels if share.customers) >= 3

    paths = {" / ".join(node.path) for node in category_tree(session, shop_id=shop.id)}
    assert {"茶叶 / 绿茶", "茶叶 / 乌龙茶", "茶具", "礼盒"} <= paths
    products = list(session.scalars(sa.select(Product).where(Product.shop_id == shop.id)))
    assert all(p.category_id for p in products) and any(p.tags for p in products)
    assert _count(session, CustomerEvent, shop.id) == 40
    assert check_invariants(session) == []

    orders, events = _count(session, Order, shop.id), _count(session, CustomerEvent, shop.id)
    steps = dict(STEPS)
    for label in ("Today's orders for the dashboard / 概览页的今日订单", "Behaviour events / 行为事件"):
        steps[label](session, shop)  # seeding again adds nothing
    assert (_count(session, Order, shop.id), _count(session, CustomerEvent, shop.id)) == (orders, events)
