"""Loyalty fields: points, stored value, cashback and member levels (docs/architecture.md §5.8).

``fields/__init__.py`` imports the section modules in a fixed order: defining a field registers it, and
that order is the order of ``GET /segment-fields``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from souk_platform.audience.compiler import (
    Context,
    RowMeasure,
    count_where,
    total,
)
from souk_platform.audience.fields.core import (
    DEFAULT_CMPS,
    WINDOW,
    _agg,
    _value_kinds,
    define,
)
from souk_platform.audience.fields.legacy import _points_balance, _stored_value_balance
from souk_platform.customers.models import Customer
from souk_platform.stored_value.models import CashbackSchedule

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
