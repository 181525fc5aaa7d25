"""Member levels V1–V5: the shop's rules, the built-in level rule, evaluation and manual changes.

``default_level`` is the pure built-in rule of the ``member.level`` extension point: stats in,
level out. ``evaluate_customer_level`` gathers a customer's stats, applies the rule, enforces the
downgrade period and records the change (history row + ``customer.level_changed`` event).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import sqlalchemy as sa

from souk_platform.core.money import POINTS
from souk_platform.core.versions import check_version
from souk_platform.customers.models import Customer, CustomerPurchase
from souk_platform.customers.services import customer_payload, get_customer
from souk_platform.db import DbSession
from souk_platform.events.services import emit
from souk_platform.extensions import run_point
from souk_platform.ledger.services import balance_of
from souk_platform.members.errors import InvalidLevelRules
from souk_platform.members.models import MemberLevelChange, MemberLevelConfig
from souk_platform.plugins.services import shops_with_plugins_at
from souk_platform.shops.models import Shop

LEVELS = (1, 2, 3, 4, 5)
METRICS = ("spend", "orders", "points")
DEFAULT_WINDOW_DAYS = 365
DEFAULT_DOWNGRADE_PERIOD_DAYS = 30


def default_levels() -> list[dict[str, Any]]:
    """V1–V5 with no rules: until a shop sets rules, levels change only by hand."""
    return [{"level": n, "name": f"V{n}", "upgrade": None, "keep": None} for n in LEVELS]


# --- the pure rule ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MemberStats:
    """What the level rule sees of a member (the ``member.level`` extension point's input)."""

    spend_in_window: int  # fen, net of refunds, over the shop's window
    orders_in_window: int
    points_balance: int
    current_level: int


@dataclass(frozen=True, slots=True)
class Threshold:
    """Met when any (or all) of the set thresholds are reached; unset ones are ignored."""

    match: str = "any"
    spend: int | None = None
    orders: int | None = None
    points: int | None = None

    def met_by(self, stats: MemberStats) -> bool:
        checks = [
            actual >= wanted
            for actual, wanted in (
                (stats.spend_in_window, self.spend),
                (stats.orders_in_window, self.orders),
                (stats.points_balance, self.points),
            )
            if wanted is not None
        ]
        if not checks:
            return False
        return all(checks) if self.match == "all" else any(checks)


@dataclass(frozen=True, slots=True)
class LevelRules:
    """Per level 2–5: the rule to reach it and the rule to keep it (``None``: none)."""

    upgrade: Mapping[int, Threshold | None]
    keep: Mapping[int, Threshold | None]


def default_level(stats: MemberStats, rules: LevelRules) -> int:
    """The level a member deserves: the highest level whose upgrade rule is met, never below the
    current level while its keep rule holds; when it does not, the highest lower level whose keep
    rule holds (a level without a keep rule always holds)."""
    earned = max([1] + [level for level, rule in rules.upgrade.items() if rule is not None and rule.met_by(stats)])
    current = stats.current_level
    if earned >= current:
        return earned
    keep = rules.keep.get(current)
    if current == 1 or keep is None or keep.met_by(stats):
        return current
    held = [level for level in range(2, current) if (rule := rules.keep.get(level)) is None or rule.met_by(stats)]
    return max([earned, *held])


def rules_from_levels(levels: Sequence[Mapping[str, Any]]) -> LevelRules:
    """Turn a stored configuration's ``levels`` into ``LevelRules``."""

    def threshold(raw: Mapping[str, Any] | None) -> Threshold | None:
        if raw is None:
            return None
        return Threshold(
            match=raw.get("match", "any"), spend=raw.get("spend"), orders=raw.get("orders"), points=raw.get("points")
        )

    by_level = {int(entry["level"]): entry for entry in levels}
    return LevelRules(
        upgrade={n: threshold(by_level.get(n, {}).get("upgrade")) for n in LEVELS[1:]},
        keep={n: threshold(by_level.get(n, {}).get("keep")) for n in LEVELS[1:]},
    )


# --- configuration ----------------------------------------------------------------------------------------------


def _config_row(session: DbSession, shop_id: str) -> MemberLevelConfig | None:
    return session.scalar(sa.select(MemberLevelConfig).where(MemberLevelConfig.shop_id == shop_id))


def get_level_config(session: DbSession, *, shop_id: str) -> dict[str, Any]:
    """The shop's level configuration, or the defaults (version 0, ``configured`` false)."""
    row = _config_row(session, shop_id)
    if row is None:
        return {
            "window_days": DEFAULT_WINDOW_DAYS,
            "downgrade_period_days": DEFAULT_DOWNGRADE_PERIOD_DAYS,
            "levels": default_levels(),
            "configured": False,
            "version": 0,
            "updated_at": None,
        }
    return {
        "window_days": row.window_days,
        "downgrade_period_days": row.downgrade_period_days,
        "levels": row.levels,
        "configured": True,
        "version": row.version,
        "updated_at": row.updated_at,
    }


def _check_rules(levels: list[dict[str, Any]]) -> None:
    """Thresholds must not fall as levels rise, and keeping a level must not be harder than reaching it."""
    errors: dict[str, list[str]] = {}
    seen = [entry["level"] for entry in levels]
    if sorted(seen) != list(LEVELS):
        errors["levels"] = ["Give each level 1 to 5 exactly once."]
        raise InvalidLevelRules("The configuration must list levels 1 to 5 once each.", errors=errors)
    index_of = {entry["level"]: i for i, entry in enumerate(levels)}
    by_level = {entry["level"]: entry for entry in levels}
    for part in ("upgrade", "keep"):
        if by_level[1].get(part):
            errors[f"levels.{index_of[1]}.{part}"] = ["Level 1 is where every member starts; it has no rules."]
    for part in ("upgrade", "keep"):
        for metric in METRICS:
            floor: tuple[int, int] | None = None  # (level, value) of the highest lower level setting it
            for level in LEVELS[1:]:
                value = (by_level[level].get(part) or {}).get(metric)
                if value is None:
                    continue
                if floor is not None and value < floor[1]:
                    errors[f"levels.{index_of[level]}.{part}.{metric}"] = [
                        f"Must be at least {floor[1]}, the V{floor[0]} {part} threshold: higher levels are harder."
                    ]
                floor = (level, value)
    for level in LEVELS[1:]:
        upgrade, keep = by_level[level].get("upgrade") or {}, by_level[level].get("keep") or {}
        for metric in METRICS:
            if keep.get(metric) is not None and upgrade.get(metric) is not None and keep[metric] > upgrade[metric]:
                errors[f"levels.{index_of[level]}.keep.{metric}"] = [
                    f"Must not exceed the upgrade threshold ({upgrade[metric]}): keeping a level is not harder "
                    "than reaching it."
                ]
    if errors:
        raise InvalidLevelRules("The level rules are not consistent: " + ", ".join(sorted(errors)) + ".", errors=errors)


def save_level_config(
    session: DbSession,
    *,
    shop_id: str,
    window_days: int,
    downgrade_period_days: int,
    levels: list[dict[str, Any]],
    expected_version: int | None,
) -> dict[str, Any]:
    """Replace the shop's level names and rules (validated); 412 when ``expected_version`` is stale."""
    _check_rules(levels)
    row = _config_row(session, shop_id)
    check_version(row.version if row else 0, expected_version)
    ordered = sorted(levels, key=lambda entry: entry["level"])
    if row is None:
        row = MemberLevelConfig(shop_id=shop_id)
        session.add(row)
    row.window_days, row.downgrade_period_days, row.levels = window_days, downgrade_period_days, ordered
    session.flush()
    emit(
        session,
        shop_id=shop_id,
        type="member_levels.updated",
        subject_type="member_level_config",
        subject_id=row.id,
        payload={
            "id": row.id,
            "window_days": row.window_days,
            "downgrade_period_days": row.downgrade_period_days,
            "levels": row.levels,
            "version": row.version,
        },
    )
    return get_level_config(session, shop_id=shop_id)


# --- evaluation -------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LevelChange:
    """A level change that was recorded."""

    customer_id: str
    from_level: int
    to_level: int
    source: str  # "rule" or "manual"
    reason: str
    at: dt.datetime
    stats: MemberStats | None = None


def member_stats(
    session: DbSession, *, shop_id: str, customers: Sequence[Customer], window_days: int, now: dt.datetime
) -> dict[str, MemberStats]:
    """Each customer's stats over the last ``window_days`` (one query for purchases, the ledger for points)."""
    since = now - dt.timedelta(days=window_days)
    totals: dict[str, tuple[int, int]] = {}
    if customers:
        rows = session.execute(
            sa.select(
                CustomerPurchase.customer_id,
                sa.func.coalesce(sa.func.sum(CustomerPurchase.amount), 0),
                sa.func.count().filter(CustomerPurchase.counts_as_order.is_(True)),
            )
            .where(
                CustomerPurchase.shop_id == shop_id,
                CustomerPurchase.customer_id.in_([c.id for c in customers]),
                CustomerPurchase.at > since,
                CustomerPurchase.at <= now,
            )
            .group_by(CustomerPurchase.customer_id)
        )
        totals = {customer_id: (int(spend), int(orders)) for customer_id, spend, orders in rows}
    return {
        c.id: MemberStats(
            spend_in_window=totals.get(c.id, (0, 0))[0],
            orders_in_window=totals.get(c.id, (0, 0))[1],
            points_balance=balance_of(session, shop_id=shop_id, kind="customer.points", owner_id=c.id, unit=POINTS),
            current_level=c.level,
        )
        for c in customers
    }


def _record_change(
    session: DbSession,
    customer: Customer,
    *,
    to_level: int,
    source: str,
    reason: str,
    now: dt.datetime,
    stats: MemberStats | None,
) -> LevelChange:
    from_level = customer.level
    customer.level = to_level
    customer.level_changed_at = now
    session.add(
        MemberLevelChange(
            shop_id=customer.shop_id,
            customer_id=customer.id,
            from_level=from_level,
            to_level=to_level,
            source=source,
            reason=reason,
            stats=asdict(stats) if stats else None,
            created_at=now,
        )
    )
    session.flush()
    emit(
        session,
        shop_id=customer.shop_id,
        type="customer.level_changed",
        subject_type="customer",
        subject_id=customer.id,
        payload={
            **customer_payload(customer),
            "from_level": from_level,
            "to_level": to_level,
            "source": source,
            "reason": reason,
        },
    )
    return LevelChange(customer.id, from_level, to_level, source, reason, now, stats)


def _downgrade_due(customer: Customer, *, period_days: int, now: dt.datetime) -> bool:
    changed = customer.level_changed_at
    return changed is None or now - changed >= dt.timedelta(days=period_days)


def evaluate_customer_level(
    session: DbSession, *, shop_id: str, customer_id: str, now: dt.datetime
) -> LevelChange | None:
    """Apply the shop's level rules to one customer now; record and return the change, if any.

    Upgrades apply at once. A downgrade applies only when the level has not changed within the
    shop's downgrade period, so a member is re-judged at most once per period. Safe to call
    repeatedly (orders call it after each payment; the hourly job calls it for everyone).
    """
    return evaluate_with_stats(session, shop_id=shop_id, customer_id=customer_id, now=now)[0]


def evaluate_with_stats(
    session: DbSession, *, shop_id: str, customer_id: str, now: dt.datetime
) -> tuple[LevelChange | None, MemberStats]:
    """``evaluate_customer_level`` that also returns the stats it judged (for the evaluate API)."""
    customer = get_customer(session, shop_id=shop_id, customer_id=customer_id, for_update=True)
    config = get_level_config(session, shop_id=shop_id)
    stats = member_stats(session, shop_id=shop_id, customers=[customer], window_days=config["window_days"], now=now)[
        customer.id
    ]
    rules = rules_from_levels(config["levels"])
    shop = session.get(Shop, shop_id)
    assert shop is not None  # get_customer found a customer of this shop
    level = int(
        run_point(
            session,
            "member.level",
            shop,
            {"customer_id": customer.id, "member": asdict(stats)},
            lambda _payload: default_level(stats, rules),
        )
    )
    if level == customer.level:
        return None, stats
    if level < customer.level and not _downgrade_due(customer, period_days=config["downgrade_period_days"], now=now):
        return None, stats
    names = {int(entry["level"]): entry["name"] for entry in config["levels"]}
    verb = "Upgraded" if level > customer.level else "Downgraded"
    reason = (
        f"{verb} from V{customer.level} {names[customer.level]} to V{level} {names[level]} by the level rules "
        f"(last {config['window_days']} days: spend {stats.spend_in_window} fen, {stats.orders_in_window} orders; "
        f"{stats.points_balance} points)."
    )
    change = _record_change(session, customer, to_level=level, source="rule", reason=reason, now=now, stats=stats)
    return change, stats


def set_customer_level(
    session: DbSession, *, shop_id: str, customer_id: str, level: int, reason: str, now: dt.datetime
) -> LevelChange | None:
    """Set a customer's level by hand (recorded with the reason); ``None`` when already at ``level``.

    The new level counts as a level change, so the rules will not downgrade it within the period.
    """
    if level not in LEVELS:
        raise InvalidLevelRules(f"Levels run from 1 to 5, not {level}.", errors={"level": ["Must be 1 to 5."]})
    customer = get_customer(session, shop_id=shop_id, customer_id=customer_id, for_update=True)
    if customer.level == level:
        return None
    return _record_change(session, customer, to_level=level, source="manual", reason=reason, now=now, stats=None)


def level_history_stmt(shop_id: str, customer_id: str) -> sa.Select[Any]:
    return sa.select(MemberLevelChange).where(
        MemberLevelChange.shop_id == shop_id, MemberLevelChange.customer_id == customer_id
    )


def evaluate_shop_levels(session: DbSession, *, shop_id: str, now: dt.datetime, batch_size: int = 500) -> int:
    """Evaluate every customer of a shop, committing after each batch; return how many changed.

    Stats for a batch are read without locks to find the customers whose level would move; only
    those are locked and re-evaluated, so an hourly run is cheap and safe to repeat. When the shop
    runs a ``member.level`` plugin, only a call can tell, so every customer is re-evaluated.
    """
    config = get_level_config(session, shop_id=shop_id)
    rules = rules_from_levels(config["levels"])
    # A member.level plugin may move a level the built-in rule leaves alone: then everyone is judged.
    plugins_decide = shop_id in shops_with_plugins_at(session, point="member.level")
    changed, after = 0, ""
    while True:
        batch = list(
            session.scalars(
                sa.select(Customer)
                .where(Customer.shop_id == shop_id, Customer.id > after)
                .order_by(Customer.id)
                .limit(batch_size)
            )
        )
        if not batch:
            return changed
        stats = member_stats(session, shop_id=shop_id, customers=batch, window_days=config["window_days"], now=now)
        for customer in batch:
            moves = plugins_decide or default_level(stats[customer.id], rules) != customer.level
            if moves and evaluate_customer_level(session, shop_id=shop_id, customer_id=customer.id, now=now):
                changed += 1
        session.commit()
        after = batch[-1].id
