"""The built-in risk rules and the actions that run them (docs/architecture.md §5.13).

Plain Python, no database: ``judge`` reads the figures an evaluation gathered (its recorded ``inputs``)
and the shop's thresholds, and names the rules that fire with their figures. The same function replays a
recorded decision under other thresholds. Each action (checkout, a points-mall redemption, sign-in, a points
task's completion, a coupon claim) lists the rules it runs and the extension point its apps' plugins answer.
A rule's threshold, window and outcome are the shop's one setting for that rule, whichever action runs it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "ACTIONS",
    "RULES",
    "ActionSpec",
    "BuiltInRule",
    "FiredRule",
    "judge",
    "rule_thresholds",
]


@dataclass(frozen=True, slots=True)
class BuiltInRule:
    """A rule whose figure ``seen`` is compared with the shop's ``threshold`` (0 turns the rule off).

    ``at_least``: fires when seen ≥ threshold (an amount); otherwise when seen > threshold (a count the
    threshold allows). ``window_setting`` is the look-back in minutes — for the new-account rule, the age in
    hours under which an account counts as new."""

    name: str
    threshold_setting: str
    window_setting: str
    outcome_setting: str
    wording: str  # English, for the decision's reason; {seen}, {threshold}, {window} filled in
    at_least: bool = False
    window_in_hours: bool = False


RULES: dict[str, BuiltInRule] = {
    rule.name: rule
    for rule in (
        BuiltInRule(
            "customer_dense_orders",
            "risk_customer_orders_max",
            "risk_customer_orders_window_minutes",
            "risk_customer_orders_outcome",
            "this customer would place {seen} orders within {window} minutes (limit {threshold})",
        ),
        BuiltInRule(
            "ip_many_customers",
            "risk_ip_customers_max",
            "risk_ip_customers_window_minutes",
            "risk_ip_customers_outcome",
            "this IP would be used by {seen} customers within {window} minutes (limit {threshold})",
        ),
        BuiltInRule(
            "customer_many_ips",
            "risk_customer_ips_max",
            "risk_customer_ips_window_minutes",
            "risk_customer_ips_outcome",
            "this customer would order from {seen} IPs within {window} minutes (limit {threshold})",
        ),
        BuiltInRule(
            "device_many_customers",
            "risk_device_customers_max",
            "risk_device_customers_window_minutes",
            "risk_device_customers_outcome",
            "this device would be used by {seen} customers within {window} minutes (limit {threshold})",
        ),
        BuiltInRule(
            "new_account_high_value",
            "risk_new_account_order_min",
            "risk_new_account_hours",
            "risk_new_account_outcome",
            "an account younger than {window} hours places an order worth {seen} fen (from {threshold} fen)",
            at_least=True,
            window_in_hours=True,
        ),
    )
}


@dataclass(frozen=True, slots=True)
class ActionSpec:
    """What one kind of action runs: its built-in rules, in order, and the plugins' extension point."""

    name: str
    rules: tuple[str, ...]
    point: str | None  # the extension point apps answer for this action (None: no plugins)
    # Whether the action can hold its work for a person (checkout: the order in_review; a points task: the
    # completion's points). One that cannot (a coupon claim) treats review as deny.
    holds: bool = True


_PEOPLE_AND_PLACES = ("ip_many_customers", "customer_many_ips", "device_many_customers")

ACTIONS: dict[str, ActionSpec] = {
    spec.name: spec
    for spec in (
        ActionSpec(
            "checkout",
            (
                "customer_dense_orders",
                "ip_many_customers",
                "customer_many_ips",
                "device_many_customers",
                "new_account_high_value",
            ),
            "order.validate",
        ),
        # A points-mall redemption (§5.14): the count rules over recent redemptions; no plugins (no
        # extension point of its own yet — order.validate's input is an order draft, which a redemption is not).
        ActionSpec(
            "redemption",
            ("customer_dense_orders", "ip_many_customers", "customer_many_ips", "device_many_customers"),
            None,
        ),
        # Daily sign-in, a points task's completion and a coupon claim: the counting rules, over the
        # recent sign-ins, completions or claims (risk/services/evaluation.py).
        ActionSpec("sign_in", _PEOPLE_AND_PLACES, None),
        ActionSpec("points_task", _PEOPLE_AND_PLACES, None),
        ActionSpec("coupon_claim", _PEOPLE_AND_PLACES, None, holds=False),
    )
}


@dataclass(frozen=True, slots=True)
class FiredRule:
    """A rule that fired, with the figures that made it fire."""

    rule: str
    source: str  # rule | list | plugin
    outcome: str  # review | deny
    reason: str
    seen: int | None = None
    threshold: int | None = None
    window_minutes: int | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "source": self.source,
            "outcome": self.outcome,
            "reason": self.reason,
            "seen": self.seen,
            "threshold": self.threshold,
            "window_minutes": self.window_minutes,
        }


def rule_thresholds(settings: Mapping[str, Any], names: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    """``{rule: {max, window_minutes, outcome}}`` from a shop's settings (the new-account hours in minutes)."""
    thresholds: dict[str, dict[str, Any]] = {}
    for name in names:
        rule = RULES[name]
        window = int(settings[rule.window_setting])
        thresholds[name] = {
            "max": int(settings[rule.threshold_setting]),
            "window_minutes": window * 60 if rule.window_in_hours else window,
            "outcome": str(settings[rule.outcome_setting]),
        }
    return thresholds


def judge(inputs: Mapping[str, Any], thresholds: Mapping[str, Mapping[str, Any]]) -> list[FiredRule]:
    """The rules among ``thresholds`` that fire on ``inputs`` (``stats``: rule → seen; for the new-account
    rule, ``account_age_minutes`` too). Pure: a replay passes other thresholds."""
    fired: list[FiredRule] = []
    stats = inputs.get("stats", {})
    for name, limits in thresholds.items():
        rule = RULES[name]
        threshold, window = int(limits["max"]), int(limits["window_minutes"])
        seen = stats.get(name)
        if not threshold or seen is None:
            continue
        if rule.name == "new_account_high_value":
            age = inputs.get("account_age_minutes")
            if age is None or age >= window:
                continue
        if not (seen >= threshold if rule.at_least else seen > threshold):
            continue
        shown_window = window // 60 if rule.window_in_hours else window
        fired.append(
            FiredRule(
                rule=name,
                source="rule",
                outcome=str(limits["outcome"]),
                reason=rule.wording.format(seen=seen, threshold=threshold, window=shown_window),
                seen=int(seen),
                threshold=threshold,
                window_minutes=window,
            )
        )
    return fired
