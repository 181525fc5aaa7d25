"""Trade fields: aggregates over orders, lines and refunds, first/last orders, payment (docs/architecture.md §5.8).

``fields/__init__.py`` imports the section modules in a fixed order: defining a field registers it, and
that order is the order of ``GET /segment-fields``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from souk_platform.audience import sources as src
from souk_platform.audience.compiler import (
    Context,
    PredicateMeasure,
    RowMeasure,
    count_where,
    ratio,
    total,
    window,
)
from souk_platform.audience.fields.core import (
    _ORDER_SCOPE_EN,
    _ORDER_SCOPE_ZH,
    _VALUE_EN,
    _VALUE_ZH,
    TRADE,
    WINDOW,
    _agg,
    define,
)
from souk_platform.customers.models import Customer
from souk_platform.orders.models import SOLD_STATUSES, Order

# --- trade: aggregates over orders -------------------------------------------------------------------------------

_TRADE_ORDERS: list[tuple[str, tuple[str, str], tuple[str, str], str, str, Callable[[Any], Any], Any]] = [
    # key, names, definition (after the shared scope text), type, source, aggregate, value with no orders
    (
        "orders_count",
        ("订单数", "Orders"),
        ("订单笔数", "the number of orders"),
        "count",
        "orders",
        lambda s: sa.func.count(),
        0,
    ),
    (
        "spend",
        ("消费金额（分）", "Spend (fen)"),
        ("订单金额之和", "the sum of the orders' values"),
        "amount",
        "orders",
        lambda s: total(s.c.value),
        0,
    ),
    (
        "avg_order_value",
        ("客单价（分）", "Average order value (fen)"),
        (
            "订单金额之和除以订单数；无订单的客户不满足",
            "the sum of values / the number of orders; no orders never matches",
        ),
        "amount",
        "orders",
        lambda s: ratio(sa.func.sum(s.c.value), sa.func.count()),
        None,
    ),
    (
        "max_order_value",
        ("最大单笔订单金额（分）", "Largest order (fen)"),
        ("单笔订单金额的最大值", "the largest order value"),
        "amount",
        "orders",
        lambda s: sa.func.max(s.c.value),
        None,
    ),
    (
        "min_order_value",
        ("最小单笔订单金额（分）", "Smallest order (fen)"),
        ("单笔订单金额的最小值", "the smallest order value"),
        "amount",
        "orders",
        lambda s: sa.func.min(s.c.value),
        None,
    ),
    (
        "gross_value",
        ("商品原价金额（分）", "Goods value before discounts (fen)"),
        ("订单商品按原价的金额之和（未减优惠）", "the goods at list price, before discounts"),
        "amount",
        "orders",
        lambda s: total(s.c.subtotal),
        0,
    ),
    (
        "discount_amount",
        ("优惠金额（分）", "Discounts received (fen)"),
        ("订单（或范围内商品行）分摊到的优惠之和", "the discounts the orders (or lines in scope) received"),
        "amount",
        "orders",
        lambda s: total(s.c.discount),
        0,
    ),
    (
        "discount_rate",
        ("平均折扣率", "Discount rate"),
        ("优惠金额 / 原价金额（0–1）", "discounts / goods value before discounts (0–1)"),
        "ratio",
        "orders",
        lambda s: ratio(sa.func.sum(s.c.discount), sa.func.sum(s.c.subtotal)),
        None,
    ),
    (
        "max_discount",
        ("单笔最大优惠（分）", "Largest discount on one order (fen)"),
        ("单笔订单（或范围内商品行）优惠的最大值", "the largest discount of one order (or its lines in scope)"),
        "amount",
        "orders",
        lambda s: sa.func.max(s.c.discount),
        None,
    ),
    (
        "avg_discount_per_order",
        ("平均每单优惠（分）", "Average discount per order (fen)"),
        ("优惠金额 / 订单数；无订单的客户不满足", "discounts / orders; no orders never matches"),
        "amount",
        "orders",
        lambda s: ratio(sa.func.sum(s.c.discount), sa.func.count()),
        None,
    ),
    (
        "discounted_orders_count",
        ("使用优惠的订单数", "Orders with a discount"),
        ("有优惠的订单笔数", "orders with any discount"),
        "count",
        "orders",
        lambda s: count_where(s.c.discount > 0),
        0,
    ),
    (
        "full_price_orders_count",
        ("原价订单数", "Orders at full price"),
        ("没有任何优惠的订单笔数", "orders without any discount"),
        "count",
        "orders",
        lambda s: count_where(s.c.discount == 0),
        0,
    ),
    (
        "cash_paid",
        ("现金支付金额（分）", "Cash paid (fen)"),
        ("订单的现金实付之和（整单）", "the cash the whole orders cost"),
        "amount",
        "orders",
        lambda s: total(s.c.cash),
        0,
    ),
    (
        "money_paid",
        ("实付金额（分）", "Money paid (fen)"),
        ("订单的现金加储值实付之和（整单）", "cash plus stored value paid for the whole orders"),
        "amount",
        "orders",
        lambda s: total(s.c.paid),
        0,
    ),
    (
        "net_paid",
        ("退款后实付金额（分）", "Money paid net of refunds (fen)"),
        ("现金加储值实付减去这些订单的退款（整单）", "cash plus stored value paid, minus these orders' refunds"),
        "amount",
        "orders",
        lambda s: total(s.c.paid) - total(s.c.refunded),
        0,
    ),
    (
        "points_used",
        ("积分抵扣数", "Points spent on orders"),
        ("订单使用的积分之和（整单）", "the points spent on the whole orders"),
        "count",
        "orders",
        lambda s: total(s.c.points_spent),
        0,
    ),
    (
        "points_orders_count",
        ("使用积分的订单数", "Orders paid partly with points"),
        ("使用了积分的订单笔数", "orders that spent points"),
        "count",
        "orders",
        lambda s: count_where(s.c.points_spent > 0),
        0,
    ),
    (
        "stored_value_used",
        ("储值支付金额（分）", "Stored value spent on orders (fen)"),
        ("订单使用的储值之和（整单）", "the stored value spent on the whole orders"),
        "amount",
        "orders",
        lambda s: total(s.c.stored_value_used),
        0,
    ),
    (
        "stored_value_orders_count",
        ("使用储值的订单数", "Orders paid partly with stored value"),
        ("使用了储值的订单笔数", "orders that spent stored value"),
        "count",
        "orders",
        lambda s: count_where(s.c.stored_value_used > 0),
        0,
    ),
    (
        "cash_orders_count",
        ("现金支付订单数", "Orders with cash paid"),
        ("有现金实付的订单笔数", "orders with some cash paid"),
        "count",
        "orders",
        lambda s: count_where(s.c.cash > 0),
        0,
    ),
    (
        "fees_paid",
        ("运费等费用（分）", "Fees paid (fen)"),
        ("订单费用（运费等）之和", "the orders' fees (shipping …)"),
        "amount",
        "orders",
        lambda s: total(s.c.fee),
        0,
    ),
    (
        "refunded_orders_count",
        ("有退款的订单数", "Orders with a refund"),
        ("发生过退款的订单笔数（按订单支付时间）", "orders refunded in part or whole (by the order's payment time)"),
        "count",
        "orders",
        lambda s: count_where(s.c.refunded > 0),
        0,
    ),
    (
        "fully_refunded_orders_count",
        ("全额退款订单数", "Orders refunded in full"),
        ("退款金额等于实付的订单笔数", "orders whose refunds equal what was paid"),
        "count",
        "orders",
        lambda s: count_where(sa.and_(s.c.paid > 0, s.c.refunded >= s.c.paid)),
        0,
    ),
    (
        "order_refund_amount",
        ("订单退款金额（分）", "Refunds on these orders (fen)"),
        ("这些订单的退款之和（现金+储值）", "cash and stored value refunded on these orders"),
        "amount",
        "orders",
        lambda s: total(s.c.refunded),
        0,
    ),
    (
        "refund_rate",
        ("退款率（金额）", "Refund rate (by amount)"),
        ("这些订单的退款 / 实付（0–1）", "refunds / money paid on these orders (0–1)"),
        "ratio",
        "orders",
        lambda s: ratio(sa.func.sum(s.c.refunded), sa.func.sum(s.c.paid)),
        None,
    ),
    (
        "refund_order_rate",
        ("退款率（订单数）", "Refund rate (by orders)"),
        ("有退款的订单数 / 订单数（0–1）", "orders with a refund / orders (0–1)"),
        "ratio",
        "orders",
        lambda s: ratio(count_where(s.c.refunded > 0), sa.func.count()),
        None,
    ),
    (
        "points_earned_on_orders",
        ("订单获得积分", "Points earned on orders"),
        ("这些订单奖励的积分之和", "the points these orders awarded"),
        "count",
        "orders",
        lambda s: total(s.c.points_earned),
        0,
    ),
    (
        "cashback_on_orders",
        ("订单返现（分）", "Cashback on orders (fen)"),
        ("这些订单安排的返现之和", "the cashback these orders scheduled"),
        "amount",
        "orders",
        lambda s: total(s.c.cashback),
        0,
    ),
    (
        "first_order_at",
        ("首单时间", "First order time"),
        ("最早一笔订单的支付时间", "when the first order was paid"),
        "datetime",
        "orders",
        lambda s: sa.func.min(s.c.paid_at),
        None,
    ),
    (
        "last_order_time",
        ("末单时间", "Last order time"),
        ("最近一笔订单的支付时间", "when the last order was paid"),
        "datetime",
        "orders",
        lambda s: sa.func.max(s.c.paid_at),
        None,
    ),
    (
        "days_since_first_order",
        ("首单距今天数", "Days since the first order"),
        ("最早一笔订单支付至今的整天数", "whole days since the first order was paid"),
        "elapsed",
        "orders",
        lambda s: sa.func.min(s.c.paid_at),
        None,
    ),
    (
        "days_since_last_order",
        ("末单距今天数", "Days since the last order"),
        ("最近一笔订单支付至今的整天数", "whole days since the last order was paid"),
        "elapsed",
        "orders",
        lambda s: sa.func.max(s.c.paid_at),
        None,
    ),
    (
        "active_days",
        ("购买天数", "Days with an order"),
        ("有订单的不同日期数（UTC）", "distinct UTC days with an order"),
        "count",
        "orders",
        lambda s: sa.func.count(sa.distinct(sa.func.date(s.c.paid_at))),
        0,
    ),
    (
        "channels_count",
        ("购买渠道数", "Channels bought through"),
        ("下单用过的不同渠道数", "distinct channels of the orders"),
        "count",
        "orders",
        lambda s: sa.func.count(sa.distinct(s.c.channel)),
        0,
    ),
    (
        "items_count",
        ("购买件数", "Units bought"),
        ("订单（或范围内商品行）的商品件数之和", "units in the orders (or lines in scope)"),
        "count",
        "orders_items",
        lambda s: total(s.c.units),
        0,
    ),
    (
        "avg_items_per_order",
        ("平均每单件数", "Units per order"),
        ("件数 / 订单数；无订单的客户不满足", "units / orders; no orders never matches"),
        "number",
        "orders_items",
        lambda s: ratio(sa.func.sum(s.c.units), sa.func.count()),
        None,
    ),
    (
        "max_items_per_order",
        ("单笔最多件数", "Most units in one order"),
        ("单笔订单件数的最大值", "the most units in one order"),
        "count",
        "orders_items",
        lambda s: sa.func.max(s.c.units),
        None,
    ),
    (
        "multi_item_orders_count",
        ("多件订单数", "Orders of several units"),
        ("件数至少为2的订单笔数", "orders of 2 units or more"),
        "count",
        "orders_items",
        lambda s: count_where(s.c.units >= 2),
        0,
    ),
    (
        "single_item_orders_count",
        ("单件订单数", "Orders of one unit"),
        ("只有1件商品的订单笔数", "orders of exactly 1 unit"),
        "count",
        "orders_items",
        lambda s: count_where(s.c.units == 1),
        0,
    ),
    (
        "avg_unit_value",
        ("件单价（分）", "Value per unit (fen)"),
        ("订单金额之和 / 件数", "the sum of values / units"),
        "amount",
        "orders_items",
        lambda s: ratio(sa.func.sum(s.c.value), sa.func.sum(s.c.units)),
        None,
    ),
]
for name, names, definition, type_, source, agg, empty in _TRADE_ORDERS:
    define(
        f"trade.{name}",
        "trade",
        names,
        (
            f"{_ORDER_SCOPE_ZH}；{_VALUE_ZH}。取{definition[0]}。",
            f"{_ORDER_SCOPE_EN}; {_VALUE_EN}. Measures {definition[1]}.",
        ),
        type_,
        _agg(source, agg, empty),
        TRADE,
    )

_TRADE_LINES: list[tuple[str, tuple[str, str], tuple[str, str], str, Callable[[Any], Any], Any]] = [
    (
        "distinct_products",
        ("购买商品种数", "Distinct products bought"),
        ("不同商品数", "distinct products"),
        "count",
        lambda s: sa.func.count(sa.distinct(s.c.product_id)),
        0,
    ),
    (
        "distinct_skus",
        ("购买规格种数", "Distinct SKUs bought"),
        ("不同规格（SKU）数", "distinct SKUs"),
        "count",
        lambda s: sa.func.count(sa.distinct(s.c.sku_id)),
        0,
    ),
    (
        "distinct_categories",
        ("购买类目数", "Distinct categories bought"),
        ("商品行记录的不同类目数", "distinct categories the lines recorded"),
        "count",
        lambda s: sa.func.count(sa.distinct(s.c.category_id)),
        0,
    ),
    (
        "lines_count",
        ("购买商品行数", "Order lines bought"),
        ("商品行数", "order lines"),
        "count",
        lambda s: sa.func.count(),
        0,
    ),
    (
        "refunded_items",
        ("退货件数", "Units refunded"),
        ("商品行的已退数量之和", "refunded units of the lines"),
        "count",
        lambda s: total(s.c.refunded_quantity),
        0,
    ),
    (
        "max_unit_price",
        ("买过的最高单价（分）", "Highest unit price bought (fen)"),
        ("商品行单价最大值", "the highest line unit price"),
        "amount",
        lambda s: sa.func.max(s.c.unit_price),
        None,
    ),
    (
        "min_unit_price",
        ("买过的最低单价（分）", "Lowest unit price bought (fen)"),
        ("商品行单价最小值", "the lowest line unit price"),
        "amount",
        lambda s: sa.func.min(s.c.unit_price),
        None,
    ),
    (
        "avg_unit_price",
        ("平均商品单价（分）", "Average unit price (fen)"),
        ("商品行单价按件数加权平均", "line unit prices averaged by units"),
        "amount",
        lambda s: ratio(sa.func.sum(s.c.unit_price * s.c.quantity), sa.func.sum(s.c.quantity)),
        None,
    ),
]
for name, names, definition, type_, agg, empty in _TRADE_LINES:
    define(
        f"trade.{name}",
        "trade",
        names,
        (
            f"{_ORDER_SCOPE_ZH}，在这些订单（范围内）的商品行上取{definition[0]}。",
            f"{_ORDER_SCOPE_EN}; over their lines (in scope), measures {definition[1]}.",
        ),
        type_,
        _agg("lines", agg, empty),
        TRADE,
    )

_REFUNDS: list[tuple[str, tuple[str, str], tuple[str, str], str, Callable[[Any], Any], Any]] = [
    (
        "refunds_count",
        ("退款次数", "Refunds"),
        ("退款笔数", "the number of refunds"),
        "count",
        lambda s: sa.func.count(),
        0,
    ),
    (
        "refunds_amount",
        ("退款金额（分）", "Refunded (fen)"),
        ("退款金额（现金+储值）之和", "cash and stored value refunded"),
        "amount",
        lambda s: total(s.c.amount),
        0,
    ),
    (
        "max_refund_amount",
        ("最大单笔退款（分）", "Largest refund (fen)"),
        ("单笔退款金额最大值", "the largest refund"),
        "amount",
        lambda s: sa.func.max(s.c.amount),
        None,
    ),
    (
        "refund_points_returned",
        ("退款退回积分", "Points returned by refunds"),
        ("退款退回的积分之和", "points given back by refunds"),
        "count",
        lambda s: total(s.c.points_returned),
        0,
    ),
    (
        "last_refund_at",
        ("最近退款时间", "Last refund time"),
        ("最近一笔退款的时间", "when the last refund was made"),
        "datetime",
        lambda s: sa.func.max(s.c.at),
        None,
    ),
    (
        "days_since_last_refund",
        ("最近退款距今天数", "Days since the last refund"),
        ("最近一笔退款至今的整天数", "whole days since the last refund"),
        "elapsed",
        lambda s: sa.func.max(s.c.at),
        None,
    ),
]
for name, names, definition, type_, agg, empty in _REFUNDS:
    define(
        f"trade.{name}",
        "trade",
        names,
        (
            f"按退款时间落在时间范围内的成功退款，取{definition[0]}。",
            f"Succeeded refunds made in the window (by the refund's time); measures {definition[1]}.",
        ),
        type_,
        _agg("refunds", agg, empty),
        WINDOW,
    )

for status_source, zh, en, at_zh, at_en in (
    ("unpaid", "待支付", "unpaid", "下单时间", "created"),
    ("cancelled", "已取消", "cancelled", "取消时间", "cancelled"),
):
    define(
        f"trade.{status_source}_orders_count",
        "trade",
        (f"{zh}订单数", f"Orders {en}"),
        (f"状态为{zh}、{at_zh}在时间范围内的订单笔数", f"Orders now {en}, {at_en} in the window"),
        "count",
        _agg(status_source, lambda s: sa.func.count(), 0),
        WINDOW,
    )
    define(
        f"trade.{status_source}_orders_value",
        "trade",
        (f"{zh}订单金额（分）", f"Value of orders {en} (fen)"),
        (
            f"状态为{zh}、{at_zh}在时间范围内的订单商品原价之和",
            f"Goods value of orders now {en}, {at_en} in the window",
        ),
        "amount",
        _agg(status_source, lambda s: total(s.c.subtotal), 0),
        WINDOW,
    )
    define(
        f"trade.last_{status_source}_at",
        "trade",
        (f"最近{zh}订单时间", f"Last order {en}"),
        (f"最近一笔{zh}订单的{at_zh}", f"When the last order now {en} was {at_en}"),
        "datetime",
        _agg(status_source, lambda s: sa.func.max(s.c.at), None),
        WINDOW,
    )


def _first_or_last_order(last: bool, column: Callable[[], Any]) -> Callable[[Context, dict[str, Any]], Any]:
    def expr(ctx: Context, params: dict[str, Any]) -> Any:
        order = Order.paid_at.desc() if last else Order.paid_at.asc()
        return (
            sa.select(column())
            .where(Order.shop_id == ctx.shop_id, Order.customer_id == Customer.id, Order.status.in_(SOLD_STATUSES))
            .order_by(order, Order.id)
            .limit(1)
            .scalar_subquery()
        )

    return expr


for which, last in (("first", False), ("last", True)):
    zh = "首单" if not last else "末单"
    define(
        f"trade.{which}_order_value",
        "trade",
        (f"{zh}金额（分）", f"{which.title()} order value (fen)"),
        (f"{zh}（按支付时间）的商品金额减优惠", f"The {which} sold order's (by payment time) goods after discounts"),
        "amount",
        RowMeasure(_first_or_last_order(last, lambda: Order.subtotal - Order.discount_total)),
    )
    define(
        f"trade.{which}_order_channel",
        "trade",
        (f"{zh}渠道", f"{which.title()} order channel"),
        (f"{zh}（按支付时间）的下单渠道", f"The channel of the {which} sold order (by payment time)"),
        "choice",
        RowMeasure(_first_or_last_order(last, lambda: Order.channel)),
        choices=src.ORDER_CHANNELS,
    )


def _ever(column_test: Callable[[str], sa.ColumnElement[bool]]) -> Callable[..., sa.ColumnElement[bool]]:
    def build(ctx: Context, params: dict[str, Any], cmp: str, value: Any) -> sa.ColumnElement[bool]:
        values = value if isinstance(value, list) else [value]
        found = sa.exists().where(
            Order.shop_id == ctx.shop_id,
            Order.customer_id == Customer.id,
            Order.status.in_(SOLD_STATUSES),
            sa.or_(*(column_test(v) for v in values)),
            *window(Order.paid_at, ctx, params),
        )
        return found if cmp in ("eq", "in") else sa.not_(found)

    return build


def _paid_with(method: str) -> sa.ColumnElement[bool]:
    return {"cash": Order.total > 0, "points": Order.points_spent > 0, "stored_value": Order.stored_value_used > 0}[
        method
    ]


define(
    "trade.paid_with",
    "trade",
    ("用过的支付方式", "Paid with"),
    (
        "时间范围内有已支付订单用过该支付方式（现金、积分、储值）；ne/not_in 为没用过",
        "Some sold order paid in the window used this payment method (cash, points, stored value); ne/not_in: none did",
    ),
    "choice",
    PredicateMeasure(_ever(_paid_with)),
    WINDOW,
    choices=src.PAYMENT_METHODS,
)
define(
    "trade.bought_through",
    "trade",
    ("下过单的渠道", "Bought through channel"),
    (
        "时间范围内有已支付订单来自该渠道；ne/not_in 为没有",
        "Some sold order paid in the window came through this channel; ne/not_in: none did",
    ),
    "choice",
    PredicateMeasure(_ever(lambda v: Order.channel == v)),
    WINDOW,
    choices=src.ORDER_CHANNELS,
)
