"""Validating a journey's graph (docs/architecture.md §5.12).

``check_graph`` is pure Python over the JSON: every node's type and params, its exits wired to nodes that
exist, one trigger at the entry, every path ending at an exit node, no loop without a wait, split weights and
the holdout, conditions against the filter-field registry (§5.8), event types that exist. ``check_references``
then reads the session: every segment, coupon, benefit package, tag, message channel and template a node names
must be the shop's own and usable. Both answer ``{path: [message]}`` with paths such as
``nodes.wait1.params.seconds`` or ``nodes.cond.next.no``; ``validate`` runs both and ``require_valid`` raises the
one 422 that lists them all.

A missing reference (``null``) is how a template leaves a placeholder for the merchant to fill: it is reported
like any other error, so a draft made from a template lists exactly what is still to choose.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import marshmallow as ma
import sqlalchemy as sa

from souk_platform.audience.schemas import load_condition_group
from souk_platform.audience.services import check_references as check_condition_references
from souk_platform.behaviour.services import EVENT_TYPES as BEHAVIOUR_EVENT_TYPES
from souk_platform.benefits.models import BenefitPackage
from souk_platform.coupons.models import Coupon
from souk_platform.db import DbSession
from souk_platform.journeys.errors import InvalidGraph
from souk_platform.journeys.models import NODE_TYPES
from souk_platform.messaging.models import MessageChannel, MessageTemplate
from souk_platform.tags.errors import InvalidCondition
from souk_platform.tags.models import Segment, Tag
from souk_platform.webhooks.catalogue import is_known as is_catalogue_event

Errors = dict[str, list[str]]

MAX_NODES = 100
MAX_VARIANTS = 10
MAX_FILTERS = 10
MAX_EXIT_RULES = 10
MAX_SECONDS = 366 * 24 * 3600
MIN_SECONDS = 60
MAX_POINTS = 1_000_000
NODE_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")
VARIANT_KEY = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
FILTER_PATH = re.compile(r"^[a-z_][a-z0-9_]*(\.[a-z0-9_]+){0,7}$")
TIME_OF_DAY = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
FILTER_OPS = ("eq", "ne", "gt", "gte", "lt", "lte", "in", "not_in", "contains", "exists")
REPEATS = ("daily", "weekly", "monthly")
DATE_ATTRIBUTES = ("birthday", "member_since")
REENTRY = ("never", "after_exit")
GRAPH_KEYS = ("entry", "nodes", "goal", "exit", "settings")
NODE_KEYS = ("type", "params", "next", "position", "label")


@dataclasses.dataclass(frozen=True)
class Param:
    """One parameter of a node: its name, the kind of value it takes, and whether it must be given."""

    name: str
    kind: str
    required: bool = True


# type -> discriminator value ("" when the type has none) -> its parameters. Triggers and waits are told apart
# by ``kind``, actions by ``action`` (docs/architecture.md §5.12's table). Pages build their side forms from it.
DISCRIMINATOR = {"trigger": "kind", "wait": "kind", "action": "action"}
PARAMS: dict[str, dict[str, tuple[Param, ...]]] = {
    "trigger": {
        "event": (Param("event", "event"), Param("filter", "filter", False)),
        "behaviour": (Param("event", "behaviour_event"), Param("filter", "filter", False)),
        "segment_entered": (Param("segment_id", "segment"),),
        "date": (
            Param("attribute", "date_attribute"),
            Param("days_before", "days_before", False),
            Param("time", "time", False),
        ),
        "schedule": (Param("segment_id", "segment"), Param("at", "datetime"), Param("repeat", "repeat", False)),
    },
    "wait": {
        "duration": (Param("seconds", "seconds"),),
        "time_of_day": (Param("time", "time"),),
        "date": (Param("at", "datetime"),),
        "event": (
            Param("event", "any_event"),
            Param("filter", "filter", False),
            Param("timeout_seconds", "seconds"),
        ),
    },
    "condition": {"": (Param("condition", "condition"),)},
    "split": {"": (Param("variants", "variants"), Param("holdout_percent", "percent", False))},
    "action": {
        "issue_coupon": (Param("coupon_id", "coupon"),),
        "grant_benefit": (Param("package_id", "benefit_package"),),
        "award_points": (Param("points", "points"),),
        "add_tag": (Param("tag_id", "tag"),),
        "remove_tag": (Param("tag_id", "tag"),),
        "send_message": (Param("channel_id", "message_channel"), Param("template_id", "message_template")),
        "notify_apps": (Param("label", "label"),),
    },
    "exit": {"": ()},
}
# Parameter kinds that name a row of the shop (checked against the database by ``check_references``).
REFERENCE_KINDS = ("segment", "coupon", "benefit_package", "tag", "message_channel", "message_template")
_NOUN = {
    "segment": "segment",
    "coupon": "coupon",
    "benefit_package": "benefit package",
    "tag": "tag",
    "message_channel": "message channel",
    "message_template": "message template",
}


def exits_of(node: dict[str, Any]) -> tuple[str, ...]:
    """The exits a node must have wired, in display order: ``default``; ``event``/``timeout``; ``yes``/``no``;
    a split's variant keys then ``holdout`` (when its holdout is above 0 %); none for an exit node."""
    kind = node.get("type")
    params = object_at(node, "params")
    if kind == "exit":
        return ()
    if kind == "condition":
        return ("yes", "no")
    if kind == "wait" and params.get("kind") == "event":
        return ("event", "timeout")
    if kind == "split":
        variants = params["variants"] if isinstance(params.get("variants"), list) else []
        keys = tuple(v["key"] for v in variants if isinstance(v, dict) and isinstance(v.get("key"), str))
        holdout = params.get("holdout_percent") or 0
        return (*keys, "holdout") if _is_number(holdout) and holdout > 0 else keys
    return ("default",)


