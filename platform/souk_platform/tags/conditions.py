"""The condition language segments and rule tags share, and its one compiler to SQL.

A condition is a group ``{"op": "and"|"or", "conditions": [...]}`` whose items are groups or
leaves ``{"field": …, "cmp": …, "value": …}``. ``schemas.ConditionGroupField`` validates it (with
field paths and a depth limit); ``compile_condition`` turns a validated one into a where clause
over ``Customer`` that callers always AND with the shop.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import sqlalchemy as sa

from souk_platform.core.money import POINTS
from souk_platform.customers.models import Customer
from souk_platform.ledger.models import LedgerAccount
from souk_platform.tags.models import CustomerTag

MAX_DEPTH = 4  # groups nested in groups, counting the outermost
MAX_CONDITIONS = 20  # items in one group

# field -> cmp -> kind of value it takes (see schemas._check_value)
CONDITION_FIELDS: dict[str, dict[str, str]] = {
    "level": {"eq": "level", "gte": "level", "lte": "level", "in": "levels"},
    "tag": {"has": "tag", "not_has": "tag"},
    "total_spent": {"gte": "amount", "lte": "amount"},
    "orders_count": {"eq": "count", "gte": "count", "lte": "count"},
    "last_order_at": {"within_days": "days", "before": "datetime", "after": "datetime"},
    "points": {"gte": "amount", "lte": "amount"},
}


def is_group(node: dict[str, Any]) -> bool:
    return "op" in node or "conditions" in node


def _compare(column: Any, cmp: str, value: Any) -> sa.ColumnElement[bool]:
    if cmp == "eq":
        return column == value
    if cmp == "gte":
        return column >= value
    if cmp == "lte":
        return column <= value
    if cmp == "in":
        return column.in_(value)
    raise ValueError(f"unknown comparison {cmp!r}")


def _has_tag(shop_id: str, tag_id: str) -> sa.ColumnElement[bool]:
    return sa.exists().where(
        CustomerTag.customer_id == Customer.id, CustomerTag.tag_id == tag_id, CustomerTag.shop_id == shop_id
    )


def _points_balance(shop_id: str) -> Any:
    balance = (
        sa.select(LedgerAccount.balance)
        .where(
            LedgerAccount.shop_id == shop_id,
            LedgerAccount.kind == "customer.points",
            LedgerAccount.owner_id == Customer.id,
            LedgerAccount.unit == POINTS,
        )
        .scalar_subquery()
    )
    return sa.func.coalesce(balance, 0)


def _last_order(cmp: str, value: Any, now: dt.datetime) -> sa.ColumnElement[bool]:
    # Customers who never ordered match none of these.
    if cmp == "within_days":
        return Customer.last_order_at >= now - dt.timedelta(days=value)
    when = dt.datetime.fromisoformat(value)
    return Customer.last_order_at < when if cmp == "before" else Customer.last_order_at > when


_LEAVES: dict[str, Callable[[str, Any, str, dt.datetime], sa.ColumnElement[bool]]] = {
    "level": lambda cmp, value, shop_id, now: _compare(Customer.level, cmp, value),
    "tag": lambda cmp, value, shop_id, now: (
        _has_tag(shop_id, value) if cmp == "has" else sa.not_(_has_tag(shop_id, value))
    ),
    "total_spent": lambda cmp, value, shop_id, now: _compare(Customer.total_spent, cmp, value),
    "orders_count": lambda cmp, value, shop_id, now: _compare(Customer.orders_count, cmp, value),
    "last_order_at": lambda cmp, value, shop_id, now: _last_order(cmp, value, now),
    "points": lambda cmp, value, shop_id, now: _compare(_points_balance(shop_id), cmp, value),
}
assert set(_LEAVES) == set(CONDITION_FIELDS), "every condition field needs a compiler"


def compile_condition(condition: dict[str, Any], *, shop_id: str, now: dt.datetime) -> sa.ColumnElement[bool]:
    """A where clause over ``Customer`` for a validated condition (tag and points lookups stay in the shop)."""
    if is_group(condition):
        parts = [compile_condition(item, shop_id=shop_id, now=now) for item in condition["conditions"]]
        return sa.and_(*parts) if condition["op"] == "and" else sa.or_(*parts)
    return _LEAVES[condition["field"]](condition["cmp"], condition["value"], shop_id, now)


def matching_customers_stmt(condition: dict[str, Any], *, shop_id: str, now: dt.datetime) -> sa.Select[Any]:
    """``SELECT customers`` of the shop matching the condition."""
    return sa.select(Customer).where(
        Customer.shop_id == shop_id, compile_condition(condition, shop_id=shop_id, now=now)
    )


def tag_references(condition: dict[str, Any], path: str = "condition") -> Iterator[tuple[str, str]]:
    """Every ``(path of the value, tag id)`` a condition mentions, for existence checks."""
    if is_group(condition):
        for index, item in enumerate(condition["conditions"]):
            yield from tag_references(item, f"{path}.conditions.{index}")
    elif condition["field"] == "tag":
        yield f"{path}.value", condition["value"]
