"""Risk control's services (docs/architecture.md §5.13), one module per section:

``evaluation`` (the one ``evaluate`` every money- or points-moving action calls), ``lists`` (block and allow
lists), ``decisions`` (reading and replaying recorded decisions), ``dashboard`` (figures per day, top rules,
IPs and customers, the platform's cross-shop view), ``threshold_replay`` (a period's decisions under changed
thresholds), ``reviews`` (held orders, approve/reject, the expiry timer) and ``settings`` (per-shop
thresholds and outcomes).
"""

from __future__ import annotations

from souk_platform.risk.services.dashboard import risk_across_shops, risk_dashboard, shop_today
from souk_platform.risk.services.decisions import decision_view, decisions_stmt, get_decision, replay
from souk_platform.risk.services.evaluation import Decision, RiskFacts, evaluate, known_rule_names, shop_risk_settings
from souk_platform.risk.services.lists import (
    create_entry,
    delete_entry,
    entries_stmt,
    entry_view,
    get_entry,
    update_entry,
)
from souk_platform.risk.services.reviews import (
    approve_review,
    expire_due_reviews,
    get_review,
    open_review,
    reject_review,
    review_hold_until,
    review_view,
    reviews_stmt,
)
from souk_platform.risk.services.settings import risk_settings_view, update_risk_settings
from souk_platform.risk.services.threshold_replay import replay_period, replay_thresholds

__all__ = [
    "Decision",
    "RiskFacts",
    "approve_review",
    "create_entry",
    "decision_view",
    "decisions_stmt",
    "delete_entry",
    "entries_stmt",
    "entry_view",
    "evaluate",
    "expire_due_reviews",
    "get_decision",
    "get_entry",
    "get_review",
    "known_rule_names",
    "open_review",
    "reject_review",
    "replay",
    "replay_period",
    "replay_thresholds",
    "review_hold_until",
    "review_view",
    "reviews_stmt",
    "risk_across_shops",
    "risk_dashboard",
    "risk_settings_view",
    "shop_risk_settings",
    "shop_today",
    "update_entry",
    "update_risk_settings",
]