def allowed_exits(node: dict[str, Any]) -> tuple[str, ...]:
    """The exits a node may have: the required ones, and a split's ``holdout`` even at 0 %."""
    required = exits_of(node)
    if node.get("type") == "split" and "holdout" not in required:
        return (*required, "holdout")
    return required


def object_at(holder: Any, key: str) -> dict[str, Any]:
    """``holder[key]`` when both are objects, else ``{}`` (a draft's graph may be half-made)."""
    value = holder.get(key) if isinstance(holder, dict) else None
    return value if isinstance(value, dict) else {}


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


# ---- values ----


def _check_filter(value: Any) -> list[str] | dict[str, Any]:
    """A filter on an event's data: ``[{path, op, value}]``; ``{}`` when it is fine, else messages."""
    if value is None:
        return {}
    if not isinstance(value, list) or len(value) > MAX_FILTERS:
        return [f"A list of at most {MAX_FILTERS} tests {{path, op, value}} on the event's data."]
    errors: dict[str, Any] = {}
    for index, test in enumerate(value):
        if not isinstance(test, dict) or set(test) - {"path", "op", "value"}:
            errors[str(index)] = ["Each test is {path, op, value}."]
            continue
        if not isinstance(test.get("path"), str) or not FILTER_PATH.match(test["path"]):
            errors[f"{index}.path"] = ["A dotted path into the event's data, like total or order.total."]
        op = test.get("op")
        if op not in FILTER_OPS:
            errors[f"{index}.op"] = [f"One of: {', '.join(FILTER_OPS)}."]
        elif op in ("in", "not_in"):
            if not isinstance(test.get("value"), list) or not 1 <= len(test["value"]) <= 100:
                errors[f"{index}.value"] = ["A list of 1 to 100 values."]
        elif op == "exists":
            if not isinstance(test.get("value"), bool):
                errors[f"{index}.value"] = ["true or false."]
        elif op in ("gt", "gte", "lt", "lte"):
            if not _is_number(test.get("value")):
                errors[f"{index}.value"] = ["A number (money in fen)."]
        elif not isinstance(test.get("value"), str | int | float | bool) or test.get("value") is None:
            errors[f"{index}.value"] = ["A string, number or true/false."]
    return errors


