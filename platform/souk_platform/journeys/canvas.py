"""Edits the canvas makes to a graph, and where each node is drawn (docs/architecture.md §5.12, §14).

Plain functions over the graph's JSON that return a new graph; the page saves the result through
``services.update_journey`` like any other change, so the same validation and ``If-Match`` apply.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from souk_platform.journeys.graph import DISCRIMINATOR, PARAMS, exits_of, object_at

# What "add a node" offers: "type" or "type:kind", with the parameters a new node starts with (references
# empty, for the merchant to choose in the side form).
NEW_NODES: dict[str, dict[str, Any]] = {
    "wait:duration": {"kind": "duration", "seconds": 86400},
    "wait:time_of_day": {"kind": "time_of_day", "time": "09:00"},
    "wait:event": {"kind": "event", "event": "order.paid", "filter": [], "timeout_seconds": 86400},
    "condition": {"condition": {"op": "and", "conditions": [{"field": "orders_count", "cmp": "gte", "value": 1}]}},
    "split": {"variants": [{"key": "a", "weight": 50}, {"key": "b", "weight": 50}], "holdout_percent": 0},
    "action:issue_coupon": {"action": "issue_coupon", "coupon_id": None},
    "action:grant_benefit": {"action": "grant_benefit", "package_id": None},
    "action:award_points": {"action": "award_points", "points": 100},
    "action:add_tag": {"action": "add_tag", "tag_id": None},
    "action:remove_tag": {"action": "remove_tag", "tag_id": None},
    "action:send_message": {"action": "send_message", "channel_id": None, "template_id": None},
    "action:notify_apps": {"action": "notify_apps", "label": "journey"},
    "exit": {},
}
STEP_Y = 120


class CanvasEditError(ValueError):
    """An edit the canvas cannot make (an unknown node, the trigger deleted); the message says why."""


def _new_id(graph: dict[str, Any], kind: str) -> str:
    base = re.sub(r"[^a-z]", "", kind.split(":")[-1])[:12] or "node"
    number = 1
    while f"{base}{number}" in graph["nodes"]:
        number += 1
    return f"{base}{number}"


def new_node(choice: str) -> dict[str, Any]:
    """A fresh node for an entry of ``NEW_NODES``."""
    if choice not in NEW_NODES:
        raise CanvasEditError(f"Unknown node kind {choice}.")
    node_type = choice.split(":")[0]
    return {"type": node_type, "params": copy.deepcopy(NEW_NODES[choice]), "next": {}}


def insert_after(graph: dict[str, Any], node_id: str, exit_name: str, choice: str) -> tuple[dict[str, Any], str]:
    """Put a new node on ``node_id``'s exit ``exit_name``: the exit leads to it, and its first exit leads on to
    where the exit led before. Returns the new graph and the new node's id."""
    graph = copy.deepcopy(graph)
    node = graph["nodes"].get(node_id)
    if node is None:
        raise CanvasEditError(f"No node {node_id}.")
    if node.get("type") == "exit":
        raise CanvasEditError("An exit node leads nowhere: add the node before it.")
    added = new_node(choice)
    new_id = _new_id(graph, choice)
    following = node.setdefault("next", {}).get(exit_name)
    first = next(iter(exits_of(added)), None)
    if following and first:
        added["next"][first] = following
    position = node.get("position") or {"x": 0, "y": 0}
    added["position"] = {"x": position["x"], "y": position["y"] + STEP_Y}
    graph["nodes"][new_id] = added
    node["next"][exit_name] = new_id
    if following:
        _shift_down(graph, following, {new_id, node_id})
    return graph, new_id


def _shift_down(graph: dict[str, Any], start: str, skip: set[str]) -> None:
    """Move ``start`` and every node after it one row down, so the inserted node has room."""
    seen = set(skip)
    todo = [start]
    while todo:
        current = todo.pop()
        if current in seen or current not in graph["nodes"]:
            continue
        seen.add(current)
        node = graph["nodes"][current]
        position = node.get("position")
        if position:
            node["position"] = {"x": position["x"], "y": position["y"] + STEP_Y}
        todo.extend(t for t in node.get("next", {}).values() if isinstance(t, str))


