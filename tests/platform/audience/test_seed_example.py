"""The seed's example, exact on its boundaries: "过去90天在母婴类目消费2次以上且客单价大于300元".

= at least 2 sold orders paid in the last 90 days (paid_at >= now - 90 × 24 h) with a line in 母婴 or
below it, whose value in 母婴 (those lines' unit_price × quantity - discount) averages above 30000 fen.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from souk_platform.audience.schemas import load_condition_group
from souk_platform.audience.services import compile_condition, count_matching
from souk_platform.customers.models import Customer

from .conftest import DAY, NOW, Builder

SECOND = dt.timedelta(seconds=1)


def seed_condition(category_id: str) -> dict[str, Any]:
    params = {"window_days": 90, "category_id": category_id}
    return load_condition_group(
        {
            "op": "and",
            "conditions": [
                {"field": "trade.orders_count", "params": params, "cmp": "gte", "value": 2},
                {"field": "trade.avg_order_value", "params": params, "cmp": "gt", "value": 30_000},
            ],
        }
    )


def test_the_seed_example_matches_exactly_the_hand_checked_customers(session: Any, clock: Any) -> None:
    from factories import ShopFactory

    shop = ShopFactory()
    b = Builder(session, shop.id)
    baby = b.category("母婴")
    milk = b.category("奶粉", baby)
    infant = b.category("婴儿奶粉", milk)  # the third level: the subtree reaches it
    toys = b.category("玩具")
    p_milk, p_infant, p_toy = b.product("Milk", milk), b.product("Infant", infant), b.product("Toy", toys)
    p_baby = b.product("Bottle", baby)

    def buyer(name: str, orders: list[tuple[dt.timedelta, list[tuple[str, str, int, int, int]], str]]) -> str:
        customer_id = b.customer(name)
        for ago, lines, status in orders:
            b.order(customer_id, NOW - ago, lines, status=status)
        return customer_id

    paid = "paid"
    ids = {
        # exactly 2 orders, 300.01 yuan each, one three levels down the tree: in
        "two_just_over": buyer(
            "a",
            [(10 * DAY, [(p_milk, milk, 30_001, 1, 0)], paid), (20 * DAY, [(p_infant, infant, 30_001, 1, 0)], paid)],
        ),
        # exactly 300.00 yuan on average: out (the average must be above 300)
        "exactly_300": buyer(
            "b", [(10 * DAY, [(p_baby, baby, 20_000, 1, 0)], paid), (11 * DAY, [(p_milk, milk, 40_000, 1, 0)], paid)]
        ),
        # the older order paid exactly 90 days ago: inside the window, in
        "day_90": buyer(
            "c",
            [(90 * DAY, [(p_milk, milk, 40_000, 1, 0)], "completed"), (1 * DAY, [(p_milk, milk, 40_000, 1, 0)], paid)],
        ),
        # the older order paid 90 days and 1 second ago: one order left, out
        "day_90_plus": buyer(
            "d",
            [
                (90 * DAY + SECOND, [(p_milk, milk, 40_000, 1, 0)], paid),
                (1 * DAY, [(p_milk, milk, 40_000, 1, 0)], paid),
            ],
        ),
        # big orders, but only 250 yuan of each is 母婴 (the rest is toys): out
        "mixed_baskets": buyer(
            "e",
            [
                (5 * DAY, [(p_milk, milk, 25_000, 1, 0), (p_toy, toys, 90_000, 1, 0)], paid),
                (6 * DAY, [(p_milk, milk, 25_000, 1, 0), (p_toy, toys, 90_000, 1, 0)], paid),
            ],
        ),
        # a discount on the line brings 350 yuan down to 300: out
        "discounted": buyer(
            "f", [(5 * DAY, [(p_milk, milk, 35_000, 1, 5_000)], paid), (6 * DAY, [(p_milk, milk, 30_000, 1, 0)], paid)]
        ),
        # two units at 160 yuan = 320 yuan per order: in (value is price × quantity)
        "two_units": buyer(
            "g", [(5 * DAY, [(p_milk, milk, 16_000, 2, 0)], paid), (6 * DAY, [(p_milk, milk, 16_000, 2, 0)], paid)]
        ),
        # the second order is not paid (pending) and a third was cancelled: out
        "unpaid": buyer(
            "h",
            [
                (5 * DAY, [(p_milk, milk, 50_000, 1, 0)], paid),
                (6 * DAY, [(p_milk, milk, 50_000, 1, 0)], "pending_payment"),
                (7 * DAY, [(p_milk, milk, 50_000, 1, 0)], "cancelled"),
            ],
        ),
        # three orders, one of toys only: the toys order does not count, the two 母婴 ones average 400: in
        "three_orders": buyer(
            "i",
            [
                (5 * DAY, [(p_milk, milk, 40_000, 1, 0)], paid),
                (6 * DAY, [(p_milk, milk, 40_000, 1, 0)], paid),
                (7 * DAY, [(p_toy, toys, 1_000, 1, 0)], paid),
            ],
        ),
    }
    other = ShopFactory()  # the same purchases in another shop are never counted
    ob = Builder(session, other.id)
    other_baby = ob.category("母婴")
    ob.order(ob.customer("x"), NOW - DAY, [(ob.product("M", other_baby), other_baby, 90_000, 1, 0)])
    ob.order(
        session.query(Customer).filter_by(shop_id=other.id).one().id, NOW - 2 * DAY, [("p", other_baby, 90_000, 1, 0)]
    )
    session.commit()

    condition = seed_condition(baby)
    matched = set(
        session.scalars(
            sa.select(Customer.id).where(
                Customer.shop_id == shop.id, compile_condition(condition, shop_id=shop.id, now=NOW)
            )
        )
    )
    assert matched == {ids["two_just_over"], ids["day_90"], ids["two_units"], ids["three_orders"]}
    assert count_matching(session, shop_id=shop.id, condition=condition, now=NOW) == 4
    # Another shop's category id names nothing in this shop.
    assert count_matching(session, shop_id=shop.id, condition=seed_condition(other_baby), now=NOW) == 0


def test_the_two_leaves_of_the_seed_example_compile_to_one_grouped_scan() -> None:
    condition = seed_condition("cat_x")
    sql = str(compile_condition(condition, shop_id="shp_x", now=NOW).compile(compile_kwargs={"literal_binds": True}))
    assert sql.count("GROUP BY") == 2  # per order (its lines in the category), then per customer
    assert sql.count("HAVING") == 1
    assert sql.count("FROM orders JOIN order_lines") == 1