def _check_datetime(value: Any) -> bool:
    try:
        when = dt.datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return False
    return when is not None and when.tzinfo is not None


def _check_variants(value: Any) -> list[str] | dict[str, Any]:
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_VARIANTS:
        return [f"A list of 1 to {MAX_VARIANTS} variants {{key, weight}}."]
    errors: dict[str, Any] = {}
    seen: set[str] = set()
    for index, variant in enumerate(value):
        if not isinstance(variant, dict) or set(variant) - {"key", "weight", "label"}:
            errors[str(index)] = ["Each variant is {key, weight}."]
            continue
        key = variant.get("key")
        if not isinstance(key, str) or not VARIANT_KEY.match(key) or key in ("holdout", "default"):
            errors[f"{index}.key"] = ["A short key like a or b: lower-case letters, digits and _; not holdout."]
        elif key in seen:
            errors[f"{index}.key"] = ["Each variant has its own key."]
        else:
            seen.add(key)
        if not _is_int(variant.get("weight")) or not 1 <= variant["weight"] <= 1000:
            errors[f"{index}.weight"] = ["A positive whole weight, 1 to 1000."]
    return errors


def check_value(kind: str, value: Any) -> list[str] | dict[str, Any]:
    """Messages about one parameter's value (``{sub-path: messages}`` for structured values); empty when fine.

    References are only checked for shape here; ``check_references`` looks them up."""
    if kind in REFERENCE_KINDS:
        if value is None or value == "":
            return [f"Choose a {_NOUN[kind]} of this shop."]
        return [] if isinstance(value, str) and len(value) <= 64 else [f"A {_NOUN[kind]} id."]
    if kind == "event":
        if isinstance(value, str) and is_catalogue_event(value):
            return []
        return ["An event type of the webhook catalogue, like order.paid."]
    if kind == "behaviour_event":
        if value in BEHAVIOUR_EVENT_TYPES:
            return []
        return [f"A behaviour event type: {', '.join(BEHAVIOUR_EVENT_TYPES)}."]
    if kind == "any_event":
        if isinstance(value, str) and (is_catalogue_event(value) or value in BEHAVIOUR_EVENT_TYPES):
            return []
        return ["An event type of the webhook catalogue (order.paid) or a behaviour event type (cart_added)."]
    if kind == "filter":
        return _check_filter(value)
    if kind == "seconds":
        if _is_int(value) and MIN_SECONDS <= value <= MAX_SECONDS:
            return []
        return [f"A whole number of seconds from {MIN_SECONDS} (a minute) to {MAX_SECONDS} (a year)."]
    if kind == "time":
        return [] if isinstance(value, str) and TIME_OF_DAY.match(value) else ["A time of day like 09:00."]
    if kind == "datetime":
        return [] if _check_datetime(value) else ["An RFC 3339 time with a timezone, like 2027-01-01T09:00:00+08:00."]
    if kind == "date_attribute":
        return [] if value in DATE_ATTRIBUTES else [f"One of: {', '.join(DATE_ATTRIBUTES)}."]
    if kind == "days_before":
        return [] if _is_int(value) and 0 <= value <= 60 else ["Days before the date, 0 to 60."]
    if kind == "repeat":
        return [] if value is None or value in REPEATS else [f"null (once) or one of: {', '.join(REPEATS)}."]
    if kind == "condition":
        try:
            load_condition_group(value)
        except ma.ValidationError as err:
            return err.messages if isinstance(err.messages, dict) else list(err.messages)
        return []
    if kind == "variants":
        return _check_variants(value)
    if kind == "percent":
        return [] if _is_number(value) and 0 <= value <= 50 else ["The holdout, 0 to 50 percent of customers."]
    if kind == "points":
        return [] if _is_int(value) and 1 <= value <= MAX_POINTS else [f"Points to award, 1 to {MAX_POINTS}."]
    if kind == "label":
        return [] if isinstance(value, str) and 1 <= len(value.strip()) <= 64 else ["Text of 1 to 64 characters."]
    raise ValueError(f"unknown parameter kind {kind!r}")


