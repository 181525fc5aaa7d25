"""The registry of filter fields: the one list tags, segments, journeys and reports read (docs/architecture.md §5.8).

Each ``Field`` has a stable key (``trade.orders_count``), a group, its name and definition (口径) in
zh-CN and English, a value type, the comparisons it allows, the parameters it takes (a time window,
a category, a product …) and its ``measure``: how ``compiler.py`` turns it into SQL. The six field
names of the first condition language (``level``, ``tag``, ``total_spent``, ``orders_count``,
``last_order_at``, ``points``) are registered as they were, with the same comparisons and values.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from souk_platform.audience import sources as src
from souk_platform.audience.compiler import (
    AggMeasure,
    Context,
    Measure,
    PredicateMeasure,
    RowMeasure,
    count_where,
    ratio,
    total,
    window,
)
from souk_platform.behaviour.models import CustomerEvent
from souk_platform.core.money import POINTS
from souk_platform.customers.models import GENDERS, SOURCE_CHANNELS, Customer, CustomerIdentity
from souk_platform.ledger.models import LedgerAccount
from souk_platform.orders.models import SOLD_STATUSES, Order, OrderLine
from souk_platform.stored_value.models import CashbackSchedule
from souk_platform.tags.models import CustomerTag

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


# --- profile ----------------------------------------------------------------------------------------------------

_PROFILE: list[tuple[str, tuple[str, str], tuple[str, str], str, Callable[[Context, dict[str, Any]], Any]]] = [
    (
        "profile.has_phone",
        ("有手机号", "Has a phone number"),
        ("资料中填写了手机号", "The profile has a phone number"),
        "bool",
        lambda ctx, p: Customer.phone.is_not(None),
    ),
    (
        "profile.has_email",
        ("有邮箱", "Has an email address"),
        ("资料中填写了邮箱", "The profile has an email address"),
        "bool",
        lambda ctx, p: Customer.email.is_not(None),
    ),
    (
        "profile.joined_at",
        ("成为客户时间", "Joined"),
        ("客户记录创建的时间", "When the customer record was created"),
        "datetime",
        lambda ctx, p: Customer.created_at,
    ),
    (
        "profile.days_since_joined",
        ("成为客户天数", "Days since joining"),
        ("从成为客户到现在的整天数", "Whole days from joining until now"),
        "elapsed",
        lambda ctx, p: Customer.created_at,
    ),
    (
        "profile.has_ordered",
        ("是否下过单", "Has ever ordered"),
        ("历史上至少有一笔已支付订单", "At least one paid order ever"),
        "bool",
        lambda ctx, p: Customer.orders_count > 0,
    ),
    (
        "profile.is_repeat_buyer",
        ("复购客户", "Repeat buyer"),
        ("历史上至少有两笔已支付订单", "At least two paid orders ever"),
        "bool",
        lambda ctx, p: Customer.orders_count >= 2,
    ),
    (
        "profile.profile_version",
        ("资料修改次数", "Profile edits"),
        ("客户资料被修改的次数（版本号减1）", "How many times the profile was changed (its version minus 1)"),
        "count",
        lambda ctx, p: Customer.version - 1,
    ),
]
for key, names, definition, type_, expr in _PROFILE:
    define(key, "profile", names, definition, type_, RowMeasure(expr))


def _email_domain(ctx: Context, params: dict[str, Any], cmp: str, value: Any) -> sa.ColumnElement[bool]:
    matches = sa.func.lower(Customer.email).endswith("@" + value.lower(), autoescape=True)
    return sa.and_(Customer.email.is_not(None), matches if cmp == "eq" else sa.not_(matches))


def _phone_prefix(ctx: Context, params: dict[str, Any], cmp: str, value: Any) -> sa.ColumnElement[bool]:
    matches = Customer.phone.startswith(value, autoescape=True)
    return sa.and_(Customer.phone.is_not(None), matches if cmp == "eq" else sa.not_(matches))


def _name_contains(ctx: Context, params: dict[str, Any], cmp: str, value: Any) -> sa.ColumnElement[bool]:
    matches = sa.func.lower(Customer.name).contains(value.lower(), autoescape=True)
    return matches if cmp == "eq" else sa.not_(matches)


define(
    "profile.email_domain",
    "profile",
    ("邮箱域名", "Email domain"),
    (
        "邮箱 @ 之后的部分（不区分大小写）；ne 为有邮箱但不是该域名",
        "The part after @ (any case); ne: has an email of another domain",
    ),
    "text",
    PredicateMeasure(_email_domain),
    cmps={"eq": "text", "ne": "text"},
)
define(
    "profile.phone_prefix",
    "profile",
    ("手机号前缀", "Phone number prefix"),
    ("手机号以该前缀开头（如 +86138）", "The phone number starts with it (e.g. +86138)"),
    "text",
    PredicateMeasure(_phone_prefix),
    cmps={"eq": "text", "ne": "text"},
)
define(
    "profile.name_contains",
    "profile",
    ("姓名包含", "Name contains"),
    ("姓名包含该文字（不区分大小写）；ne 为不包含", "The name contains the text (any case); ne: does not"),
    "text",
    PredicateMeasure(_name_contains),
    cmps={"eq": "text", "ne": "text"},
)


# Profile columns of the customer record (birthday, gender, source channel) and external identities.


def _birthday_part(part: str) -> Callable[[Context, dict[str, Any]], Any]:
    return lambda ctx, params: sa.extract(part, Customer.birthday)


def _years_ago(today: dt.date, years: int) -> dt.date:
    """The same calendar day ``years`` before ``today`` (29 February falls back to the 28th)."""
    try:
        return today.replace(year=today.year - years)
    except ValueError:
        return today.replace(year=today.year - years, day=28)


def _age(ctx: Context, params: dict[str, Any], cmp: str, value: Any) -> sa.ColumnElement[bool]:
    """Whole years of age today (UTC): ``age >= a`` is "born on or before today, a years ago"."""
    today = ctx.now.date()
    if cmp == "between":
        low, high = value
    else:
        low, high = {
            "eq": (value, value),
            "gte": (value, None),
            "gt": (value + 1, None),
            "lte": (None, value),
            "lt": (None, value - 1),
        }[cmp]
    parts: list[sa.ColumnElement[bool]] = [Customer.birthday.is_not(None)]
    if low is not None:
        parts.append(Customer.birthday <= _years_ago(today, low))
    if high is not None:
        parts.append(Customer.birthday > _years_ago(today, high + 1))
    return sa.and_(*parts)


def _birthday_soon(ctx: Context, params: dict[str, Any], cmp: str, value: Any) -> sa.ColumnElement[bool]:
    """The birthday (month and day) falls within today … today + N days (UTC); 29 February counts on the 28th
    in other years."""
    today = ctx.now.date()
    month, day = sa.extract("month", Customer.birthday), sa.extract("day", Customer.birthday)
    days: dict[int, set[int]] = {}
    for offset in range(value + 1):
        when = today + dt.timedelta(days=offset)
        days.setdefault(when.month, set()).add(when.day)
        if when.month == 2 and when.day == 28 and not calendar.isleap(when.year):
            days[2].add(29)
    return sa.and_(
        Customer.birthday.is_not(None),
        sa.or_(*(sa.and_(month == m, day.in_(sorted(ds))) for m, ds in days.items())),
    )


def _identity(ctx: Context, params: dict[str, Any], cmp: str, value: Any) -> sa.ColumnElement[bool]:
    found = sa.exists().where(
        CustomerIdentity.customer_id == Customer.id,
        CustomerIdentity.shop_id == ctx.shop_id,
        sa.or_(CustomerIdentity.provider == value, CustomerIdentity.provider.startswith(value + ":", autoescape=True)),
    )
    return found if cmp == "eq" else sa.not_(found)


def _identities_count(ctx: Context, params: dict[str, Any]) -> Any:
    return (
        sa.select(sa.func.count())
        .where(CustomerIdentity.customer_id == Customer.id, CustomerIdentity.shop_id == ctx.shop_id)
        .scalar_subquery()
    )


define(
    "profile.gender",
    "profile",
    ("性别", "Gender"),
    ("资料中的性别：female、male 或 unknown（未填）", "The profile's gender: female, male or unknown (not given)"),
    "choice",
    RowMeasure(lambda ctx, p: Customer.gender),
    choices=GENDERS,
)
define(
    "profile.source_channel",
    "profile",
    ("来源渠道", "Source channel"),
    (
        "客户最初的来源渠道；未填写的客户不满足任何条件",
        "Where the customer first came from; never matches a customer without one",
    ),
    "choice",
    RowMeasure(lambda ctx, p: Customer.source_channel),
    choices=SOURCE_CHANNELS,
)
define(
    "profile.has_birthday",
    "profile",
    ("填写了生日", "Has a birthday"),
    ("资料中填写了生日", "The profile has a birthday"),
    "bool",
    RowMeasure(lambda ctx, p: Customer.birthday.is_not(None)),
)
define(
    "profile.birth_month",
    "profile",
    ("生日月份", "Birth month"),
    ("生日所在月份 1–12；未填生日的客户不满足", "The month of the birthday, 1–12; never matches without a birthday"),
    "month",
    RowMeasure(_birthday_part("month")),
    cmps={"eq": "month", "ne": "month", "between": "range:month", "in": "months", "not_in": "months"},
)
define(
    "profile.birth_day",
    "profile",
    ("生日日期（几号）", "Birth day of month"),
    (
        "生日是当月几号 1–31；未填生日的客户不满足",
        "The day of the month of the birthday, 1–31; never matches without a birthday",
    ),
    "monthday",
    RowMeasure(_birthday_part("day")),
    cmps={"eq": "monthday", "between": "range:monthday"},
)
define(
    "profile.age",
    "profile",
    ("年龄（周岁）", "Age (whole years)"),
    (
        "按今天（UTC）计算的周岁；未填生日的客户不满足",
        "Whole years of age today (UTC); never matches without a birthday",
    ),
    "age",
    PredicateMeasure(_age),
    cmps={c: ("range:age" if c == "between" else "age") for c in ("eq", "gt", "gte", "lt", "lte", "between")},
)
define(
    "profile.birthday_within_days",
    "profile",
    ("N天内过生日", "Birthday within N days"),
    (
        "生日（月日）在今天到N天后之间（UTC，含今天；非闰年2月29日的生日按2月28日）",
        "The birthday (month and day) falls between today and N days from now (UTC, today included; "
        "29 February on the 28th in other years)",
    ),
    "days0",
    PredicateMeasure(_birthday_soon),
    cmps={"lte": "days_year"},
)
define(
    "profile.has_identity",
    "profile",
    ("绑定了外部身份", "Has an external identity"),
    (
        "绑定了该提供方的外部身份（如 wechat_openid 含各公众号的 wechat_openid:<appid>）；ne 为没有",
        "Has an identity of this provider (wechat_openid also covers wechat_openid:<appid>); ne: has none",
    ),
    "text",
    PredicateMeasure(_identity),
    cmps={"eq": "text", "ne": "text"},
)
define(
    "profile.identities_count",
    "profile",
    ("外部身份数", "External identities"),
    ("绑定的外部身份个数", "How many external identities the customer has"),
    "count",
    RowMeasure(_identities_count),
)


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


# --- loyalty ------------------------------------------------------------------------------------------------------

define(
    "loyalty.points_balance",
    "loyalty",
    ("积分余额", "Points balance"),
    ("积分账户当前余额", "The points account's balance now"),
    "count",
    RowMeasure(_points_balance),
)
define(
    "loyalty.stored_value_balance",
    "loyalty",
    ("储值余额（分）", "Stored value balance (fen)"),
    ("储值账户当前余额", "The stored value account's balance now"),
    "amount",
    RowMeasure(_stored_value_balance),
)
define(
    "loyalty.level",
    "loyalty",
    ("会员等级", "Member level"),
    ("当前会员等级 1–5", "The member level now, 1–5"),
    "level",
    RowMeasure(lambda ctx, p: Customer.level),
    cmps={**_value_kinds("level", "number", DEFAULT_CMPS["number"]), "in": "levels", "not_in": "levels"},
)
define(
    "loyalty.level_changed_at",
    "loyalty",
    ("等级变更时间", "Level changed"),
    (
        "最近一次等级变更的时间；未变过的客户不满足",
        "When the level last changed; never matches a customer whose level never changed",
    ),
    "datetime",
    RowMeasure(lambda ctx, p: Customer.level_changed_at),
)
define(
    "loyalty.days_at_level",
    "loyalty",
    ("当前等级持续天数", "Days at the current level"),
    (
        "自最近一次等级变更（从未变更则自成为客户）至今的整天数",
        "Whole days since the level last changed (or since joining, if it never did)",
    ),
    "elapsed",
    RowMeasure(lambda ctx, p: sa.func.coalesce(Customer.level_changed_at, Customer.created_at)),
)


def _pending_cashback(ctx: Context, params: dict[str, Any]) -> Any:
    pending = (
        sa.select(sa.func.sum(CashbackSchedule.amount))
        .where(
            CashbackSchedule.shop_id == ctx.shop_id,
            CashbackSchedule.customer_id == Customer.id,
            CashbackSchedule.status == "pending",
        )
        .scalar_subquery()
    )
    return sa.func.coalesce(pending, 0)


define(
    "loyalty.pending_cashback",
    "loyalty",
    ("待到账返现（分）", "Cashback pending (fen)"),
    ("已安排、尚未到账的返现之和", "Cashback scheduled and not yet credited"),
    "amount",
    RowMeasure(_pending_cashback),
)
define(
    "loyalty.points_expiring",
    "loyalty",
    ("即将过期积分", "Points expiring soon"),
    (
        "未来N天内（默认30天）将过期的剩余积分之和",
        "Points left in lots that expire within the next N days (30 by default)",
    ),
    "count",
    _agg("points_lots", lambda s: total(s.c.remaining), 0),
    ("next_days",),
)
define(
    "loyalty.points_expiring_lots",
    "loyalty",
    ("即将过期积分批次数", "Points lots expiring soon"),
    (
        "未来N天内（默认30天）将过期且有剩余的积分批次数",
        "Lots with points left that expire within the next N days (30 by default)",
    ),
    "count",
    _agg("points_lots", lambda s: sa.func.count(), 0),
    ("next_days",),
)

_LEDGER: list[tuple[str, str, tuple[str, str], tuple[str, str], str, Callable[[Any], Any], Any]] = [
    (
        "points",
        "points_earned",
        ("获得积分", "Points earned"),
        (
            "积分账户的入账之和（不含退款退回的积分）",
            "credits to the points account (points given back by refunds excluded)",
        ),
        "count",
        lambda s: total(sa.case((sa.and_(s.c.amount > 0, s.c.kind != "points.refund"), s.c.amount), else_=0)),
        0,
    ),
    (
        "points",
        "points_spent",
        ("消耗积分", "Points spent"),
        ("下单使用的积分（减去退款退回的）", "points spent on orders, minus those given back by refunds"),
        "count",
        lambda s: total(sa.case((s.c.kind.in_(("points.spend", "points.refund")), -s.c.amount), else_=0)),
        0,
    ),
    (
        "points",
        "points_expired",
        ("过期积分", "Points expired"),
        ("过期扣除的积分", "points that expired"),
        "count",
        lambda s: total(sa.case((s.c.kind == "points.expire", -s.c.amount), else_=0)),
        0,
    ),
    (
        "points",
        "points_revoked",
        ("退款扣回积分", "Points revoked"),
        ("因退款扣回的已得积分", "earned points clawed back by refunds"),
        "count",
        lambda s: total(sa.case((s.c.kind == "points.revoke", -s.c.amount), else_=0)),
        0,
    ),
    (
        "points",
        "points_adjusted",
        ("手工调整积分（净额）", "Points adjusted by hand (net)"),
        ("手工调整的积分净额（可为负）", "the net of manual adjustments (may be negative)"),
        "number",
        lambda s: total(sa.case((s.c.kind == "points.adjust", s.c.amount), else_=0)),
        0,
    ),
    (
        "points",
        "points_earn_count",
        ("获得积分次数", "Times points were earned"),
        ("积分入账笔数（不含退款退回）", "credits to the points account (refunds excluded)"),
        "count",
        lambda s: count_where(sa.and_(s.c.amount > 0, s.c.kind != "points.refund")),
        0,
    ),
    (
        "points",
        "max_points_earned",
        ("单次最多获得积分", "Most points earned at once"),
        ("单笔积分入账的最大值（不含退款退回）", "the largest single credit (refunds excluded)"),
        "count",
        lambda s: sa.func.max(sa.case((sa.and_(s.c.amount > 0, s.c.kind != "points.refund"), s.c.amount))),
        None,
    ),
    (
        "points",
        "points_movements",
        ("积分变动次数", "Points movements"),
        ("积分账户的流水笔数", "entries on the points account"),
        "count",
        lambda s: sa.func.count(),
        0,
    ),
    (
        "points",
        "last_points_earned_at",
        ("最近获得积分时间", "Last points earned"),
        ("最近一次积分入账的时间", "when points were last credited"),
        "datetime",
        lambda s: sa.func.max(sa.case((s.c.amount > 0, s.c.at))),
        None,
    ),
    (
        "points",
        "last_points_spent_at",
        ("最近使用积分时间", "Last points spent"),
        ("最近一次下单用积分的时间", "when points were last spent on an order"),
        "datetime",
        lambda s: sa.func.max(sa.case((s.c.kind == "points.spend", s.c.at))),
        None,
    ),
    (
        "stored_value",
        "stored_value_recharged",
        ("储值充值金额（分）", "Stored value topped up (fen)"),
        ("充值入账之和", "top-ups"),
        "amount",
        lambda s: total(sa.case((s.c.kind == "stored_value.top_up", s.c.amount), else_=0)),
        0,
    ),
    (
        "stored_value",
        "stored_value_recharges_count",
        ("储值充值次数", "Stored value top-ups"),
        ("充值笔数", "the number of top-ups"),
        "count",
        lambda s: count_where(s.c.kind == "stored_value.top_up"),
        0,
    ),
    (
        "stored_value",
        "stored_value_spent",
        ("储值消费金额（分）", "Stored value spent (fen)"),
        ("下单使用的储值（减去退款退回的）", "stored value spent on orders, minus refunds given back to it"),
        "amount",
        lambda s: total(sa.case((s.c.kind.in_(("stored_value.spend", "stored_value.refund")), -s.c.amount), else_=0)),
        0,
    ),
    (
        "stored_value",
        "stored_value_refunded",
        ("退回储值金额（分）", "Stored value refunded (fen)"),
        ("退款退回储值账户的金额", "refunds paid back into stored value"),
        "amount",
        lambda s: total(sa.case((s.c.kind == "stored_value.refund", s.c.amount), else_=0)),
        0,
    ),
    (
        "stored_value",
        "cashback_received",
        ("返现到账金额（分）", "Cashback received (fen)"),
        ("返现入账之和", "cashback credited"),
        "amount",
        lambda s: total(sa.case((s.c.kind == "cashback.credit", s.c.amount), else_=0)),
        0,
    ),
    (
        "stored_value",
        "last_recharge_at",
        ("最近充值时间", "Last top-up"),
        ("最近一次充值的时间", "when stored value was last topped up"),
        "datetime",
        lambda s: sa.func.max(sa.case((s.c.kind == "stored_value.top_up", s.c.at))),
        None,
    ),
    (
        "stored_value",
        "days_since_last_recharge",
        ("最近充值距今天数", "Days since the last top-up"),
        ("最近一次充值至今的整天数", "whole days since the last top-up"),
        "elapsed",
        lambda s: sa.func.max(sa.case((s.c.kind == "stored_value.top_up", s.c.at))),
        None,
    ),
]
for source, name, names, definition, type_, agg, empty in _LEDGER:
    account = "积分" if source == "points" else "储值"
    define(
        f"loyalty.{name}",
        "loyalty",
        names,
        (
            f"{account}账户在时间范围内的流水：{definition[0]}。",
            f"Entries on the {source.replace('_', ' ')} account in the window: {definition[1]}.",
        ),
        type_,
        _agg(source, agg, empty),
        WINDOW,
    )

_LEVELS: list[tuple[str, tuple[str, str], tuple[str, str], str, Callable[[Any], Any], Any]] = [
    (
        "level_changes_count",
        ("等级变更次数", "Level changes"),
        ("等级变更次数", "level changes"),
        "count",
        lambda s: sa.func.count(),
        0,
    ),
    (
        "upgrades_count",
        ("升级次数", "Upgrades"),
        ("升级次数", "upgrades"),
        "count",
        lambda s: count_where(s.c.to_level > s.c.from_level),
        0,
    ),
    (
        "downgrades_count",
        ("降级次数", "Downgrades"),
        ("降级次数", "downgrades"),
        "count",
        lambda s: count_where(s.c.to_level < s.c.from_level),
        0,
    ),
    (
        "manual_level_changes_count",
        ("手工调级次数", "Manual level changes"),
        ("手工调整等级次数", "changes made by hand"),
        "count",
        lambda s: count_where(s.c.source == "manual"),
        0,
    ),
    (
        "highest_level_reached",
        ("达到过的最高等级", "Highest level reached"),
        ("变更到过的最高等级", "the highest level changed to"),
        "level",
        lambda s: sa.func.max(s.c.to_level),
        None,
    ),
    (
        "last_upgrade_at",
        ("最近升级时间", "Last upgrade"),
        ("最近一次升级的时间", "when the level last went up"),
        "datetime",
        lambda s: sa.func.max(sa.case((s.c.to_level > s.c.from_level, s.c.at))),
        None,
    ),
]
for name, names, definition, type_, agg, empty in _LEVELS:
    define(
        f"loyalty.{name}",
        "loyalty",
        names,
        (f"时间范围内的会员等级变更记录：{definition[0]}。", f"Member level changes in the window: {definition[1]}."),
        type_,
        _agg("level_changes", agg, empty),
        WINDOW,
    )


# --- behaviour ----------------------------------------------------------------------------------------------------

EVENT_NAMES = {
    "product_viewed": ("浏览商品", "product views"),
    "cart_added": ("加入购物车", "add-to-carts"),
    "searched": ("搜索", "searches"),
    "page_viewed": ("浏览页面", "page views"),
    "store_visited": ("到店", "store visits"),
    "service_contacted": ("咨询客服", "customer-service contacts"),
    "review_posted": ("发表评价", "reviews"),
    "coupon_viewed": ("查看优惠券", "coupon views"),
    "share_clicked": ("分享", "shares"),
}
SCENE = ("channel", "store", "campaign")
EVENT_PARAMS = {
    "product_viewed": (*WINDOW, "product_id", "category_id", *SCENE),
    "cart_added": (*WINDOW, "product_id", "category_id", *SCENE),
    "review_posted": (*WINDOW, "product_id", "category_id", *SCENE),
    "searched": (*WINDOW, "keyword", *SCENE),
}
_EVENT_MEASURES: list[tuple[str, tuple[str, str], str, Callable[[Any], Any], Any]] = [
    ("count", ("{zh}次数", "Number of {en}"), "count", lambda s: sa.func.count(), 0),
    ("days", ("{zh}天数", "Days with {en}"), "count", lambda s: sa.func.count(sa.distinct(s.c.day)), 0),
    ("first_at", ("首次{zh}时间", "First of the {en}"), "datetime", lambda s: sa.func.min(s.c.at), None),
    ("last_at", ("最近{zh}时间", "Last of the {en}"), "datetime", lambda s: sa.func.max(s.c.at), None),
    (
        "days_since_last",
        ("最近{zh}距今天数", "Days since the last of the {en}"),
        "elapsed",
        lambda s: sa.func.max(s.c.at),
        None,
    ),
    (
        "channels_count",
        ("{zh}渠道数", "Channels of the {en}"),
        "count",
        lambda s: sa.func.count(sa.distinct(s.c.channel)),
        0,
    ),
]
for event_type, (ev_zh, ev_en) in EVENT_NAMES.items():
    params = EVENT_PARAMS.get(event_type, (*WINDOW, *SCENE))
    for suffix, (name_zh, name_en), type_, agg, empty in _EVENT_MEASURES:
        define(
            f"behaviour.{event_type}_{suffix}",
            "behaviour",
            (name_zh.format(zh=ev_zh), name_en.format(en=ev_en)),
            (
                f"时间范围内（按发生时间）类型为 {event_type} 的行为事件，"
                f"可按商品/类目（商品当前类目，含子类目）/搜索词/渠道/门店/活动筛选；取{name_zh.format(zh=ev_zh)}。",
                f"Behaviour events of type {event_type} that happened in the window, filtered by product, category "
                f"(the product's category now, with its subtree), keyword, channel, store or campaign; measures: "
                f"{name_en.format(en=ev_en).lower()}.",
            ),
            type_,
            _agg(f"events:{event_type}", agg, empty),
            params,
        )

_BEHAVIOUR_EXTRA: list[
    tuple[str, tuple[str, str], tuple[str, str], str, str, Callable[[Any], Any], Any, tuple[str, ...]]
] = [
    (
        "distinct_products_viewed",
        ("浏览商品种数", "Distinct products viewed"),
        ("浏览过的不同商品数", "distinct products viewed"),
        "count",
        "events:product_viewed",
        lambda s: sa.func.count(sa.distinct(s.c.product_id)),
        0,
        EVENT_PARAMS["product_viewed"],
    ),
    (
        "distinct_products_carted",
        ("加购商品种数", "Distinct products added to cart"),
        ("加入购物车的不同商品数", "distinct products added to cart"),
        "count",
        "events:cart_added",
        lambda s: sa.func.count(sa.distinct(s.c.product_id)),
        0,
        EVENT_PARAMS["cart_added"],
    ),
    (
        "cart_added_quantity",
        ("加购件数", "Units added to cart"),
        ("加购事件的数量之和（未填按1）", "the quantities added (1 when not given)"),
        "count",
        "events:cart_added",
        lambda s: total(sa.func.coalesce(s.c.quantity, 1)),
        0,
        EVENT_PARAMS["cart_added"],
    ),
    (
        "distinct_keywords",
        ("搜索词个数", "Distinct search keywords"),
        ("搜索过的不同搜索词数（不区分大小写）", "distinct queries (any case)"),
        "count",
        "events:searched",
        lambda s: sa.func.count(sa.distinct(sa.func.lower(s.c.query))),
        0,
        EVENT_PARAMS["searched"],
    ),
    (
        "avg_review_rating",
        ("平均评分", "Average review rating"),
        ("评价的平均星级 1–5", "the reviews' average rating, 1–5"),
        "rating",
        "events:review_posted",
        lambda s: sa.func.avg(s.c.rating),
        None,
        EVENT_PARAMS["review_posted"],
    ),
    (
        "low_reviews_count",
        ("差评次数", "Low reviews"),
        ("1–2 星评价次数", "reviews rated 1 or 2"),
        "count",
        "events:review_posted",
        lambda s: count_where(s.c.rating <= 2),
        0,
        EVENT_PARAMS["review_posted"],
    ),
    (
        "distinct_products_reviewed",
        ("评价商品种数", "Distinct products reviewed"),
        ("评价过的不同商品数", "distinct products reviewed"),
        "count",
        "events:review_posted",
        lambda s: sa.func.count(sa.distinct(s.c.product_id)),
        0,
        EVENT_PARAMS["review_posted"],
    ),
    (
        "distinct_pages_viewed",
        ("浏览页面数", "Distinct pages viewed"),
        ("浏览过的不同页面地址数", "distinct page URLs viewed"),
        "count",
        "events:page_viewed",
        lambda s: sa.func.count(sa.distinct(s.c.url)),
        0,
        (*WINDOW, *SCENE),
    ),
    (
        "distinct_campaigns",
        ("参与活动数", "Distinct campaigns"),
        ("事件所属的不同活动数", "distinct campaigns of the events"),
        "count",
        "events",
        lambda s: sa.func.count(sa.distinct(s.c.campaign)),
        0,
        (*WINDOW, *SCENE),
    ),
    (
        "distinct_stores_visited",
        ("到访门店数", "Distinct stores visited"),
        ("到访过的不同门店数", "distinct stores visited"),
        "count",
        "events:store_visited",
        lambda s: sa.func.count(sa.distinct(s.c.store)),
        0,
        (*WINDOW, *SCENE),
    ),
    (
        "events_count",
        ("行为总次数", "All behaviour events"),
        ("所有类型的事件数", "events of every type"),
        "count",
        "events",
        lambda s: sa.func.count(),
        0,
        (*WINDOW, *SCENE),
    ),
    (
        "active_days",
        ("活跃天数", "Active days"),
        ("有任何行为的不同日期数（UTC）", "distinct UTC days with any event"),
        "count",
        "events",
        lambda s: sa.func.count(sa.distinct(s.c.day)),
        0,
        (*WINDOW, *SCENE),
    ),
    (
        "event_types_count",
        ("行为类型数", "Kinds of behaviour"),
        ("发生过的不同事件类型数", "distinct event types"),
        "count",
        "events",
        lambda s: sa.func.count(sa.distinct(s.c.type)),
        0,
        (*WINDOW, *SCENE),
    ),
    (
        "last_active_at",
        ("最近活跃时间", "Last active"),
        ("最近一次任何行为的时间", "when the last event of any type happened"),
        "datetime",
        "events",
        lambda s: sa.func.max(s.c.at),
        None,
        (*WINDOW, *SCENE),
    ),
    (
        "days_since_last_active",
        ("最近活跃距今天数", "Days since last active"),
        ("最近一次任何行为至今的整天数", "whole days since the last event"),
        "elapsed",
        "events",
        lambda s: sa.func.max(s.c.at),
        None,
        (*WINDOW, *SCENE),
    ),
]
for name, names, definition, type_, source, agg, empty, params in _BEHAVIOUR_EXTRA:
    define(
        f"behaviour.{name}",
        "behaviour",
        names,
        (
            f"时间范围内（按发生时间）的行为事件：{definition[0]}。",
            f"Behaviour events that happened in the window: {definition[1]}.",
        ),
        type_,
        _agg(source, agg, empty),
        params,
    )


def _not_bought_since(event_type: str) -> Callable[..., sa.ColumnElement[bool]]:
    """Some event of the type in the window after which the customer bought nothing of it (see the definition)."""

    def build(ctx: Context, params: dict[str, Any], cmp: str, value: Any) -> sa.ColumnElement[bool]:
        event = sa.orm.aliased(CustomerEvent)
        bought = (
            sa.select(sa.literal(1))
            .select_from(Order)
            .join(OrderLine, OrderLine.order_id == Order.id)
            .where(
                Order.shop_id == ctx.shop_id,
                Order.customer_id == Customer.id,
                Order.status.in_(SOLD_STATUSES),
                Order.paid_at >= event.occurred_at,
            )
        )
        if event_type == "searched":
            query = sa.func.lower(event.properties["query"].as_string())
            bought = bought.where(sa.func.lower(OrderLine.title).contains(query))
        else:
            bought = bought.where(OrderLine.product_id == event.properties["product_id"].as_string())
        scoped = (
            sa.select(sa.literal(1))
            .select_from(event)
            .where(
                event.shop_id == ctx.shop_id,
                event.customer_id == Customer.id,
                event.type == event_type,
                *window(event.occurred_at, ctx, params),
                ~bought.exists(),
            )
        )
        adapted = src.event_filters(ctx, params)
        if adapted:
            adapter = sa.sql.util.ClauseAdapter(sa.inspect(event).selectable)
            adapted_sql = [adapter.traverse(part) for part in adapted]
            scoped = scoped.where(*adapted_sql)
        found = scoped.exists()
        return found if value else sa.not_(found)

    return build


for event_type, (zh, en), def_zh, def_en in (
    (
        "product_viewed",
        ("浏览未购买", "Viewed and not bought since"),
        "浏览过某商品，且此后没有购买该商品",
        "viewed a product and has not bought that product since",
    ),
    (
        "cart_added",
        ("加购未购买", "Added to cart and not bought since"),
        "加购过某商品，且此后没有购买该商品",
        "added a product to the cart and has not bought that product since",
    ),
    (
        "searched",
        ("搜索未购买", "Searched and not bought since"),
        "搜索过某词，且此后没有买过标题包含该词的商品",
        "searched a keyword and has not bought since a product whose title contains it",
    ),
):
    define(
        f"behaviour.{event_type}_not_bought",
        "behaviour",
        (zh, en),
        (
            f"时间范围内{def_zh}（已支付订单，支付时间不早于该行为）；值为 true/false。",
            f"In the window, {def_en} (a sold order paid at or after the event); value true or false.",
        ),
        "bool",
        PredicateMeasure(_not_bought_since(event_type)),
        EVENT_PARAMS[event_type],
    )


# --- marketing (coupon redemptions; the coupon wallet and benefits add fields when they exist) -----------------

_COUPONS: list[tuple[str, tuple[str, str], tuple[str, str], str, Callable[[Any], Any], Any]] = [
    (
        "coupons_used_count",
        ("用券次数", "Coupons used"),
        ("核销次数", "the number of coupon uses"),
        "count",
        lambda s: sa.func.count(),
        0,
    ),
    (
        "coupon_discount_amount",
        ("用券优惠金额（分）", "Coupon savings (fen)"),
        ("用券减免金额之和", "the amounts coupons took off"),
        "amount",
        lambda s: total(s.c.amount),
        0,
    ),
    (
        "max_coupon_discount",
        ("单次用券最大优惠（分）", "Largest coupon saving (fen)"),
        ("单次用券减免的最大值", "the largest single coupon saving"),
        "amount",
        lambda s: sa.func.max(s.c.amount),
        None,
    ),
    (
        "avg_coupon_discount",
        ("平均每次用券优惠（分）", "Average coupon saving (fen)"),
        ("用券减免的平均值", "the average coupon saving"),
        "amount",
        lambda s: sa.func.avg(s.c.amount),
        None,
    ),
    (
        "distinct_coupons_used",
        ("用过的券种数", "Distinct coupons used"),
        ("用过的不同优惠券数", "distinct coupons used"),
        "count",
        lambda s: sa.func.count(sa.distinct(s.c.coupon_id)),
        0,
    ),
    (
        "coupon_orders_count",
        ("用券订单数", "Orders with a coupon"),
        ("用了券的不同订单数", "distinct orders with a coupon"),
        "count",
        lambda s: sa.func.count(sa.distinct(s.c.order_id)),
        0,
    ),
    (
        "last_coupon_used_at",
        ("最近用券时间", "Last coupon used"),
        ("最近一次用券的时间", "when a coupon was last used"),
        "datetime",
        lambda s: sa.func.max(s.c.at),
        None,
    ),
    (
        "days_since_last_coupon",
        ("最近用券距今天数", "Days since the last coupon"),
        ("最近一次用券至今的整天数", "whole days since a coupon was last used"),
        "elapsed",
        lambda s: sa.func.max(s.c.at),
        None,
    ),
]
for name, names, definition, type_, agg, empty in _COUPONS:
    define(
        f"marketing.{name}",
        "marketing",
        names,
        (
            f"时间范围内已支付订单上核销的优惠券（可指定某券）：{definition[0]}。",
            f"Coupons redeemed on paid orders in the window (optionally one coupon): {definition[1]}.",
        ),
        type_,
        _agg("coupons", agg, empty),
        (*WINDOW, "coupon_id"),
    )


# --- tags ---------------------------------------------------------------------------------------------------------


def _tags_any(ctx: Context, params: dict[str, Any], cmp: str, value: Any) -> sa.ColumnElement[bool]:
    found = sa.exists().where(
        CustomerTag.customer_id == Customer.id, CustomerTag.shop_id == ctx.shop_id, CustomerTag.tag_id.in_(value)
    )
    return found if cmp == "in" else sa.not_(found)


def _tags_all(ctx: Context, params: dict[str, Any], cmp: str, value: Any) -> sa.ColumnElement[bool]:
    return sa.and_(*(_has_tag(ctx, tag_id) for tag_id in value))


define(
    "tags.has",
    "tags",
    ("有/没有标签", "Has / has not a tag"),
    ("客户当前是否带有该标签", "Whether the customer carries the tag now"),
    "tag",
    PredicateMeasure(_tag_test),
)
define(
    "tags.has_any",
    "tags",
    ("有任一标签", "Has any of the tags"),
    ("in：至少带有其中一个标签；not_in：一个都没有", "in: carries at least one of the tags; not_in: none of them"),
    "tag",
    PredicateMeasure(_tags_any),
    cmps={"in": "tags", "not_in": "tags"},
)
define(
    "tags.has_all",
    "tags",
    ("有全部标签", "Has all the tags"),
    ("带有列出的每一个标签", "Carries every tag listed"),
    "tag",
    PredicateMeasure(_tags_all),
    cmps={"has": "tags"},
)

_TAG_COUNTS: list[tuple[str, tuple[str, str], str, Callable[[Any], Any], Any]] = [
    ("count", ("标签数", "Tags"), "all", lambda s: sa.func.count(), 0),
    ("rule_count", ("规则标签数", "Rule tags"), "rule", lambda s: count_where(s.c.kind == "rule"), 0),
    ("manual_count", ("手工标签数", "Manual tags"), "manual", lambda s: count_where(s.c.kind == "manual"), 0),
    ("imported_count", ("导入标签数", "Imported tags"), "imported", lambda s: count_where(s.c.kind == "imported"), 0),
    ("last_tagged_at", ("最近打标签时间", "Last tagged"), "latest", lambda s: sa.func.max(s.c.at), None),
]
for name, names, kind, agg, empty in _TAG_COUNTS:
    define(
        f"tags.{name}",
        "tags",
        names,
        (
            f"时间范围内（按打标时间）获得、至今仍带有的标签（{kind}）",
            f"Tags given in the window (by tagging time) and still carried ({kind})",
        ),
        "datetime" if name == "last_tagged_at" else "count",
        _agg("customer_tags", agg, empty),
        WINDOW,
    )


def fields_of(group: str | None = None) -> list[Field]:
    return [f for f in REGISTRY.values() if group is None or f.group == group]
