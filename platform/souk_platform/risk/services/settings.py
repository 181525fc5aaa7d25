"""The shop's risk settings: each rule's threshold, window and outcome, and the review expiry rule.

They live in the shop's settings (``shops.services.DEFAULT_SETTINGS``, where checkout has always read them);
this module shows them rule by rule and checks a change before writing it (docs/architecture.md §5.13).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from souk_platform.db import DbSession
from souk_platform.risk.errors import InvalidRiskSettings
from souk_platform.risk.models import EXPIRY_ACTIONS, RULE_OUTCOMES
from souk_platform.risk.rules import RULES
from souk_platform.risk.services.evaluation import shop_risk_settings
from souk_platform.shops.models import Shop
from souk_platform.shops.services import get_shop, update_shop

__all__ = ["MAX_THRESHOLD", "MAX_WINDOW_MINUTES", "risk_settings_view", "rule_setting_changes", "update_risk_settings"]

MAX_THRESHOLD = 1_000_000_000  # an order value in fen
MAX_COUNT = 100_000  # orders, customers or IPs in a window
MAX_WINDOW_MINUTES = 60 * 24 * 30
MAX_EXPIRY_HOURS = 24 * 30


def risk_settings_view(shop: Shop) -> dict[str, Any]:
    """The settings as the API shows them: one entry per built-in rule, then the review expiry rule."""
    settings = shop_risk_settings(shop)
    return {
        "rules": [
            {
                "rule": rule.name,
                "threshold": int(settings[rule.threshold_setting]),
                "window": int(settings[rule.window_setting]),
                "window_unit": "hours" if rule.window_in_hours else "minutes",
                "outcome": settings[rule.outcome_setting],
            }
            for rule in RULES.values()
        ],
        "review_expiry_hours": int(settings["risk_review_expiry_hours"]),
        "review_expiry_action": settings["risk_review_expiry_action"],
        "version": shop.version,
    }


def rule_setting_changes(rules: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The shop settings that ``rules`` (the PUT body's ``rules``) change; 422 naming each bad field."""
    changes: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for i, entry in enumerate(rules):
        rule = RULES.get(entry.get("rule", ""))
        if rule is None:
            errors[f"rules.{i}.rule"] = [f"One of: {', '.join(RULES)}."]
            continue
        if "threshold" in entry:
            most = MAX_THRESHOLD if rule.at_least else MAX_COUNT
            if not 0 <= entry["threshold"] <= most:
                errors[f"rules.{i}.threshold"] = [f"Between 0 (off) and {most}."]
            changes[rule.threshold_setting] = entry["threshold"]
        if "window" in entry:
            most = MAX_WINDOW_MINUTES // 60 if rule.window_in_hours else MAX_WINDOW_MINUTES
            if not 1 <= entry["window"] <= most:
                errors[f"rules.{i}.window"] = [f"Between 1 and {most}."]
            changes[rule.window_setting] = entry["window"]
        if "outcome" in entry:
            if entry["outcome"] not in RULE_OUTCOMES:
                errors[f"rules.{i}.outcome"] = [f"One of: {', '.join(RULE_OUTCOMES)}."]
            changes[rule.outcome_setting] = entry["outcome"]
    if errors:
        raise InvalidRiskSettings("Some risk settings are not valid.", errors=errors)
    return changes


def update_risk_settings(
    session: DbSession, *, shop_id: str, fields: dict[str, Any], expected_version: int | None
) -> Shop:
    """Change the rules given (others keep their settings) and the review expiry rule; If-Match is the shop's
    version (these are shop settings). Bad input changes nothing (422)."""
    changes = rule_setting_changes(fields.get("rules", []))
    if "review_expiry_hours" in fields:
        if not 1 <= fields["review_expiry_hours"] <= MAX_EXPIRY_HOURS:
            raise InvalidRiskSettings(
                "The review expiry is out of range.",
                errors={"review_expiry_hours": [f"Between 1 and {MAX_EXPIRY_HOURS}."]},
            )
        changes["risk_review_expiry_hours"] = fields["review_expiry_hours"]
    if "review_expiry_action" in fields:
        if fields["review_expiry_action"] not in EXPIRY_ACTIONS:
            raise InvalidRiskSettings(
                "Unknown expiry action.", errors={"review_expiry_action": [f"One of: {', '.join(EXPIRY_ACTIONS)}."]}
            )
        changes["risk_review_expiry_action"] = fields["review_expiry_action"]
    get_shop(session, shop_id)
    return update_shop(session, shop_id=shop_id, changes={"settings": changes}, expected_version=expected_version)
