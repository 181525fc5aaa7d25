"""What changed thresholds would have decided: recorded decisions replayed (docs/architecture.md §5.13).

Reads only. Each decision's recorded ``inputs`` (the figures the rules saw) are judged again with the shop's
settings as they would be after the change; plugin answers are kept as recorded, and a decision made by a
list entry stays as it was (lists are not thresholds). The count rules' figures were counted over the
windows in force then, so a changed window of a count rule is not replayed (``windows_not_replayed``);
the new-account age is recorded, so its window is.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

import sqlalchemy as sa

from souk_platform.db import DbSession
from souk_platform.reports.services import local_midnight, shop_zone
from souk_platform.risk.errors import InvalidReplayPeriod, InvalidRiskSettings
from souk_platform.risk.models import RiskDecision
from souk_platform.risk.rules import ACTIONS, RULES, judge, rule_thresholds
from souk_platform.risk.services.evaluation import shop_risk_settings
from souk_platform.risk.services.settings import rule_setting_changes
from souk_platform.shops.models import Shop

__all__ = ["MAX_REPLAY_DAYS", "SAMPLE_SIZE", "replay_period", "replay_thresholds"]

MAX_REPLAY_DAYS = 31
SAMPLE_SIZE = 20
_STRICTNESS = {"allow": 0, "review": 1, "deny": 2}


def replay_period(
    shop: Shop,
    *,
    now: dt.datetime,
    day: dt.date | None = None,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
) -> tuple[dt.datetime, dt.datetime]:
    """``[start, end)`` in UTC: a shop-local day (default yesterday) or the instants given (≤ 31 days)."""
    if start is not None or end is not None:
        if day is not None:
            raise InvalidReplayPeriod("Send either date or from and to.", errors={"date": ["Not with from/to."]})
        if start is None or end is None:
            missing = "from" if start is None else "to"
            raise InvalidReplayPeriod("Send both from and to.", errors={missing: ["Required with the other."]})
        if end <= start:
            raise InvalidReplayPeriod("The period ends before it starts.", errors={"to": ["After from."]})
        if end - start > dt.timedelta(days=MAX_REPLAY_DAYS):
            raise InvalidReplayPeriod(
                "The period is too long.", errors={"to": [f"At most {MAX_REPLAY_DAYS} days after from."]}
            )
        return start.astimezone(dt.UTC), end.astimezone(dt.UTC)
    zone = shop_zone(shop.timezone or "UTC")
    if day is None:
        day = now.astimezone(zone).date() - dt.timedelta(days=1)
    return local_midnight(day, zone), local_midnight(day + dt.timedelta(days=1), zone)


def _proposed_thresholds(shop: Shop, thresholds: dict[str, Any]) -> dict[str, dict[str, Any]]:
    try:
        changes = rule_setting_changes(thresholds.get("rules", []))
    except InvalidRiskSettings as error:
        raise InvalidRiskSettings(
            error.detail, errors={f"thresholds.{field}": why for field, why in (error.errors or {}).items()}
        ) from error
    return rule_thresholds({**shop_risk_settings(shop), **changes}, tuple(RULES))


def _replayed(decision: RiskDecision, proposed: dict[str, dict[str, Any]]) -> tuple[str, list[str]]:
    """The outcome and built-in rules ``decision`` would get under ``proposed`` (plugins as recorded)."""
    recorded = decision.inputs.get("thresholds", {})
    usable = {}
    for name, limits in proposed.items():
        if name not in recorded:
            continue
        window = limits["window_minutes"] if RULES[name].window_in_hours else recorded[name]["window_minutes"]
        usable[name] = {**limits, "window_minutes": window}
    fired = judge(decision.inputs, usable)
    outcomes = [rule.outcome for rule in fired]
    outcomes += [str(rule["outcome"]) for rule in decision.rules if rule.get("source") == "plugin"]
    outcome = max(outcomes, key=lambda o: _STRICTNESS.get(o, 0), default="allow")
    spec = ACTIONS.get(decision.action)
    if outcome == "review" and spec is not None and not spec.holds:
        outcome = "deny"  # as evaluate() decides for an action with nothing to hold (a coupon claim)
    return outcome, [rule.rule for rule in fired]


def replay_thresholds(
    session: DbSession, *, shop: Shop, thresholds: dict[str, Any], start: dt.datetime, end: dt.datetime
) -> dict[str, Any]:
    """How the decisions of ``[start, end)`` would change under ``thresholds`` (a partial settings body, checked
    as PUT /risk/settings checks it: 422 naming ``thresholds.rules.<i>.<field>``). Writes nothing."""
    proposed = _proposed_thresholds(shop, thresholds)
    current = rule_thresholds(shop_risk_settings(shop), tuple(RULES))
    windows_changed = [
        name
        for name in RULES
        if not RULES[name].window_in_hours and proposed[name]["window_minutes"] != current[name]["window_minutes"]
    ]
    transitions: Counter[tuple[str, str]] = Counter()
    per_rule = {name: Counter[str]() for name in RULES}
    samples: list[dict[str, Any]] = []
    replayed = by_list = changed = 0
    stmt = (
        sa.select(RiskDecision)
        .where(RiskDecision.shop_id == shop.id, RiskDecision.created_at >= start, RiskDecision.created_at < end)
        .order_by(RiskDecision.id)
        .execution_options(yield_per=500)
    )
    for decision in session.scalars(stmt):
        if "stats" not in decision.inputs:
            by_list += 1  # decided by a list entry: rules did not run, thresholds cannot change it
            continue
        replayed += 1
        before_rules = [r["rule"] for r in decision.rules if r.get("source") == "rule"]
        outcome, after_rules = _replayed(decision, proposed)
        for name in RULES:
            was, now_fires = name in before_rules, name in after_rules
            per_rule[name]["fired_before"] += was
            per_rule[name]["fired_after"] += now_fires
            per_rule[name]["newly_fired"] += now_fires and not was
            per_rule[name]["no_longer_fired"] += was and not now_fires
        if outcome == decision.outcome:
            continue
        changed += 1
        transitions[(decision.outcome, outcome)] += 1
        if len(samples) < SAMPLE_SIZE:
            samples.append(
                {
                    "id": decision.id,
                    "created_at": decision.created_at,
                    "action": decision.action,
                    "subject_id": decision.subject_id,
                    "customer_id": decision.customer_id,
                    "ip": decision.ip,
                    "before": decision.outcome,
                    "after": outcome,
                    "rules_before": before_rules,
                    "rules_after": after_rules,
                }
            )
    return {
        "from": start,
        "to": end,
        "decisions": replayed + by_list,
        "replayed": replayed,
        "decided_by_lists": by_list,
        "changed": changed,
        "changes": [
            {"before": before, "after": after, "count": count}
            for (before, after), count in sorted(transitions.items(), key=lambda item: (-item[1], item[0]))
        ],
        "rules": [
            {
                "rule": name,
                "outcome": proposed[name]["outcome"],
                "fired_before": counts["fired_before"],
                "fired_after": counts["fired_after"],
                "newly_fired": counts["newly_fired"],
                "no_longer_fired": counts["no_longer_fired"],
            }
            for name, counts in per_rule.items()
        ],
        "windows_not_replayed": windows_changed,
        "sample": samples,
    }