def _flatten(errors: Errors, prefix: str, found: list[str] | dict[str, Any]) -> None:
    """Put nested messages under dotted paths."""
    if isinstance(found, dict):
        for key, inner in found.items():
            _flatten(errors, f"{prefix}.{key}", inner)
    elif found:
        errors.setdefault(prefix, []).extend(str(m) for m in found)


# ---- nodes ----


def params_of(node: dict[str, Any]) -> tuple[Param, ...] | None:
    """The parameters a node's type (and kind or action) takes; None when the discriminator is unknown."""
    node_type = node.get("type")
    by_kind = PARAMS.get(node_type, {}) if isinstance(node_type, str) else {}
    field = DISCRIMINATOR.get(node_type) if isinstance(node_type, str) else None
    params = object_at(node, "params")
    key = params.get(field) if field else ""
    return by_kind.get(key) if isinstance(key, str) else None


def _check_params(node_id: str, node: dict[str, Any], errors: Errors) -> None:
    at = f"nodes.{node_id}.params"
    params = node.get("params", {})
    if not isinstance(params, dict):
        errors[at] = ["An object of parameters."]
        return
    field = DISCRIMINATOR.get(node["type"])
    spec = params_of(node)
    if spec is None:
        choices = ", ".join(PARAMS[node["type"]])
        errors[f"{at}.{field}"] = [f"One of: {choices}."]
        return
    names = {p.name for p in spec} | ({field} if field else set())
    for extra in sorted(set(params) - names):
        errors[f"{at}.{extra}"] = ["Unknown parameter for this node."]
    for param in spec:
        if param.name not in params or params[param.name] is None:
            if param.required:
                message = check_value(param.kind, None) if param.kind in REFERENCE_KINDS else ["Required."]
                _flatten(errors, f"{at}.{param.name}", message)
            continue
        _flatten(errors, f"{at}.{param.name}", check_value(param.kind, params[param.name]))


def _check_node(node_id: str, node: Any, ids: set[str], errors: Errors) -> bool:
    """Check one node's shape, params and exits; True when its shape is sound enough to walk."""
    at = f"nodes.{node_id}"
    if not NODE_ID.match(node_id):
        errors[at] = ["A node id is 1 to 64 letters, digits, _ or -, starting with a letter."]
        return False
    if not isinstance(node, dict):
        errors[at] = ['A node is {"type", "params", "next", "position"}.']
        return False
    for extra in sorted(set(node) - set(NODE_KEYS)):
        errors[f"{at}.{extra}"] = ["Unknown field."]
    if node.get("type") not in NODE_TYPES:
        errors[f"{at}.type"] = [f"One of: {', '.join(NODE_TYPES)}."]
        return False
    _check_params(node_id, node, errors)
    label = node.get("label")
    if label is not None and (not isinstance(label, str) or len(label) > 64):
        errors[f"{at}.label"] = ["Text of at most 64 characters."]
    position = node.get("position")
    if position is not None and (
        not isinstance(position, dict)
        or set(position) != {"x", "y"}
        or not all(_is_number(v) and -100_000 <= v <= 100_000 for v in position.values())
    ):
        errors[f"{at}.position"] = ["{x, y}: two numbers."]
    nxt = node.get("next", {})
    if not isinstance(nxt, dict):
        errors[f"{at}.next"] = ["An object mapping each exit to the next node's id."]
        return False
    if node["type"] == "exit":
        if nxt:
            errors[f"{at}.next"] = ["An exit node leads nowhere."]
        return True
    allowed = allowed_exits(node)
    for name, target in nxt.items():
        if name not in allowed:
            errors[f"{at}.next.{name}"] = [f"This node has no exit {name}; its exits are: {', '.join(allowed)}."]
        elif not isinstance(target, str) or target not in ids:
            errors[f"{at}.next.{name}"] = ["Leads to a node that does not exist."]
        elif target == node_id:
            errors[f"{at}.next.{name}"] = ["A node cannot lead to itself."]
    for name in exits_of(node):
        if name not in nxt:
            errors[f"{at}.next.{name}"] = [f"Connect the {name} exit to a node."]
    return True


