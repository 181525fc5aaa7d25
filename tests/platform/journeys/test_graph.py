"""Every validation rule of a journey's graph names the bad node by its path (docs/architecture.md §5.12)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from souk_platform.journeys.graph import check_graph


def _base() -> dict[str, Any]:
    return {
        "entry": "start",
        "nodes": {
            "start": {
                "type": "trigger",
                "params": {
                    "kind": "event",
                    "event": "order.paid",
                    "filter": [{"path": "total", "op": "gte", "value": 50000}],
                },
                "next": {"default": "wait1"},
            },
            "wait1": {"type": "wait", "params": {"kind": "duration", "seconds": 3600}, "next": {"default": "cond"}},
            "cond": {
                "type": "condition",
                "params": {
                    "condition": {"op": "and", "conditions": [{"field": "orders_count", "cmp": "gte", "value": 2}]}
                },
                "next": {"yes": "split", "no": "end"},
            },
            "split": {
                "type": "split",
                "params": {"variants": [{"key": "a", "weight": 1}, {"key": "b", "weight": 3}], "holdout_percent": 10},
                "next": {"a": "points", "b": "end", "holdout": "end"},
            },
            "points": {
                "type": "action",
                "params": {"action": "award_points", "points": 100},
                "next": {"default": "end"},
            },
            "end": {"type": "exit", "params": {}, "next": {}},
        },
        "goal": {"event": "order.paid", "filter": [], "within_days": 7},
        "exit": [{"kind": "event", "event": "order.refunded"}],
        "settings": {"reentry": {"after_days": 30}, "quiet_hours": {"start": "22:00", "end": "08:00"}},
    }


def test_a_sound_graph_has_no_problems():
    assert check_graph(_base()) == {}


def _set(graph: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    target = graph
    for key in parents:
        target = target[key]
    if value is _DELETE:
        del target[last]
    else:
        target[last] = value


_DELETE = object()

CASES = [
    # params of each node type
    ("nodes.wait1.params.seconds", 0, "nodes.wait1.params.seconds"),
    ("nodes.wait1.params.seconds", "3600", "nodes.wait1.params.seconds"),
    ("nodes.wait1.params.kind", "forever", "nodes.wait1.params.kind"),
    ("nodes.wait1.params", {"kind": "time_of_day", "time": "25:00"}, "nodes.wait1.params.time"),
    ("nodes.wait1.params", {"kind": "date", "at": "2027-01-01T00:00:00"}, "nodes.wait1.params.at"),
    ("nodes.wait1.params.colour", "red", "nodes.wait1.params.colour"),
    ("nodes.start.params.event", "order.teleported", "nodes.start.params.event"),
    ("nodes.start.params", {"kind": "behaviour", "event": "order.paid"}, "nodes.start.params.event"),
    ("nodes.start.params.filter", [{"path": "total", "op": "approx", "value": 1}], "nodes.start.params.filter.0.op"),
    ("nodes.start.params.filter", [{"path": "Total!", "op": "eq", "value": 1}], "nodes.start.params.filter.0.path"),
    (
        "nodes.start.params.filter",
        [{"path": "total", "op": "gte", "value": "many"}],
        "nodes.start.params.filter.0.value",
    ),
    ("nodes.start.params", {"kind": "date", "attribute": "wedding"}, "nodes.start.params.attribute"),
    ("nodes.start.params", {"kind": "schedule", "segment_id": "seg_1", "at": "soon"}, "nodes.start.params.at"),
    ("nodes.start.params", {"kind": "segment_entered"}, "nodes.start.params.segment_id"),
    (
        "nodes.cond.params.condition",
        {"op": "and", "conditions": [{"field": "no_such_field", "cmp": "eq", "value": 1}]},
        "nodes.cond.params.condition.conditions.0.field",
    ),
    ("nodes.points.params.points", 0, "nodes.points.params.points"),
    ("nodes.points.params", {"action": "issue_coupon", "coupon_id": None}, "nodes.points.params.coupon_id"),
    ("nodes.points.params", {"action": "send_message", "channel_id": "c"}, "nodes.points.params.template_id"),
    ("nodes.points.params.action", "teleport", "nodes.points.params.action"),
    ("nodes.points.type", "magic", "nodes.points.type"),
    # split weights and the holdout
    (
        "nodes.split.params.variants",
        [{"key": "a", "weight": 0}, {"key": "b", "weight": 1}],
        "nodes.split.params.variants.0.weight",
    ),
    (
        "nodes.split.params.variants",
        [{"key": "a", "weight": 1}, {"key": "a", "weight": 1}],
        "nodes.split.params.variants.1.key",
    ),
    ("nodes.split.params.variants", [{"key": "holdout", "weight": 1}], "nodes.split.params.variants.0.key"),
    ("nodes.split.params.holdout_percent", 51, "nodes.split.params.holdout_percent"),
    ("nodes.split.params.holdout_percent", -1, "nodes.split.params.holdout_percent"),
    # exits wired
    ("nodes.cond.next", {"yes": "split"}, "nodes.cond.next.no"),
    ("nodes.split.next", {"a": "points", "b": "end"}, "nodes.split.next.holdout"),
    ("nodes.split.next", {"a": "points", "holdout": "end"}, "nodes.split.next.b"),
    ("nodes.wait1.params", {"kind": "event", "event": "order.paid", "timeout_seconds": 600}, "nodes.wait1.next.event"),
    ("nodes.wait1.next", {"default": "nowhere"}, "nodes.wait1.next.default"),
    ("nodes.wait1.next", {"default": "cond", "maybe": "end"}, "nodes.wait1.next.maybe"),
    ("nodes.wait1.next", {"default": "wait1"}, "nodes.wait1.next.default"),
    ("nodes.end.next", {"default": "start"}, "nodes.end.next"),
    ("nodes.points.next", {}, "nodes.points.next.default"),
    # the trigger and the entry
    ("entry", "wait1", "entry"),
    ("entry", "ghost", "entry"),
    (
        "nodes.other",
        {"type": "trigger", "params": {"kind": "event", "event": "order.paid"}, "next": {"default": "end"}},
        "nodes.other.type",
    ),
    ("nodes.points.next", {"default": "start"}, "nodes.points.next.default"),
    # reachability and every path ending
    ("nodes.lonely", {"type": "exit", "params": {}, "next": {}}, "nodes.lonely"),
    ("nodes.bad id!", {"type": "exit"}, "nodes.bad id!"),
    # goal, exit rules, settings
    ("goal.within_days", 0, "goal.within_days"),
    ("goal.event", "nope.never", "goal.event"),
    ("exit", [{"kind": "teleport"}], "exit.0.kind"),
    ("exit", [{"kind": "segment_left"}], "exit.0.segment_id"),
    ("settings.reentry", "sometimes", "settings.reentry"),
    ("settings.quiet_hours", {"start": "22:00"}, "settings.quiet_hours"),
    ("settings.frequency_cap", {"messages": 0, "days": 7}, "settings.frequency_cap"),
    ("colour", "blue", "colour"),
]


@pytest.mark.parametrize(("path", "value", "error"), CASES, ids=[c[2] + "=" + repr(c[1])[:20] for c in CASES])
def test_each_rule_names_its_path(path, value, error):
    graph = _base()
    _set(graph, path, value)
    errors = check_graph(graph)
    assert error in errors, errors


def test_a_loop_without_a_wait_is_refused_and_one_through_a_wait_is_not():
    graph = _base()
    graph["nodes"]["points"]["next"]["default"] = "cond"  # cond → split → points → cond: no wait on it
    errors = check_graph(graph)
    assert "nodes.points.next.default" in errors
    assert "loop" in errors["nodes.points.next.default"][0]
    graph = _base()
    graph["nodes"]["points"]["next"]["default"] = "wait1"  # wait1 → cond → split → points → wait1
    assert check_graph(graph) == {}


def test_a_path_that_never_ends_is_refused():
    graph = _base()
    graph["nodes"]["w2"] = {"type": "wait", "params": {"kind": "duration", "seconds": 60}, "next": {"default": "p2"}}
    graph["nodes"]["p2"] = {
        "type": "action",
        "params": {"action": "award_points", "points": 1},
        "next": {"default": "w2"},
    }
    graph["nodes"]["split"]["next"]["b"] = "w2"
    errors = check_graph(graph)
    assert "nodes.w2" in errors and "nodes.p2" in errors


def test_a_zero_holdout_needs_no_holdout_exit_and_an_event_wait_takes_both_exits():
    graph = _base()
    graph["nodes"]["split"]["params"]["holdout_percent"] = 0
    del graph["nodes"]["split"]["next"]["holdout"]
    assert check_graph(graph) == {}
    graph["nodes"]["wait1"] = {
        "type": "wait",
        "params": {"kind": "event", "event": "cart_added", "filter": [], "timeout_seconds": 600},
        "next": {"event": "cond", "timeout": "end"},
    }
    assert check_graph(graph) == {}


def test_more_than_one_problem_are_all_listed():
    graph = copy.deepcopy(_base())
    graph["nodes"]["wait1"]["params"]["seconds"] = 1
    del graph["nodes"]["cond"]["next"]["no"]
    errors = check_graph(graph)
    assert {"nodes.wait1.params.seconds", "nodes.cond.next.no"} <= set(errors)
