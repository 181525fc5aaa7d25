"""Reading a frozen graph for the engine: which events it listens to, event filters, the next node.

Plain Python over the graph JSON of docs/architecture.md §5.12 (validated on save by the definitions); the
engine reads defensively all the same, so a node it cannot follow ends the enrolment rather than a job.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

Graph = Mapping[str, Any]

# Roles an event type can play in a graph: it enrols (trigger), wakes a wait, converts (goal) or takes out (exit).
ROLES = ("trigger", "wait", "goal", "exit")


def nodes(graph: Graph) -> Mapping[str, Any]:
    found = graph.get("nodes")
    return found if isinstance(found, Mapping) else {}


def node(graph: Graph, node_id: str) -> Mapping[str, Any] | None:
    found = nodes(graph).get(node_id)
    return found if isinstance(found, Mapping) else None


def params(node_: Mapping[str, Any]) -> Mapping[str, Any]:
    found = node_.get("params")
    return found if isinstance(found, Mapping) else {}


def next_node(node_: Mapping[str, Any], exit_name: str) -> str | None:
    """The node an exit leads to; None ends the enrolment (an exit node, or an exit left unconnected)."""
    targets = node_.get("next")
    if not isinstance(targets, Mapping):
        return None
    target = targets.get(exit_name)
    return target if isinstance(target, str) else None


def entry_trigger(graph: Graph) -> Mapping[str, Any]:
    """The params of the entry node when it is a trigger, else ``{}``."""
    entry = node(graph, str(graph.get("entry") or ""))
    return params(entry) if entry is not None and entry.get("type") == "trigger" else {}


def goal(graph: Graph) -> Mapping[str, Any] | None:
    found = graph.get("goal")
    return found if isinstance(found, Mapping) and found.get("event") else None


def exit_rules(graph: Graph) -> list[Mapping[str, Any]]:
    found = graph.get("exit")
    return [rule for rule in found if isinstance(rule, Mapping)] if isinstance(found, list) else []


def settings(graph: Graph) -> Mapping[str, Any]:
    """The graph's ``settings`` (reentry, quiet_hours, frequency_cap), ``{}`` when absent."""
    found = graph.get("settings")
    return found if isinstance(found, Mapping) else {}


def reentry(graph: Graph) -> Any:
    return settings(graph).get("reentry", "never")


def listened(graph: Graph) -> frozenset[tuple[str, str]]:
    """Every ``(role, event type)`` the graph reacts to. Behaviour types (``cart_added``) have no dot; outbox
    types (``order.paid``) have one, so one name space serves both sources."""
    found: set[tuple[str, str]] = set()
    trigger = entry_trigger(graph)
    if trigger.get("kind") in ("event", "behaviour") and trigger.get("event"):
        found.add(("trigger", str(trigger["event"])))
    for node_ in nodes(graph).values():
        if isinstance(node_, Mapping) and node_.get("type") == "wait":
            wait = params(node_)
            if wait.get("kind") == "event" and wait.get("event"):
                found.add(("wait", str(wait["event"])))
    goal_ = goal(graph)
    if goal_:
        found.add(("goal", str(goal_["event"])))
    for rule in exit_rules(graph):
        if rule.get("kind") == "event" and rule.get("event"):
            found.add(("exit", str(rule["event"])))
    return frozenset(found)


def listened_types(graphs: Iterable[Graph]) -> set[str]:
    return {event_type for graph in graphs for _, event_type in listened(graph)}


# --- event filters: [{path, op, value}] over an event's data, all must hold ---

_MISSING = object()


def _lookup(data: Any, path: str) -> Any:
    current = data
    for part in str(path).split("."):
        if isinstance(current, Mapping) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            return _MISSING
    return current


def _compare(op: str, actual: Any, value: Any) -> bool:
    if op == "exists":
        return (actual is not _MISSING) == bool(value if value is not None else True)
    if actual is _MISSING:
        return op in ("ne", "not_in")
    try:
        if op == "eq":
            return bool(actual == value)
        if op == "ne":
            return bool(actual != value)
        if op == "gt":
            return bool(actual > value)
        if op == "gte":
            return bool(actual >= value)
        if op == "lt":
            return bool(actual < value)
        if op == "lte":
            return bool(actual <= value)
        if op == "in":
            return isinstance(value, list) and actual in value
        if op == "not_in":
            return isinstance(value, list) and actual not in value
        if op == "contains":
            return isinstance(actual, (list, str)) and value in actual
    except TypeError:  # a number compared with a string: the event does not match
        return False
    return False


FILTER_OPS = ("eq", "ne", "gt", "gte", "lt", "lte", "in", "not_in", "contains", "exists")


def matches(filters: Any, data: Mapping[str, Any]) -> bool:
    """True when every ``{path, op, value}`` holds on ``data`` (an empty or missing filter matches)."""
    if not isinstance(filters, list):
        return True
    for clause in filters:
        if not isinstance(clause, Mapping):
            return False
        if not _compare(str(clause.get("op", "eq")), _lookup(data, str(clause.get("path", ""))), clause.get("value")):
            return False
    return True


def event_customer(payload: Mapping[str, Any], subject_type: str, subject_id: str) -> str | None:
    """The customer an outbox event is about: its data's ``customer_id``, or the subject when it is a customer."""
    customer = payload.get("customer_id")
    if isinstance(customer, str) and customer:
        return customer
    return subject_id if subject_type == "customer" else None


def event_revenue(payload: Mapping[str, Any]) -> int:
    """What a goal event's order was worth, fen: the order's ``total`` (0 for events without one)."""
    total = payload.get("total")
    return int(total) if isinstance(total, int) and not isinstance(total, bool) else 0


def parse_time(value: Any) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
