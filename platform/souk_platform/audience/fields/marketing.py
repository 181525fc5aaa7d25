"""Marketing fields: coupon redemptions, the coupon wallet and benefit grants (docs/architecture.md §5.8).

``fields/__init__.py`` imports the section modules in a fixed order: defining a field registers it, and
that order is the order of ``GET /segment-fields``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from souk_platform.audience.compiler import (
    Context,
    PredicateMeasure,
    count_where,
    total,
    window,
)
from souk_platform.audience.fields.core import (
    WINDOW,
    _agg,
    define,
)
from souk_platform.benefits.models import BenefitGrant
from souk_platform.customers.models import Customer

# --- marketing: coupon redemptions ------------------------------------------------------------------------------

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


# --- marketing: the coupon wallet (customer_coupons, §5.9) -----------------------------------------------------

_WALLET: list[tuple[str, tuple[str, str], tuple[str, str], str, Callable[[Any], Any], Any]] = [
    (
        "wallet_received_count",
        ("领券张数", "Coupons received"),
        ("收到的张数（含之后用掉、过期或收回的）", "how many were received (used, expired or revoked since included)"),
        "count",
        lambda s: sa.func.count(),
        0,
    ),
    (
        "wallet_used_count",
        ("领取后已使用张数", "Received coupons used"),
        ("其中现已使用的张数", "how many of them are used now"),
        "count",
        lambda s: count_where(s.c.status == "used"),
        0,
    ),
    (
        "wallet_expired_count",
        ("领取后已过期张数", "Received coupons expired"),
        (
            "其中已过期未用的张数（过了有效期即算，不等过期任务）",
            "how many of them expired unused (past their expiry counts, before the expiry job runs)",
        ),
        "count",
        lambda s: total(s.c.expired),
        0,
    ),
    (
        "wallet_unused_count",
        ("当前持有未用券张数", "Unused coupons held now"),
        (
            "其中现在仍持有、未使用且未过期的张数（结算占用中的不算）",
            "how many of them the customer holds unused and unexpired now (one held by a checkout does not count)",
        ),
        "count",
        lambda s: total(s.c.live),
        0,
    ),
    (
        "last_coupon_received_at",
        ("最近领券时间", "Last coupon received"),
        ("最近一次收到券的时间", "when a coupon was last received"),
        "datetime",
        lambda s: sa.func.max(s.c.at),
        None,
    ),
    (
        "days_since_coupon_received",
        ("最近领券距今天数", "Days since a coupon was received"),
        ("最近一次收到券至今的整天数", "whole days since a coupon was last received"),
        "elapsed",
        lambda s: sa.func.max(s.c.at),
        None,
    ),
]
for name, names, definition, type_, agg, empty in _WALLET:
    define(
        f"marketing.{name}",
        "marketing",
        names,
        (
            f"时间范围内发到券包的优惠券（按发放时间，可指定某券；来源不限：发券、权益、券包购买、接口）：{definition[0]}。",
            f"Coupons put in the customer's wallet in the window (by issue time, optionally one coupon; any source: an "
            f"issue, a benefit, a coupon pack, the API): {definition[1]}.",
        ),
        type_,
        _agg("wallet", agg, empty),
        (*WINDOW, "coupon_id"),
    )


# --- marketing: benefit grants (benefit_grants, §5.10) ---------------------------------------------------------

_BENEFITS: list[tuple[str, tuple[str, str], tuple[str, str], str, Callable[[Any], Any], Any]] = [
    (
        "benefit_grants_count",
        ("获得权益次数", "Benefit grants received"),
        ("获得的次数（含之后已用或过期的）", "how many grants (used or expired since included)"),
        "count",
        lambda s: sa.func.count(),
        0,
    ),
    (
        "distinct_benefit_packages",
        ("获得过的权益包数", "Distinct benefit packages received"),
        ("获得过的不同权益包数", "how many distinct packages"),
        "count",
        lambda s: sa.func.count(sa.distinct(s.c.package_id)),
        0,
    ),
    (
        "last_benefit_granted_at",
        ("最近获得权益时间", "Last benefit granted"),
        ("最近一次获得权益的时间", "when a benefit was last granted"),
        "datetime",
        lambda s: sa.func.max(s.c.at),
        None,
    ),
]
for name, names, definition, type_, agg, empty in _BENEFITS:
    define(
        f"marketing.{name}",
        "marketing",
        names,
        (
            f"时间范围内发放给客户的权益（按发放时间，可指定某权益包）：{definition[0]}。",
            f"Benefit grants given to the customer in the window (by grant time, optionally of one package): "
            f"{definition[1]}.",
        ),
        type_,
        _agg("benefit_grants", agg, empty),
        (*WINDOW, "package_id"),
    )


def _has_active_benefit(ctx: Context, params: dict[str, Any], cmp: str, value: Any) -> sa.ColumnElement[bool]:
    parts = [
        BenefitGrant.shop_id == ctx.shop_id,
        BenefitGrant.customer_id == Customer.id,
        BenefitGrant.status == "active",
        sa.or_(BenefitGrant.expires_at.is_(None), BenefitGrant.expires_at > ctx.now),
        *window(BenefitGrant.granted_at, ctx, params),
    ]
    if params.get("package_id"):
        parts.append(BenefitGrant.package_id == params["package_id"])
    found = sa.exists().where(*parts)
    return found if value else sa.not_(found)


define(
    "marketing.has_active_benefit",
    "marketing",
    ("持有有效权益", "Holds an active benefit"),
    (
        "现在有一条未使用且未过期的权益（可指定某权益包、发放时间范围）；false 为没有",
        "The customer has a grant that is neither used nor expired now (optionally of one package, granted in the "
        "window); false: has none",
    ),
    "bool",
    PredicateMeasure(_has_active_benefit),
    (*WINDOW, "package_id"),
)
