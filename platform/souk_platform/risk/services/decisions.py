"""Reading recorded risk decisions, and replaying them under other thresholds (docs/architecture.md §5.13)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from souk_platform.db import DbSession
from souk_platform.risk.errors import DecisionNotFound
from souk_platform.risk.models import RiskDecision
from souk_platform.risk.rules import judge

__all__ = ["decision_view", "decisions_stmt", "get_decision", "replay"]


def decision_view(decision: RiskDecision) -> dict[str, Any]:
    return {
        "id": decision.id,
        "action": decision.action,
        "subject_type": decision.subject_type,
        "subject_id": decision.subject_id,
        "customer_id": decision.customer_id,
        "ip": decision.ip,
        "device_id": decision.device_id,
        "outcome": decision.outcome,
        "rules": decision.rules,
        "inputs": decision.inputs,
        "created_at": decision.created_at,
    }


def decisions_stmt(
    shop_id: str,
    *,
    outcome: str | None = None,
    rule: str | None = None,
    action: str | None = None,
    customer_id: str | None = None,
    ip: str | None = None,
) -> sa.Select[Any]:
    stmt = sa.select(RiskDecision).where(RiskDecision.shop_id == shop_id)
    if outcome:
        stmt = stmt.where(RiskDecision.outcome == outcome)
    if rule:
        stmt = stmt.where(RiskDecision.rule_names.contains(f",{rule},", autoescape=True))
    if action:
        stmt = stmt.where(RiskDecision.action == action)
    if customer_id:
        stmt = stmt.where(RiskDecision.customer_id == customer_id)
    if ip:
        stmt = stmt.where(RiskDecision.ip == ip)
    return stmt


def get_decision(session: DbSession, *, shop_id: str, decision_id: str) -> RiskDecision:
    decision = session.scalar(
        sa.select(RiskDecision).where(RiskDecision.shop_id == shop_id, RiskDecision.id == decision_id)
    )
    if decision is None:
        raise DecisionNotFound(f"No risk decision {decision_id} in this shop.")
    return decision


def replay(decision: RiskDecision, thresholds: dict[str, dict[str, Any]]) -> list[str]:
    """The built-in rules that would fire on ``decision``'s recorded inputs under ``thresholds`` (same windows:
    the recorded figures were counted over the windows in force then). Lists and plugins are not replayed."""
    recorded = decision.inputs.get("thresholds", {})
    usable = {
        name: {**recorded[name], **limits}
        for name, limits in thresholds.items()
        if name in recorded and "stats" in decision.inputs
    }
    return [rule.rule for rule in judge(decision.inputs, usable)]