def _edges(nodes: dict[str, Any]) -> dict[str, list[tuple[str, str]]]:
    """``node -> [(exit, target)]`` over the well-formed links only."""
    edges: dict[str, list[tuple[str, str]]] = {}
    for node_id, node in nodes.items():
        nxt = node.get("next") if isinstance(node, dict) else None
        edges[node_id] = [
            (name, target)
            for name, target in (nxt.items() if isinstance(nxt, dict) else ())
            if isinstance(target, str) and target in nodes and target != node_id
        ]
    return edges


def _loop_without_wait(nodes: dict[str, Any], edges: dict[str, list[tuple[str, str]]]) -> tuple[str, str] | None:
    """A back edge ``(node, exit)`` closing a loop with no wait node on it, or None."""
    waits = {n for n, node in nodes.items() if node.get("type") == "wait"}
    colour: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(start: str) -> tuple[str, str] | None:
        stack: list[tuple[str, Iterator[tuple[str, str]]]] = [(start, iter(edges[start]))]
        colour[start] = 1
        while stack:
            node_id, children = stack[-1]
            for name, target in children:
                if target in waits:
                    continue
                if colour.get(target) == 1:
                    return node_id, name
                if target not in colour:
                    colour[target] = 1
                    stack.append((target, iter(edges[target])))
                    break
            else:
                colour[node_id] = 2
                stack.pop()
        return None

    for node_id in nodes:
        if node_id not in waits and node_id not in colour:
            found = visit(node_id)
            if found:
                return found
    return None


def _walk(edges: dict[str, list[tuple[str, str]]], start: set[str]) -> set[str]:
    seen = set(start)
    todo = list(start)
    while todo:
        for _name, target in edges[todo.pop()]:
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


def _check_paths(graph: dict[str, Any], nodes: dict[str, Any], errors: Errors) -> None:
    """The entry, the one trigger, reachability, every path ending at an exit, loops only through a wait."""
    triggers = [n for n, node in nodes.items() if node.get("type") == "trigger"]
    entry = graph.get("entry")
    if not isinstance(entry, str) or entry not in nodes:
        errors["entry"] = ["Name the trigger node customers enter by."]
    elif nodes[entry].get("type") != "trigger":
        errors["entry"] = ["The entry must be the trigger node."]
    if not triggers:
        errors.setdefault("entry", []).append("A journey starts with one trigger node.")
    for extra in triggers[1:] if entry not in triggers[1:] else [t for t in triggers if t != entry]:
        errors.setdefault(f"nodes.{extra}.type", []).append("A journey has exactly one trigger.")
    edges = _edges(nodes)
    for node_id, links in edges.items():
        for name, target in links:
            if target in triggers:
                errors.setdefault(f"nodes.{node_id}.next.{name}", []).append("Nothing leads back to the trigger.")
    loop = _loop_without_wait(nodes, edges)
    if loop:
        node_id, name = loop
        errors.setdefault(f"nodes.{node_id}.next.{name}", []).append(
            "This link closes a loop with no wait node on it: a customer would go round it at once, forever."
        )
    if any(".next" in path for path in errors):
        return  # an exit left unwired explains the paths that would not end; name it alone
    if isinstance(entry, str) and entry in nodes:
        reached = _walk(edges, {entry})
        for node_id in nodes:
            if node_id not in reached:
                errors.setdefault(f"nodes.{node_id}", []).append("No path from the trigger reaches this node.")
    reverse: dict[str, list[tuple[str, str]]] = {n: [] for n in nodes}
    for node_id, links in edges.items():
        for name, target in links:
            reverse[target].append((name, node_id))
    ending = _walk(reverse, {n for n, node in nodes.items() if node.get("type") == "exit"})
    for node_id in nodes:
        if node_id not in ending:
            errors.setdefault(f"nodes.{node_id}", []).append("No path from this node ends at an exit node.")


