"""The built-in rules (docs/architecture.md §5.13): each fires at its threshold and not below; 0 turns it off."""

from __future__ import annotations

import pytest

from souk_platform.risk.rules import ACTIONS, RULES, judge, rule_thresholds
from souk_platform.shops.services import DEFAULT_SETTINGS


def _limits(rule: str, threshold: int, window: int = 60, outcome: str = "deny") -> dict[str, dict[str, object]]:
    return {rule: {"max": threshold, "window_minutes": window, "outcome": outcome}}


@pytest.mark.parametrize(
    "rule", ["customer_dense_orders", "ip_many_customers", "customer_many_ips", "device_many_customers"]
)
def test_a_count_rule_fires_past_what_it_allows_and_not_at_it(rule):
    at_limit = judge({"stats": {rule: 5}}, _limits(rule, 5))
    assert at_limit == []
    (fired,) = judge({"stats": {rule: 6}}, _limits(rule, 5, outcome="review"))
    assert (fired.rule, fired.outcome, fired.seen, fired.threshold, fired.window_minutes) == (rule, "review", 6, 5, 60)
    assert "6" in fired.reason and "limit 5" in fired.reason
    assert judge({"stats": {rule: 10_000}}, _limits(rule, 0)) == []  # 0: off


def test_new_account_high_value_fires_from_the_amount_for_young_accounts_only():
    rule = "new_account_high_value"
    limits = _limits(rule, 100_000, window=24 * 60, outcome="review")  # accounts younger than 24 h, from ¥1000
    young = {"account_age_minutes": 60}
    (fired,) = judge({**young, "stats": {rule: 100_000}}, limits)
    assert (fired.seen, fired.threshold, fired.outcome) == (100_000, 100_000, "review")
    assert "24 hours" in fired.reason
    assert judge({**young, "stats": {rule: 99_999}}, limits) == []  # below the amount
    assert judge({"account_age_minutes": 24 * 60, "stats": {rule: 500_000}}, limits) == []  # not new any more
    assert judge({"account_age_minutes": None, "stats": {rule: 500_000}}, limits) == []  # a guest has no account
    assert judge({**young, "stats": {rule: 500_000}}, _limits(rule, 0, window=24 * 60)) == []  # off


def test_checkout_runs_every_built_in_rule_and_the_defaults_cover_them():
    assert set(ACTIONS["checkout"].rules) == set(RULES)
    assert ACTIONS["checkout"].point == "order.validate"
    thresholds = rule_thresholds(DEFAULT_SETTINGS, ACTIONS["checkout"].rules)
    assert thresholds["customer_dense_orders"] == {"max": 20, "window_minutes": 60, "outcome": "deny"}
    assert thresholds["new_account_high_value"]["window_minutes"] == 24 * 60  # hours, in minutes


def test_a_recorded_decision_replays_under_other_thresholds():
    from souk_platform.risk.models import RiskDecision
    from souk_platform.risk.services import replay

    decision = RiskDecision(
        inputs={
            "stats": {"customer_dense_orders": 4, "ip_many_customers": 2},
            "thresholds": {
                "customer_dense_orders": {"max": 20, "window_minutes": 60, "outcome": "deny"},
                "ip_many_customers": {"max": 10, "window_minutes": 60, "outcome": "deny"},
            },
        }
    )
    assert replay(decision, {}) == []
    assert replay(decision, {"customer_dense_orders": {"max": 3}}) == ["customer_dense_orders"]
    assert replay(decision, {"customer_dense_orders": {"max": 4}, "ip_many_customers": {"max": 1}}) == [
        "ip_many_customers"
    ]
