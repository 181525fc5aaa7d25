"""Marketing fields: coupon redemptions (docs/architecture.md §5.8).

``fields/__init__.py`` imports the section modules in a fixed order: defining a field registers it, and
that order is the order of ``GET /segment-fields``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from souk_platform.audience.compiler import (
    total,
)
from souk_platform.audience.fields.core import (
    WINDOW,
    _agg,
    define,
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