# ---- goal, exit rules, settings ----


def _check_event_rule(at: str, rule: dict[str, Any], errors: Errors, keys: set[str]) -> None:
    for extra in sorted(set(rule) - keys):
        errors[f"{at}.{extra}"] = ["Unknown field."]
    _flatten(errors, f"{at}.event", check_value("any_event", rule.get("event")))
    _flatten(errors, f"{at}.filter", check_value("filter", rule.get("filter")))


def _check_extras(graph: dict[str, Any], errors: Errors) -> None:
    goal = graph.get("goal")
    if goal is not None:
        if not isinstance(goal, dict):
            errors["goal"] = ["null, or {event, filter, within_days}."]
        else:
            _check_event_rule("goal", goal, errors, {"event", "filter", "within_days"})
            if not _is_int(goal.get("within_days")) or not 1 <= goal["within_days"] <= 365:
                errors["goal.within_days"] = ["Days after entering, 1 to 365."]
    rules = graph.get("exit", [])
    if rules is None:
        rules = []
    if not isinstance(rules, list) or len(rules) > MAX_EXIT_RULES:
        errors["exit"] = [f"A list of at most {MAX_EXIT_RULES} exit rules."]
        rules = []
    for index, rule in enumerate(rules):
        at = f"exit.{index}"
        kind = rule.get("kind") if isinstance(rule, dict) else None
        if kind == "event":
            _check_event_rule(at, rule, errors, {"kind", "event", "filter"})
        elif kind == "segment_left":
            for extra in sorted(set(rule) - {"kind", "segment_id"}):
                errors[f"{at}.{extra}"] = ["Unknown field."]
            _flatten(errors, f"{at}.segment_id", check_value("segment", rule.get("segment_id")))
        else:
            errors[f"{at}.kind"] = ["event or segment_left."]
    settings = graph.get("settings", {})
    if settings is None:
        settings = {}
    if not isinstance(settings, dict):
        errors["settings"] = ["An object: {reentry, quiet_hours, frequency_cap}."]
        return
    for extra in sorted(set(settings) - {"reentry", "quiet_hours", "frequency_cap"}):
        errors[f"settings.{extra}"] = ["Unknown setting."]
    reentry = settings.get("reentry", "never")
    if reentry not in REENTRY and not (
        isinstance(reentry, dict)
        and set(reentry) == {"after_days"}
        and _is_int(reentry["after_days"])
        and 1 <= reentry["after_days"] <= 3650
    ):
        errors["settings.reentry"] = ['never, after_exit, or {"after_days": 1 to 3650}.']
    quiet = settings.get("quiet_hours")
    if quiet is not None and not (
        isinstance(quiet, dict)
        and set(quiet) == {"start", "end"}
        and all(isinstance(v, str) and TIME_OF_DAY.match(v) for v in quiet.values())
        and quiet["start"] != quiet["end"]
    ):
        errors["settings.quiet_hours"] = ['null, or {"start": "22:00", "end": "08:00"} in the shop\'s timezone.']
    cap = settings.get("frequency_cap")
    if cap is not None and not (
        isinstance(cap, dict)
        and set(cap) == {"messages", "days"}
        and _is_int(cap["messages"])
        and 1 <= cap["messages"] <= 100
        and _is_int(cap["days"])
        and 1 <= cap["days"] <= 365
    ):
        errors["settings.frequency_cap"] = ['null, or {"messages": 1–100, "days": 1–365} per customer and channel.']


# ---- the whole graph ----


