"""The merchant dashboard's figures: today and the last 7 local days, new members, the level distribution."""

from __future__ import annotations

import datetime as dt

from factories import ShopFactory
from souk_platform.customers.models import Customer
from souk_platform.members.services import default_levels, save_level_config
from souk_platform.orders.models import Order
from souk_platform.reports import services


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


def add_order(session, shop, *, paid_at, total=10_000, refunded_total=0, status="paid", customer=None, created_at=None):
    created = at(created_at or paid_at)
    session.add(
        Order(
            shop_id=shop.id,
            customer_id=customer.id if customer else None,
            status=status,
            currency=shop.currency,
            subtotal=total,
            total=total,
            refunded_total=refunded_total,
            reservation_expires_at=created + dt.timedelta(minutes=30),
            created_at=created,
            paid_at=at(paid_at) if paid_at else None,
        )
    )
    session.commit()


def _customer(session, shop, name: str, *, joined: str, level: int = 1) -> Customer:
    customer = Customer(shop_id=shop.id, name=name, level=level, created_at=at(joined))
    session.add(customer)
    session.commit()
    return customer


def test_today_and_the_week_count_paid_orders_on_the_shops_local_days(session):
    shop = ShopFactory(timezone="Asia/Shanghai")  # UTC+8: local 2026-03-10 starts at 2026-03-09T16:00 UTC
    buyer = _customer(session, shop, "王芳", joined="2026-01-01T00:00")
    add_order(session, shop, paid_at="2026-03-09T16:30", total=12_000, customer=buyer)  # today, local 00:30
    add_order(session, shop, paid_at="2026-03-10T09:00", total=8_000, refunded_total=3_000, customer=buyer)  # today
    add_order(session, shop, paid_at="2026-03-09T15:59", total=5_000)  # yesterday, local 23:59
    add_order(session, shop, paid_at="2026-03-03T16:00", total=7_000)  # 6 days ago, local midnight: in the week
    add_order(session, shop, paid_at="2026-03-03T15:59", total=9_000)  # 7 days ago: outside
    add_order(session, shop, paid_at=None, status="pending_payment", created_at="2026-03-10T08:00")  # unpaid

    board = services.dashboard(session, shop_id=shop.id, timezone=shop.timezone, now=at("2026-03-10T10:00"))

    assert (board.today.start, board.week.start, board.week.end) == (
        dt.date(2026, 3, 10),
        dt.date(2026, 3, 4),
        dt.date(2026, 3, 10),
    )
    assert (board.today_sales.orders_paid, board.today_sales.revenue, board.today_sales.refunds) == (2, 17_000, 3_000)
    assert (board.week_sales.orders_paid, board.week_sales.revenue) == (4, 29_000)
    assert [b.figures.orders_paid for b in board.week_trend] == [1, 0, 0, 0, 0, 1, 2]
    assert board.week_trend[0].start == dt.date(2026, 3, 4)


def test_new_members_and_the_level_distribution_use_the_shops_level_names(session):
    shop = ShopFactory(timezone="Asia/Shanghai")
    levels = default_levels()
    levels[1]["name"] = "银卡会员"
    save_level_config(
        session, shop_id=shop.id, window_days=365, downgrade_period_days=30, levels=levels, expected_version=None
    )
    _customer(session, shop, "today early", joined="2026-03-09T16:00")  # local 00:00 today
    _customer(session, shop, "today", joined="2026-03-10T09:00", level=2)
    _customer(session, shop, "this week", joined="2026-03-05T00:00", level=2)
    _customer(session, shop, "last month", joined="2026-02-01T00:00", level=5)
    other = ShopFactory()
    _customer(session, other, "another shop's", joined="2026-03-10T09:00", level=2)

    board = services.dashboard(session, shop_id=shop.id, timezone=shop.timezone, now=at("2026-03-10T10:00"))

    assert (board.new_members_today, board.new_members_week, board.customers) == (2, 3, 4)
    assert [(s.level, s.name, s.customers) for s in board.levels] == [
        (1, "V1", 1),
        (2, "银卡会员", 2),
        (3, "V3", 0),
        (4, "V4", 0),
        (5, "V5", 1),
    ]


def test_a_shop_with_nothing_yet_shows_zeros_not_errors(session):
    shop = ShopFactory(timezone="Not/AZone")
    board = services.dashboard(session, shop_id=shop.id, timezone=shop.timezone, now=at("2026-03-10T10:00"))
    assert board.timezone == "UTC"
    assert (board.today_sales.revenue, board.week_sales.orders_paid, board.customers) == (0, 0, 0)
    assert len(board.week_trend) == 7 and [s.customers for s in board.levels] == [0, 0, 0, 0, 0]
