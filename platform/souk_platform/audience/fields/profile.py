"""Profile fields: the customer record, birthday, gender, source channel, identities (docs/architecture.md §5.8).

``fields/__init__.py`` imports the section modules in a fixed order: defining a field registers it, and
that order is the order of ``GET /segment-fields``.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Callable
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
from souk_platform.customers.models import GENDERS, SOURCE_CHANNELS, Customer, CustomerIdentity

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
