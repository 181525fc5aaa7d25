"""The core of the filter-field registry: groups, params, ``Field``, ``define`` (docs/architecture.md §5.8).

The fields themselves are defined by the section modules of this package (see ``__init__.py``).

Each ``Field`` has a stable key (``trade.orders_count``), a group, its name and definition (口径) in
zh-CN and English, a value type, the comparisons it allows, the parameters it takes (a time window,
a category, a product …) and its ``measure``: how ``compiler.py`` turns it into SQL. The six field
names of the first condition language (``level``, ``tag``, ``total_spent``, ``orders_count``,
``last_order_at``, ``points``) are registered as they were, with the same comparisons and values.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from souk_platform.audience.compiler import (
    AggMeasure,
    Measure,
)

GROUPS = {
    "profile": ("基本信息", "Profile"),
    "trade": ("交易", "Trade"),
    "loyalty": ("积分、储值与等级", "Points, stored value and level"),
    "behaviour": ("行为", "Behaviour"),
    "marketing": ("营销", "Marketing"),
    "tags": ("标签", "Tags"),
}


@dataclass(frozen=True, slots=True)
class Param:
    key: str
    kind: str  # the value check in schemas._check_param
    name_zh: str
    name_en: str


PARAMS: dict[str, Param] = {
    p.key: p
    for p in (
        Param("window_days", "days", "最近N天", "In the last N days (rolling, N × 24 h back from now)"),
        Param("date_from", "date", "开始日期（含）", "From this UTC day (inclusive)"),
        Param("date_to", "date", "结束日期（含）", "Until this UTC day (inclusive)"),
        Param("next_days", "days", "未来N天", "In the next N days"),
        Param("category_id", "category", "类目（含子类目）", "Category, with its whole subtree"),
        Param("product_id", "product", "商品", "Product"),
        Param("product_tag", "product_tag", "商品标签", "Product tag"),
        Param("payment_method", "payment_method", "支付方式", "Payment method: cash, points or stored_value"),
        Param("channel", "channel", "渠道", "Channel"),
        Param("keyword", "keyword", "搜索词（包含）", "Search keyword (contained, any case)"),
        Param("store", "text", "门店", "Store"),
        Param("campaign", "text", "活动", "Campaign"),
        Param("coupon_id", "coupon", "优惠券", "Coupon"),
        Param("package_id", "benefit_package", "权益包", "Benefit package"),
        Param("tag_id", "tag", "客户标签", "Customer tag"),
    )
}

# comparison family -> the comparisons a field of that family allows by default
DEFAULT_CMPS = {
    "number": ("eq", "ne", "gt", "gte", "lt", "lte", "between"),
    "time": ("within_days", "not_within_days", "before", "after", "between"),
    "elapsed": ("eq", "gt", "gte", "lt", "lte", "between"),
    "choice": ("eq", "ne", "in", "not_in"),
    "bool": ("is",),
    "tag": ("has", "not_has"),
}


@dataclass(frozen=True, slots=True)
class Field:
    key: str
    group: str
    name_zh: str
    name_en: str
    definition_zh: str
    definition_en: str
    type: str  # count, amount (fen), ratio, number, level, days, rating, month, age, datetime, choice, bool, tag
    compare: str  # number, time, elapsed, choice, bool, tag
    cmps: dict[str, str]  # cmp -> value kind (see schemas._check_value)
    params: tuple[str, ...]
    measure: Measure
    choices: tuple[str, ...] = ()
    legacy: bool = False


def _value_kinds(type_: str, compare: str, cmps: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for cmp in cmps:
        if compare == "time":
            kind = {"within_days": "days", "not_within_days": "days", "between": "range:datetime"}.get(cmp, "datetime")
        elif compare == "elapsed":
            kind = "range:days0" if cmp == "between" else "days0"
        elif compare == "bool":
            kind = "bool"
        elif compare == "tag":
            kind = "tag"
        elif cmp == "between":
            kind = f"range:{type_}"
        elif cmp in ("in", "not_in"):
            kind = "choices" if type_ == "choice" else "levels"
        else:
            kind = type_
        out[cmp] = kind
    return out


REGISTRY: dict[str, Field] = {}

_COMPARE_OF_TYPE = {"datetime": "time", "elapsed": "elapsed", "choice": "choice", "bool": "bool", "tag": "tag"}


def define(
    key: str,
    group: str,
    names: tuple[str, str],
    definition: tuple[str, str],
    type_: str,
    measure: Measure,
    params: tuple[str, ...] = (),
    *,
    cmps: tuple[str, ...] | dict[str, str] | None = None,
    choices: tuple[str, ...] = (),
    legacy: bool = False,
) -> None:
    compare = _COMPARE_OF_TYPE.get(type_, "number")
    value_type = "days0" if type_ == "elapsed" else type_
    kinds = cmps if isinstance(cmps, dict) else _value_kinds(value_type, compare, cmps or DEFAULT_CMPS[compare])
    assert key not in REGISTRY, key
    assert group in GROUPS and all(p in PARAMS for p in params), key
    REGISTRY[key] = Field(
        key,
        group,
        names[0],
        names[1],
        definition[0],
        definition[1],
        value_type,
        compare,
        kinds,
        params,
        measure,
        choices,
        legacy,
    )


WINDOW = ("window_days", "date_from", "date_to")
TRADE = (*WINDOW, "category_id", "product_id", "product_tag", "payment_method", "channel")
TRADE_NO_SCOPE = (*WINDOW, "payment_method", "channel")

_ORDER_SCOPE_ZH = (
    "已支付订单（不含待支付和已取消），按支付时间落在时间范围内；指定类目/商品/商品标签时只算含该范围商品的订单"
)
_ORDER_SCOPE_EN = (
    "Sold orders (paid, fulfilled or completed) paid in the window; with a category, product or product tag only "
    "orders with a line in scope count"
)
_VALUE_ZH = "订单金额 = 商品金额减优惠（不含运费等费用，含积分和储值抵扣部分）；指定范围时只算范围内的商品行"
_VALUE_EN = (
    "an order's value is its goods after discounts (fees excluded, points and stored value included); with a "
    "scope, only its lines in scope"
)


def _agg(source: str, agg: Callable[[Any], Any], empty: Any = None, shaping: tuple[str, ...] = ()) -> AggMeasure:
    return AggMeasure(source, agg, empty, shaping)


def fields_of(group: str | None = None) -> list[Field]:
    return [f for f in REGISTRY.values() if group is None or f.group == group]
