"""The one risk evaluation every money- or points-moving action calls (docs/architecture.md §5.13).

Lists first (an allow entry wins over everything; a block entry denies), then the action's built-in
rules with the shop's thresholds, then the apps' plugins at the action's extension point. The outcome is
the strictest asked for: deny, then review, then allow. Every evaluation is recorded (``decision_log``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from souk_platform.core.ids import new_id
from souk_platform.coupons.models import CouponClaim
from souk_platform.customers.models import Customer
from souk_platform.db import DbSession
from souk_platform.extensions import run_point
from souk_platform.orders.models import Order
from souk_platform.points_mall.models import MallRedemption
from souk_platform.points_tasks.models import PointsTaskCompletion
from souk_platform.risk import decision_log
from souk_platform.risk.models import RiskDecision, RiskListEntry
from souk_platform.risk.rules import ACTIONS, RULES, FiredRule, judge, rule_thresholds
from souk_platform.shops.models import Shop
from souk_platform.shops.services import DEFAULT_SETTINGS

__all__ = ["Decision", "RiskFacts", "evaluate", "shop_risk_settings"]


@dataclass(frozen=True, slots=True)
class RiskFacts:
    """Who acts, from where, and what is at stake (fen). ``extension_input`` is what the action's plugins
    read besides ``ip``, ``stats`` and ``thresholds`` (for checkout: ``order`` and ``buyer``)."""

    customer_id: str | None
    ip: str | None
    device_id: str | None = None
    amount: int = 0
    extension_input: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Decision:
    """An evaluation's outcome (allow, review or deny), the rules that fired, and its recorded row."""

    outcome: str
    fired: list[FiredRule]
    record: RiskDecision

    @property
    def id(self) -> str:
        return self.record.id

    @property
    def deciding(self) -> FiredRule | None:
        """The first rule that asked for the outcome (None when allowed without a list entry)."""
        return next((rule for rule in self.fired if rule.outcome == self.outcome), None)

    @property
    def reason(self) -> str:
        return "; ".join(rule.reason for rule in self.fired if rule.outcome == self.outcome)


def shop_risk_settings(shop: Shop) -> dict[str, Any]:
    """The shop's settings with every default filled in."""
    return {**DEFAULT_SETTINGS, **(shop.settings or {})}


def _list_matches(session: DbSession, shop_id: str, facts: RiskFacts, now: dt.datetime) -> list[RiskListEntry]:
    pairs = [
        (kind, value)
        for kind, value in (("customer", facts.customer_id), ("ip", facts.ip), ("device", facts.device_id))
        if value
    ]
    if not pairs:
        return []
    return list(
        session.scalars(
            sa.select(RiskListEntry)
            .where(
                RiskListEntry.shop_id == shop_id,
                sa.tuple_(RiskListEntry.kind, RiskListEntry.value).in_(pairs),
                sa.or_(RiskListEntry.expires_at.is_(None), RiskListEntry.expires_at > now),
            )
            .order_by(RiskListEntry.id)
        )
    )


def _count(session: DbSession, stmt: sa.Select[Any]) -> int:
    return int(session.scalar(stmt) or 0)


def _recent_counts(
    session: DbSession,
    shop: Shop,
    facts: RiskFacts,
    thresholds: Mapping[str, Mapping[str, Any]],
    now: dt.datetime,
    rows: type[Order] | type[MallRedemption],
) -> dict[str, int]:
    """The count rules' figures over the shop's recent ``rows`` (orders or redemptions), counting the one being
    made: the customer's rows, the customers on the IP or device, the customer's IPs — each in its window."""

    def since(rule: str) -> dt.datetime:
        return now - dt.timedelta(minutes=int(thresholds[rule]["window_minutes"]))

    customer_id, ip, device_id = facts.customer_id, facts.ip, facts.device_id
    in_shop = rows.shop_id == shop.id
    stats = {
        "customer_dense_orders": 1,
        "ip_many_customers": 1 if customer_id else 0,
        "customer_many_ips": 1 if ip else 0,
        "device_many_customers": 1 if customer_id and device_id else 0,
    }
    others = sa.func.count(sa.distinct(rows.customer_id))
    not_this_customer = (rows.customer_id.is_not(None), rows.customer_id != (customer_id or ""))
    if customer_id:
        stats["customer_dense_orders"] += _count(
            session,
            sa.select(sa.func.count())
            .select_from(rows)
            .where(in_shop, rows.customer_id == customer_id, rows.created_at > since("customer_dense_orders")),
        )
    if ip:
        stats["ip_many_customers"] += _count(
            session,
            sa.select(others).where(
                in_shop, rows.ip == ip, *not_this_customer, rows.created_at > since("ip_many_customers")
            ),
        )
    if customer_id and ip:
        stats["customer_many_ips"] += _count(
            session,
            sa.select(sa.func.count(sa.distinct(rows.ip))).where(
                in_shop,
                rows.customer_id == customer_id,
                rows.ip.is_not(None),
                rows.ip != ip,
                rows.created_at > since("customer_many_ips"),
            ),
        )
    if device_id:
        stats["device_many_customers"] += _count(
            session,
            sa.select(others).where(
                in_shop,
                rows.device_id == device_id,
                *not_this_customer,
                rows.created_at > since("device_many_customers"),
            ),
        )
    return stats