def check_graph(graph: Any) -> Errors:
    """Every rule that needs no database; ``{path: [message]}``, empty when the graph is sound."""
    errors: Errors = {}
    if not isinstance(graph, dict):
        return {"graph": ['A graph is {"entry", "nodes", "goal", "exit", "settings"}.']}
    for extra in sorted(set(graph) - set(GRAPH_KEYS)):
        errors[extra] = ["Unknown field."]
    nodes = graph.get("nodes")
    if not isinstance(nodes, dict) or not 1 <= len(nodes) <= MAX_NODES:
        errors["nodes"] = [f"An object of 1 to {MAX_NODES} nodes by id."]
        return errors
    ids = set(nodes)
    sound = [_check_node(node_id, node, ids, errors) for node_id, node in nodes.items()]
    _check_extras(graph, errors)
    if all(sound):
        _check_paths(graph, nodes, errors)
    return errors


def references(graph: dict[str, Any]) -> Iterator[tuple[str, str, str]]:
    """Every ``(path, kind, id)`` a well-formed graph names: its nodes' references and its exit rules' segments."""
    for node_id, node in object_at(graph, "nodes").items():
        spec = params_of(node) if isinstance(node, dict) else None
        params = node.get("params") if isinstance(node, dict) else None
        if not spec or not isinstance(params, dict):
            continue
        for param in spec:
            value = params.get(param.name)
            if param.kind in REFERENCE_KINDS and isinstance(value, str) and value:
                yield f"nodes.{node_id}.params.{param.name}", param.kind, value
    rules = graph.get("exit")
    for index, rule in enumerate(rules if isinstance(rules, list) else []):
        if isinstance(rule, dict) and isinstance(rule.get("segment_id"), str):
            yield f"exit.{index}.segment_id", "segment", rule["segment_id"]


def _check_messaging(
    session: DbSession,
    shop_id: str,
    graph: dict[str, Any],
    wanted: dict[str, set[str]],
    problems: dict[tuple[str, str], str],
    errors: Errors,
) -> None:
    """The shop's active message channel and a template written for that channel's kind (§5.11)."""
    channel_kinds: dict[str, str] = {}
    if wanted.get("message_channel"):
        rows = session.execute(
            sa.select(MessageChannel.id, MessageChannel.kind, MessageChannel.status).where(
                MessageChannel.shop_id == shop_id, MessageChannel.id.in_(wanted["message_channel"])
            )
        ).all()
        channel_kinds = {r.id: r.kind for r in rows if r.status == "active"}
        known = {r.id for r in rows}
        for value in wanted["message_channel"] - set(channel_kinds):
            problems[("message_channel", value)] = (
                "The message channel is disabled." if value in known else "No message channel of this shop has this id."
            )
    template_kinds: dict[str, str] = {}
    if wanted.get("message_template"):
        template_kinds = dict(
            session.execute(
                sa.select(MessageTemplate.id, MessageTemplate.channel_kind).where(
                    MessageTemplate.shop_id == shop_id, MessageTemplate.id.in_(wanted["message_template"])
                )
            ).all()
        )
        for value in wanted["message_template"] - set(template_kinds):
            problems[("message_template", value)] = "No message template of this shop has this id."
    for node_id, node in object_at(graph, "nodes").items():
        params = object_at(node, "params")
        channel, template = params.get("channel_id"), params.get("template_id")
        if (
            channel in channel_kinds
            and template in template_kinds
            and channel_kinds[channel] != template_kinds[template]
        ):
            errors.setdefault(f"nodes.{node_id}.params.template_id", []).append(
                f"This template is written for {template_kinds[template]} messages, "
                f"not this {channel_kinds[channel]} channel."
            )