def remove_node(graph: dict[str, Any], node_id: str) -> dict[str, Any]:
    """Delete a node; links into it are re-pointed to where its only exit led (a wait or an action), or dropped
    (a condition or split: the page then shows which exits are left to connect)."""
    graph = copy.deepcopy(graph)
    node = graph["nodes"].get(node_id)
    if node is None:
        raise CanvasEditError(f"No node {node_id}.")
    if node_id == graph.get("entry"):
        raise CanvasEditError("The trigger starts the journey: change its parameters instead.")
    nxt = node.get("next", {})
    onward = nxt.get("default") if len(nxt) == 1 else None
    del graph["nodes"][node_id]
    for other in graph["nodes"].values():
        links = other.get("next", {})
        for name, target in list(links.items()):
            if target == node_id:
                if onward:
                    links[name] = onward
                else:
                    del links[name]
    return graph


def set_node(
    graph: dict[str, Any], node_id: str, *, params: dict[str, Any], nxt: dict[str, str], label: str | None
) -> dict[str, Any]:
    """Replace a node's params, links and label (its type and position stay)."""
    graph = copy.deepcopy(graph)
    node = graph["nodes"].get(node_id)
    if node is None:
        raise CanvasEditError(f"No node {node_id}.")
    node["params"] = params
    node["next"] = {name: target for name, target in nxt.items() if target}
    if label:
        node["label"] = label
    else:
        node.pop("label", None)
    return graph


def set_settings(
    graph: dict[str, Any], *, settings: dict[str, Any], goal: dict[str, Any] | None, exit_rules: Any
) -> dict[str, Any]:
    """Replace the journey-level parts of the graph: ``settings`` (re-entry, quiet hours, frequency cap), the
    ``goal`` (None: no goal) and the ``exit`` rules; the nodes stay as they are."""
    graph = copy.deepcopy(graph)
    graph["settings"] = settings
    graph["goal"] = goal
    graph["exit"] = exit_rules
    return graph


def layout(graph: dict[str, Any]) -> dict[str, dict[str, float]]:
    """Each node's drawing position: its own ``position``, or rows by distance from the entry."""
    nodes = object_at(graph, "nodes")
    placed: dict[str, dict[str, float]] = {}
    depth: dict[str, int] = {}
    entry = graph.get("entry")
    todo = [entry] if entry in nodes else []
    if entry in nodes:
        depth[entry] = 0
    while todo:
        current = todo.pop(0)
        nxt = nodes[current].get("next") if isinstance(nodes[current], dict) else None
        for target in (nxt or {}).values() if isinstance(nxt, dict) else ():
            if isinstance(target, str) and target in nodes and target not in depth:
                depth[target] = depth[current] + 1
                todo.append(target)
    per_row: dict[int, int] = {}
    for node_id, node in nodes.items():
        position = node.get("position") if isinstance(node, dict) else None
        if isinstance(position, dict) and all(isinstance(position.get(k), int | float) for k in ("x", "y")):
            placed[node_id] = {"x": float(position["x"]), "y": float(position["y"])}
            continue
        row = depth.get(node_id, max(depth.values(), default=0) + 1)
        column = per_row.get(row, 0)
        per_row[row] = column + 1
        placed[node_id] = {"x": float(column * 220), "y": float(row * STEP_Y)}
    return placed


def choices() -> list[str]:
    """The node kinds "add a node" offers, in menu order."""
    return list(NEW_NODES)


def discriminator_of(node: dict[str, Any]) -> str | None:
    field = DISCRIMINATOR.get(node.get("type", ""))
    params = object_at(node, "params")
    value = params.get(field) if field else None
    return value if isinstance(value, str) and value in PARAMS.get(node.get("type", ""), {}) else None