def _checkout_stats(
    session: DbSession, shop: Shop, facts: RiskFacts, thresholds: Mapping[str, Mapping[str, Any]], now: dt.datetime
) -> dict[str, int]:
    """Recent-order figures the checkout rules read (a redemption's order counts too: it is an order), and the
    order's value for the new-account rule."""
    return {
        **_recent_counts(session, shop, facts, thresholds, now, Order),
        "new_account_high_value": facts.amount,
    }


def _redemption_stats(
    session: DbSession, shop: Shop, facts: RiskFacts, thresholds: Mapping[str, Mapping[str, Any]], now: dt.datetime
) -> dict[str, int]:
    """Recent-redemption figures the points mall's rules read (§5.14): the same counts over redemptions."""
    return _recent_counts(session, shop, facts, thresholds, now, MallRedemption)


def _activity_stats(
    session: DbSession,
    facts: RiskFacts,
    thresholds: Mapping[str, Mapping[str, Any]],
    now: dt.datetime,
    *,
    table: Any,
    where: tuple[Any, ...],
) -> dict[str, int]:
    """The counting rules' figures over the recent rows of ``table`` (sign-ins, completions, claims), counting
    the one being made: customers on this IP or device, IPs of this customer. ``table`` has ``customer_id``,
    ``ip``, ``device_id`` and ``created_at``; ``where`` picks the shop's rows of this action."""

    def since(rule: str) -> dt.datetime:
        return now - dt.timedelta(minutes=int(thresholds[rule]["window_minutes"]))

    customer_id, ip, device_id = facts.customer_id, facts.ip, facts.device_id
    others = sa.func.count(sa.distinct(table.customer_id))
    stats = {
        "ip_many_customers": 1 if customer_id and ip else 0,
        "customer_many_ips": 1 if customer_id and ip else 0,
        "device_many_customers": 1 if customer_id and device_id else 0,
    }
    if customer_id and ip:
        stats["ip_many_customers"] += _count(
            session,
            sa.select(others).where(
                *where, table.ip == ip, table.customer_id != customer_id, table.created_at > since("ip_many_customers")
            ),
        )
        stats["customer_many_ips"] += _count(
            session,
            sa.select(sa.func.count(sa.distinct(table.ip))).where(
                *where,
                table.customer_id == customer_id,
                table.ip.is_not(None),
                table.ip != ip,
                table.created_at > since("customer_many_ips"),
            ),
        )
    if customer_id and device_id:
        stats["device_many_customers"] += _count(
            session,
            sa.select(others).where(
                *where,
                table.device_id == device_id,
                table.customer_id != customer_id,
                table.created_at > since("device_many_customers"),
            ),
        )
    return stats


def _sign_in_stats(
    session: DbSession, shop: Shop, facts: RiskFacts, thresholds: Mapping[str, Mapping[str, Any]], now: dt.datetime
) -> dict[str, int]:
    """Figures over the shop's recent daily sign-ins."""
    table = PointsTaskCompletion
    where = (table.shop_id == shop.id, table.kind == "daily_sign_in")
    return _activity_stats(session, facts, thresholds, now, table=table, where=where)


def _points_task_stats(
    session: DbSession, shop: Shop, facts: RiskFacts, thresholds: Mapping[str, Mapping[str, Any]], now: dt.datetime
) -> dict[str, int]:
    """Figures over the shop's recent completions of points tasks other than sign-in."""
    table = PointsTaskCompletion
    where = (table.shop_id == shop.id, table.kind != "daily_sign_in")
    return _activity_stats(session, facts, thresholds, now, table=table, where=where)


def _coupon_claim_stats(
    session: DbSession, shop: Shop, facts: RiskFacts, thresholds: Mapping[str, Mapping[str, Any]], now: dt.datetime
) -> dict[str, int]:
    """Figures over the shop's recent coupon claims."""
    where = (CouponClaim.shop_id == shop.id,)
    return _activity_stats(session, facts, thresholds, now, table=CouponClaim, where=where)


_STATS = {
    "checkout": _checkout_stats,
    "redemption": _redemption_stats,
    "sign_in": _sign_in_stats,
    "points_task": _points_task_stats,
    "coupon_claim": _coupon_claim_stats,
}