def check_references(session: DbSession, *, shop_id: str, graph: dict[str, Any]) -> Errors:
    """Everything the graph names must be the shop's own and usable: a segment, an *issued* active coupon, an
    active benefit package, a tag customers can be given by hand (not a rule tag), the shop's message channel and
    template, and whatever each condition names (§5.8)."""
    errors: Errors = {}
    refs = list(references(graph))
    wanted: dict[str, set[str]] = {}
    for _path, kind, value in refs:
        wanted.setdefault(kind, set()).add(value)
    problems: dict[tuple[str, str], str] = {}
    if wanted.get("segment"):
        found = set(
            session.scalars(sa.select(Segment.id).where(Segment.shop_id == shop_id, Segment.id.in_(wanted["segment"])))
        )
        problems.update({("segment", v): "No segment of this shop has this id." for v in wanted["segment"] - found})
    if wanted.get("coupon"):
        rows = session.execute(
            sa.select(Coupon.id, Coupon.distribution, Coupon.status).where(
                Coupon.shop_id == shop_id, Coupon.id.in_(wanted["coupon"])
            )
        ).all()
        usable = {r.id for r in rows if r.distribution == "issued" and r.status == "active"}
        for value in wanted["coupon"] - usable:
            known = value in {r.id for r in rows}
            problems[("coupon", value)] = (
                "Only an active issued coupon (one that lives in wallets) can be given."
                if known
                else "No coupon of this shop has this id."
            )
    if wanted.get("benefit_package"):
        packages = session.execute(
            sa.select(BenefitPackage.id, BenefitPackage.status).where(
                BenefitPackage.shop_id == shop_id, BenefitPackage.id.in_(wanted["benefit_package"])
            )
        ).all()
        status = {r.id: r.status for r in packages}
        for value in wanted["benefit_package"]:
            if value not in status:
                problems[("benefit_package", value)] = "No benefit package of this shop has this id."
            elif status[value] != "active":
                problems[("benefit_package", value)] = "The benefit package is disabled."
    if wanted.get("tag"):
        kinds = dict(
            session.execute(sa.select(Tag.id, Tag.kind).where(Tag.shop_id == shop_id, Tag.id.in_(wanted["tag"]))).all()
        )
        for value in wanted["tag"]:
            if value not in kinds:
                problems[("tag", value)] = "No tag of this shop has this id."
            elif kinds[value] == "rule":
                problems[("tag", value)] = "A rule tag follows its condition: it cannot be given or taken by hand."
    if wanted.get("message_channel") or wanted.get("message_template"):
        _check_messaging(session, shop_id, graph, wanted, problems, errors)
    for path, kind, value in refs:
        if (kind, value) in problems:
            errors.setdefault(path, []).append(problems[(kind, value)])
    for node_id, node in object_at(graph, "nodes").items():
        condition = object_at(node, "params").get("condition") if node.get("type") == "condition" else None
        if not isinstance(condition, dict):
            continue
        try:
            check_condition_references(session, shop_id=shop_id, condition=load_condition_group(condition))
        except ma.ValidationError:
            continue  # check_graph has reported it
        except InvalidCondition as refused:
            for path, messages in (refused.errors or {}).items():
                errors.setdefault(f"nodes.{node_id}.params.{path}", []).extend(messages)
    return errors


def validate(session: DbSession, *, shop_id: str, graph: Any) -> Errors:
    """Every problem with ``graph`` for this shop: its rules, then (when its shape allows) its references."""
    errors = check_graph(graph)
    if isinstance(graph, dict) and isinstance(graph.get("nodes"), dict):
        nodes_sound = all(
            isinstance(n, dict) and isinstance(n.get("params", {}), dict) for n in graph["nodes"].values()
        )
        if nodes_sound:
            for path, messages in check_references(session, shop_id=shop_id, graph=graph).items():
                errors.setdefault(path, []).extend(messages)
    return dict(sorted(errors.items()))


def require_valid(session: DbSession, *, shop_id: str, graph: Any, doing: str) -> None:
    """Raise the one 422 naming every bad node when ``graph`` is not valid; ``doing`` says what needed it."""
    errors = validate(session, shop_id=shop_id, graph=graph)
    if errors:
        nodes = sorted({path.split(".")[1] for path in errors if path.startswith("nodes.") and path.count(".")})
        where = f" (nodes: {', '.join(nodes)})" if nodes else ""
        raise InvalidGraph(f"{doing} needs a valid graph; {len(errors)} problems{where}.", errors=errors)
