"""The legacy fields: the six names of the first condition language, as it had them (docs/architecture.md §5.8).

``fields/__init__.py`` imports the section modules in a fixed order: defining a field registers it, and
that order is the order of ``GET /segment-fields``.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from souk_platform.audience.compiler import (
    Context,
    PredicateMeasure,
    RowMeasure,
)
from souk_platform.audience.fields.core import (
    define,
)
from souk_platform.core.money import POINTS
from souk_platform.customers.models import Customer
from souk_platform.ledger.models import LedgerAccount
from souk_platform.tags.models import CustomerTag

# --- legacy fields: exactly as the first condition language had them ------------------------------------------


def _points_balance(ctx: Context, params: dict[str, Any]) -> Any:
    balance = (
        sa.select(LedgerAccount.balance)
        .where(
            LedgerAccount.shop_id == ctx.shop_id,
            LedgerAccount.kind == "customer.points",
            LedgerAccount.owner_id == Customer.id,
            LedgerAccount.unit == POINTS,
        )
        .scalar_subquery()
    )
    return sa.func.coalesce(balance, 0)


def _stored_value_balance(ctx: Context, params: dict[str, Any]) -> Any:
    balance = (
        sa.select(sa.func.sum(LedgerAccount.balance))
        .where(
            LedgerAccount.shop_id == ctx.shop_id,
            LedgerAccount.kind == "customer.stored_value",
            LedgerAccount.owner_id == Customer.id,
        )
        .scalar_subquery()
    )
    return sa.func.coalesce(balance, 0)


def _has_tag(ctx: Context, tag_id: str) -> sa.ColumnElement[bool]:
    return sa.exists().where(
        CustomerTag.customer_id == Customer.id, CustomerTag.tag_id == tag_id, CustomerTag.shop_id == ctx.shop_id
    )


def _tag_test(ctx: Context, params: dict[str, Any], cmp: str, value: Any) -> sa.ColumnElement[bool]:
    return _has_tag(ctx, value) if cmp == "has" else sa.not_(_has_tag(ctx, value))


define(
    "level",
    "loyalty",
    ("会员等级", "Member level"),
    ("客户当前的会员等级 V1–V5", "The customer's member level now, 1–5 (V1–V5)"),
    "level",
    RowMeasure(lambda ctx, p: Customer.level),
    cmps={"eq": "level", "gte": "level", "lte": "level", "in": "levels"},
    legacy=True,
)
define(
    "tag",
    "tags",
    ("有/没有标签", "Has / has not a tag"),
    ("客户当前是否带有该标签", "Whether the customer carries the tag now"),
    "tag",
    PredicateMeasure(_tag_test),
    cmps={"has": "tag", "not_has": "tag"},
    legacy=True,
)
define(
    "total_spent",
    "trade",
    ("累计消费金额（分）", "Total spent (fen)"),
    (
        "全部已支付订单的实付金额（现金+储值）减退款，历史累计",
        "All paid orders' cash and stored value, net of refunds, ever",
    ),
    "amount",
    RowMeasure(lambda ctx, p: Customer.total_spent),
    cmps={"gte": "amount", "lte": "amount"},
    legacy=True,
)
define(
    "orders_count",
    "trade",
    ("累计订单数", "Orders ever"),
    ("历史累计已支付订单数", "Paid orders ever"),
    "count",
    RowMeasure(lambda ctx, p: Customer.orders_count),
    cmps={"eq": "count", "gte": "count", "lte": "count"},
    legacy=True,
)
define(
    "last_order_at",
    "trade",
    ("最近下单时间", "Last order time"),
    (
        "最近一笔已支付订单的支付时间；从未下单的客户不满足任何条件",
        "When the last paid order was paid; never matches a customer who never ordered",
    ),
    "datetime",
    RowMeasure(lambda ctx, p: Customer.last_order_at),
    cmps={"within_days": "days", "before": "datetime", "after": "datetime"},
    legacy=True,
)
define(
    "points",
    "loyalty",
    ("积分余额", "Points balance"),
    ("客户积分账户当前余额", "The customer's points balance now"),
    "amount",
    RowMeasure(_points_balance),
    cmps={"gte": "amount", "lte": "amount"},
    legacy=True,
)