def _account_age_minutes(session: DbSession, shop_id: str, customer_id: str | None, now: dt.datetime) -> int | None:
    if customer_id is None:
        return None
    created = session.scalar(
        sa.select(Customer.created_at).where(Customer.shop_id == shop_id, Customer.id == customer_id)
    )
    return None if created is None else max(0, int((now - created).total_seconds() // 60))


def _plugin_verdict(fired: list[FiredRule]) -> dict[str, Any]:
    """The built-in answer at the action's extension point, in the point's verdict shape."""
    deny = next((rule for rule in fired if rule.outcome == "deny"), None)
    if deny is not None:
        return {"allow": False, "rule": deny.rule, "reason": deny.reason}
    return {"allow": True, "review": any(rule.outcome == "review" for rule in fired)}


def _run_plugins(
    session: DbSession,
    shop: Shop,
    point: str,
    facts: RiskFacts,
    stats: Mapping[str, int],
    thresholds: Mapping[str, Mapping[str, Any]],
    fired: list[FiredRule],
) -> list[FiredRule]:
    """Ask the apps' plugins at ``point``: each denial or review they return becomes a fired rule."""
    payload = {
        **facts.extension_input,
        "ip": facts.ip,
        "stats": dict(stats),
        "thresholds": {
            name: {"max": t["max"], "window_minutes": t["window_minutes"]} for name, t in thresholds.items()
        },
    }
    verdict = run_point(session, point, shop, payload, lambda _: _plugin_verdict(fired))
    return [
        FiredRule(
            rule=f"plugin:{answer['plugin']}",
            source="plugin",
            outcome="deny" if not answer["allow"] else "review",
            reason=f"{answer.get('reason') or 'no reason given'} (plugin {answer['plugin']})",
        )
        for answer in verdict.get("plugins", [])
    ]


def _outcome(fired: list[FiredRule]) -> str:
    outcomes = {rule.outcome for rule in fired}
    for outcome in ("deny", "review", "allow"):
        if outcome in outcomes:
            return outcome
    return "allow"


def evaluate(
    session: DbSession,
    *,
    shop: Shop,
    action: str,
    subject: tuple[str, str],
    facts: RiskFacts,
    now: dt.datetime,
) -> Decision:
    """Decide on one action (``subject`` is ``(type, id)``, e.g. the order being placed) and record it.

    The record is added to ``session``: it commits with the action's own writes; a denial is written
    again if the caller's transaction rolls back (the caller raises on ``deny``)."""
    spec = ACTIONS[action]
    settings = shop_risk_settings(shop)
    thresholds = rule_thresholds(settings, spec.rules)
    entries = _list_matches(session, shop.id, facts, now)
    inputs: dict[str, Any] = {
        "order_value": facts.amount,
        "account_age_minutes": _account_age_minutes(session, shop.id, facts.customer_id, now),
        "thresholds": thresholds,
        "lists": [{"id": e.id, "list": e.list, "kind": e.kind, "value": e.value} for e in entries],
    }
    allowed = [e for e in entries if e.list == "allow"]
    blocked = [e for e in entries if e.list == "block"]
    fired: list[FiredRule]
    if allowed or blocked:
        # An allow entry is a person's explicit exception: it wins over block entries, rules and plugins.
        chosen, outcome = (allowed, "allow") if allowed else (blocked, "deny")
        fired = [
            FiredRule(
                rule=f"{entry.list}_list:{entry.kind}",
                source="list",
                outcome=outcome,
                reason=f"the {entry.kind} {entry.value} is on the {entry.list} list"
                + (f" ({entry.note})" if entry.note else ""),
            )
            for entry in chosen
        ]
    else:
        stats = _STATS[action](session, shop, facts, thresholds, now)
        inputs["stats"] = stats
        fired = judge(inputs, thresholds)
        if spec.point is not None:
            fired += _run_plugins(session, shop, spec.point, facts, stats, thresholds, fired)
    outcome = _outcome(fired) if not allowed else "allow"
    if outcome == "review" and not spec.holds:
        outcome = "deny"  # nothing to hold for a person: the action is refused (docs/architecture.md §5.15)
    names = [rule.rule for rule in fired]
    fields: dict[str, Any] = {
        "id": new_id("rkd"),
        "shop_id": shop.id,
        "action": action,
        "subject_type": subject[0],
        "subject_id": subject[1],
        "customer_id": facts.customer_id,
        "ip": facts.ip,
        "device_id": facts.device_id,
        "outcome": outcome,
        "rule_names": f",{','.join(names)}," if names else "",
        "rules": [rule.as_json() for rule in fired],
        "inputs": inputs,
        "created_at": now,
    }
    return Decision(outcome=outcome, fired=fired, record=decision_log.record(session, fields))


def known_rule_names() -> tuple[str, ...]:
    """The built-in rules' names (the decisions list filters by them, or by list/plugin names)."""
    return tuple(RULES)
