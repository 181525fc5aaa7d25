"""Member levels V1–V5: the shop's rules, the built-in level rule, evaluation and manual changes.

``default_level`` is the pure built-in rule of the ``member.level`` extension point: stats in,
level out. ``evaluate_customer_level`` gathers a customer's stats, applies the rule, enforces the
downgrade period and records the change (history row + ``customer.level_changed`` event).

A threshold may also count a **category's contribution**: spend and orders in one category and its
subcategories within the window (``category: {category_id, spend, orders}``). Category spend is what the
lines of that subtree cost after level perks and discounts (``unit_price × quantity − discount``), less
the refunded share of each line (by quantity), over orders paid in the window; category orders are the
orders paid in the window with a line in the subtree (refunds do not uncount an order, as for
``orders``). A category deleted since the rule was saved counts nothing. The perks each level carries
(discount, points multiplier) are read by ``members.perks`` (docs/architecture.md §5.7).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import sqlalchemy as sa

from souk_platform.catalog.models import Category
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
from souk_platform.members.perks import check_perks
from souk_platform.orders.models import OrderLine
from souk_platform.plugins.services import shops_with_plugins_at
from souk_platform.shops.models import Shop

LEVELS = (1, 2, 3, 4, 5)
METRICS = ("spend", "orders", "points")
CATEGORY_METRICS = ("spend", "orders")
DEFAULT_WINDOW_DAYS = 365
DEFAULT_DOWNGRADE_PERIOD_DAYS = 30


def default_levels() -> list[dict[str, Any]]:
    """V1–V5 with no rules: until a shop sets rules, levels change only by hand."""
    return [{"level": n, "name": f"V{n}", "upgrade": None, "keep": None, **PERK_DEFAULTS} for n in LEVELS]


PERK_DEFAULTS = {"discount_bps": 0, "points_multiplier_percent": 100}  # no discount, 1× points


# --- the pure rule ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MemberStats:
    """What the level rule sees of a member (the ``member.level`` extension point's input)."""

    spend_in_window: int  # fen, net of refunds, over the shop's window
    orders_in_window: int
    points_balance: int
    current_level: int
    # category id → {"spend", "orders"} in its subtree over the window, for the categories the rules name
    categories: dict[str, dict[str, int]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CategoryThreshold:
    """Spend (fen) and/or orders in one category's subtree over the window; unset ones are ignored."""

    category_id: str
    spend: int | None = None
    orders: int | None = None


@dataclass(frozen=True, slots=True)
class Threshold:
    """Met when any (or all) of the set thresholds are reached; unset ones are ignored."""

    match: str = "any"
    spend: int | None = None
    orders: int | None = None
    points: int | None = None
    category: CategoryThreshold | None = None

    def met_by(self, stats: MemberStats) -> bool:
        pairs = [
            (stats.spend_in_window, self.spend),
            (stats.orders_in_window, self.orders),
            (stats.points_balance, self.points),
        ]
        if self.category is not None:
            seen = stats.categories.get(self.category.category_id, {})
            pairs += [(seen.get("spend", 0), self.category.spend), (seen.get("orders", 0), self.category.orders)]
        checks = [actual >= wanted for actual, wanted in pairs if wanted is not None]
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
        category = raw.get("category")
        return Threshold(
            match=raw.get("match", "any"),
            spend=raw.get("spend"),
            orders=raw.get("orders"),
            points=raw.get("points"),
            category=CategoryThreshold(category["category_id"], category.get("spend"), category.get("orders"))
            if category
            else None,
        )

    by_level = {int(entry["level"]): entry for entry in levels}
    return LevelRules(
        upgrade={n: threshold(by_level.get(n, {}).get("upgrade")) for n in LEVELS[1:]},
        keep={n: threshold(by_level.get(n, {}).get("keep")) for n in LEVELS[1:]},
    )


def rule_categories(levels: Sequence[Mapping[str, Any]]) -> list[str]:
    """The categories the rules count contributions in, in the order they first appear."""
    found: list[str] = []
    for entry in levels:
        for part in ("upgrade", "keep"):
            category = (entry.get(part) or {}).get("category")
            if category and category["category_id"] not in found:
                found.append(category["category_id"])
    return found


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
        "levels": [{**PERK_DEFAULTS, **entry} for entry in row.levels],  # saved before perks: none
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
    errors.update(check_perks(levels))
    for part in ("upgrade", "keep"):
        floors: dict[tuple[str | None, str], tuple[int, int]] = {}  # metric → (level, value) of the last setting it
        for level in LEVELS[1:]:
            for (category_id, metric), (path, value) in _thresholds(by_level[level].get(part)).items():
                floor = floors.get((category_id, metric))
                if floor is not None and value < floor[1]:
                    errors[f"levels.{index_of[level]}.{part}.{path}"] = [
                        f"Must be at least {floor[1]}, the V{floor[0]} {part} threshold: higher levels are harder."
                    ]
                floors[(category_id, metric)] = (level, value)
    for level in LEVELS[1:]:
        upgrade = _thresholds(by_level[level].get("upgrade"))
        for key, (path, value) in _thresholds(by_level[level].get("keep")).items():
            if key in upgrade and value > upgrade[key][1]:
                errors[f"levels.{index_of[level]}.keep.{path}"] = [
                    f"Must not exceed the upgrade threshold ({upgrade[key][1]}): keeping a level is not harder "
                    "than reaching it."
                ]
    if errors:
        raise InvalidLevelRules("The level rules are not consistent: " + ", ".join(sorted(errors)) + ".", errors=errors)


def _thresholds(raw: Mapping[str, Any] | None) -> dict[tuple[str | None, str], tuple[str, int]]:
    """A threshold's set numbers: (category id or None, metric) → (field path inside it, value).

    Category thresholds compare only with thresholds on the same category."""
    found: dict[tuple[str | None, str], tuple[str, int]] = {}
    raw = raw or {}
    for metric in METRICS:
        if raw.get(metric) is not None:
            found[(None, metric)] = (metric, raw[metric])
    category = raw.get("category") or {}
    for metric in CATEGORY_METRICS:
        if category.get(metric) is not None:
            found[(category["category_id"], metric)] = (f"category.{metric}", category[metric])
    return found


def _check_categories(session: DbSession, shop_id: str, levels: Sequence[Mapping[str, Any]]) -> None:
    """Every category a rule counts must be one of the shop's (422 naming the field otherwise)."""
    named = rule_categories(levels)
    if not named:
        return
    known = set(session.scalars(sa.select(Category.id).where(Category.shop_id == shop_id, Category.id.in_(named))))
    errors = {
        f"levels.{i}.{part}.category.category_id": ["No such category in this shop."]
        for i, entry in enumerate(levels)
        for part in ("upgrade", "keep")
        if ((entry.get(part) or {}).get("category") or {}).get("category_id") not in (None, *known)
    }
    if errors:
        raise InvalidLevelRules("The level rules name categories this shop does not have.", errors=errors)


def save_level_config(
    session: DbSession,
    *,
    shop_id: str,
    window_days: int,
    downgrade_period_days: int,
    levels: list[dict[str, Any]],
    expected_version: int | None,
) -> dict[str, Any]:
    """Replace the shop's level names, rules and perks (validated); 412 when ``expected_version`` is stale."""
    levels = [{**PERK_DEFAULTS, **entry} for entry in levels]
    _check_rules(levels)
    _check_categories(session, shop_id, levels)
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


def _subtrees(session: DbSession, shop_id: str, category_ids: Sequence[str]) -> dict[str, set[str]]:
    """Each named category's subtree (itself and its descendants; empty when it no longer exists)."""
    rows = session.execute(sa.select(Category.id, Category.parent_id).where(Category.shop_id == shop_id))
    parents = {category_id: parent_id for category_id, parent_id in rows}
    children: dict[str | None, list[str]] = {}
    for child, parent in parents.items():
        children.setdefault(parent, []).append(child)
    subtrees: dict[str, set[str]] = {}
    for category_id in category_ids:
        found: set[str] = set()
        todo = [category_id] if category_id in parents else []
        while todo:
            current = todo.pop()
            found.add(current)
            todo.extend(children.get(current, []))
        subtrees[category_id] = found
    return subtrees


def _category_stats(
    session: DbSession,
    *,
    shop_id: str,
    customer_ids: Sequence[str],
    category_ids: Sequence[str],
    since: dt.datetime,
    now: dt.datetime,
) -> dict[str, dict[str, dict[str, int]]]:
    """customer → category → {"spend", "orders"} in the category's subtree, for orders paid in (since, now]
    (dated by their purchase row, as ``spend`` is).

    Two statements whatever the number of customers and categories: the shop's tree, then the paid lines
    in any of the subtrees grouped by (customer, order, category).
    """
    subtrees = _subtrees(session, shop_id, category_ids)
    wanted = set().union(*subtrees.values()) if subtrees else set()
    stats: dict[str, dict[str, dict[str, int]]] = {
        c: {category_id: {"spend": 0, "orders": 0} for category_id in category_ids} for c in customer_ids
    }
    if not wanted or not customer_ids:
        return stats
    kept = OrderLine.quantity - OrderLine.refunded_quantity
    net = (OrderLine.unit_price * OrderLine.quantity - OrderLine.discount) * kept // OrderLine.quantity
    # A paid order's purchase row dates it (as for ``spend``), and exists as soon as the payment records it.
    rows = session.execute(
        sa.select(CustomerPurchase.customer_id, OrderLine.order_id, OrderLine.category_id, sa.func.sum(net))
        .select_from(CustomerPurchase)
        .join(OrderLine, OrderLine.order_id == CustomerPurchase.order_id)
        .where(
            CustomerPurchase.shop_id == shop_id,
            CustomerPurchase.customer_id.in_(list(customer_ids)),
            CustomerPurchase.counts_as_order.is_(True),
            CustomerPurchase.at > since,
            CustomerPurchase.at <= now,
            OrderLine.shop_id == shop_id,
            OrderLine.category_id.in_(sorted(wanted)),
        )
        .group_by(CustomerPurchase.customer_id, OrderLine.order_id, OrderLine.category_id)
    )
    orders_seen: dict[tuple[str, str], set[str]] = {}
    for customer_id, order_id, line_category, spend in rows:
        for category_id, subtree in subtrees.items():
            if line_category in subtree:
                stats[str(customer_id)][category_id]["spend"] += int(spend or 0)
                orders_seen.setdefault((str(customer_id), category_id), set()).add(order_id)
    for (customer_id, category_id), orders in orders_seen.items():
        stats[customer_id][category_id]["orders"] = len(orders)
    return stats


def member_stats(
    session: DbSession,
    *,
    shop_id: str,
    customers: Sequence[Customer],
    window_days: int,
    now: dt.datetime,
    categories: Sequence[str] = (),
) -> dict[str, MemberStats]:
    """Each customer's stats over the last ``window_days`` (one query for purchases, the ledger for points,
    and two more when the rules count contributions in ``categories``)."""
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
    by_category = (
        _category_stats(
            session,
            shop_id=shop_id,
            customer_ids=[c.id for c in customers],
            category_ids=categories,
            since=since,
            now=now,
        )
        if categories
        else {}
    )
    return {
        c.id: MemberStats(
            spend_in_window=totals.get(c.id, (0, 0))[0],
            orders_in_window=totals.get(c.id, (0, 0))[1],
            points_balance=balance_of(session, shop_id=shop_id, kind="customer.points", owner_id=c.id, unit=POINTS),
            current_level=c.level,
            categories=by_category.get(c.id, {}),
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
    stats = member_stats(
        session,
        shop_id=shop_id,
        customers=[customer],
        window_days=config["window_days"],
        now=now,
        categories=rule_categories(config["levels"]),
    )[customer.id]
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
        f"{stats.points_balance} points"
        + "".join(
            f"; in category {category_id}: spend {seen['spend']} fen, {seen['orders']} orders"
            for category_id, seen in stats.categories.items()
        )
        + ")."
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
        stats = member_stats(
            session,
            shop_id=shop_id,
            customers=batch,
            window_days=config["window_days"],
            now=now,
            categories=rule_categories(config["levels"]),
        )
        for customer in batch:
            moves = plugins_decide or default_level(stats[customer.id], rules) != customer.level
            if moves and evaluate_customer_level(session, shop_id=shop_id, customer_id=customer.id, now=now):
                changed += 1
        session.commit()
        after = batch[-1].id
