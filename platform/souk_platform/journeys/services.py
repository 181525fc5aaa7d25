"""Journey definitions: create (blank or from a template), edit, validate, version, and their lifecycle
(docs/architecture.md §5.12). The engine (enrolments and steps) lives in ``journeys/engine/``.

A draft's graph may be saved incomplete: the journey's view lists what is wrong (``problems``), and activation
refuses until there is nothing. Once a journey has been activated its graph must stay valid: an edit that changes
it freezes a new ``JourneyVersion`` at once and moves ``current_version_id``; customers already inside finish on
the version they entered. Status moves go through ``JOURNEY_STATES`` (draft → active ⇄ paused; draft, active or
paused → archived); the engine reads the status (paused: enrolments wait; archived: they leave).
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from typing import Any

import sqlalchemy as sa

from souk_platform.core.errors import SoukError
from souk_platform.core.states import Move, StateMachine
from souk_platform.core.versions import check_version, require_version
from souk_platform.db import DbSession
from souk_platform.events.services import emit
from souk_platform.journeys import graph as graphs
from souk_platform.journeys.errors import (
    InvalidGraph,
    InvalidJourney,
    JourneyNotDraft,
    JourneyNotFound,
    JourneyStateConflict,
)
from souk_platform.journeys.models import Journey, JourneyEnrollment, JourneyStep, JourneyVersion
from souk_platform.journeys.templates import get_template, template_graph

MAX_GRAPH_BYTES = 200_000
BLANK_GRAPH: dict[str, Any] = {
    "entry": "start",
    "nodes": {
        "start": {
            "type": "trigger",
            "params": {"kind": "event", "event": "order.paid", "filter": []},
            "next": {"default": "end"},
            "position": {"x": 0, "y": 0},
        },
        "end": {"type": "exit", "params": {}, "next": {}, "position": {"x": 0, "y": 120}},
    },
    "goal": None,
    "exit": [],
    "settings": {"reentry": "never"},
}

# The moves a journey may make, by action (docs/architecture.md §12): the page's buttons and the API's
# POST /journeys/{id}/<action> read it.
ACTIONS: dict[str, dict[str, str]] = {
    "activate": {"draft": "active"},
    "pause": {"active": "paused"},
    "resume": {"paused": "active"},
    "archive": {"draft": "archived", "active": "archived", "paused": "archived"},
}
_EVENT_OF = {"activate": "activated", "pause": "paused", "resume": "resumed", "archive": "archived"}


def _illegal(journey: Journey, move: str, allowed: tuple[str, ...]) -> SoukError:
    can = ", ".join(allowed) or "nothing (it is final)"
    return JourneyStateConflict(
        f"Journey {journey.id} is {journey.status}: it cannot {move}. From {journey.status} it can: {can}.",
        status_now=journey.status,
    )


def _record(session: DbSession, journey: Journey, move: Move, **_context: Any) -> None:
    session.flush()
    _emit(session, journey, f"journey.{_EVENT_OF[move.name]}")


JOURNEY_STATES: StateMachine[Journey] = StateMachine.of_actions(
    ACTIONS, illegal=_illegal, record=_record, field="status"
)


# ---- views and events ----


def _version_numbers(session: DbSession, version_ids: list[str]) -> dict[str, int]:
    ids = [v for v in version_ids if v]
    if not ids:
        return {}
    rows = session.execute(sa.select(JourneyVersion.id, JourneyVersion.number).where(JourneyVersion.id.in_(ids)))
    return {row[0]: row[1] for row in rows}


def journey_views(session: DbSession, journeys: list[Journey], *, with_problems: bool = True) -> list[dict[str, Any]]:
    """The API's shape of each journey; ``problems`` lists what keeps its graph from being valid."""
    numbers = _version_numbers(session, [j.current_version_id or "" for j in journeys])
    views = []
    for journey in journeys:
        view = _payload(journey, numbers.get(journey.current_version_id or ""))
        view["created_at"], view["updated_at"] = journey.created_at, journey.updated_at
        view["activated_at"] = journey.activated_at
        view["graph"] = journey.graph
        if with_problems:
            view["problems"] = graphs.validate(session, shop_id=journey.shop_id, graph=journey.graph)
            view["valid"] = not view["problems"]
        views.append(view)
    return views


def journey_view(session: DbSession, journey: Journey) -> dict[str, Any]:
    return journey_views(session, [journey])[0]


def _payload(journey: Journey, version_number: int | None) -> dict[str, Any]:
    return {
        "id": journey.id,
        "name": journey.name,
        "description": journey.description,
        "status": journey.status,
        "template_key": journey.template_key,
        "current_version_id": journey.current_version_id,
        "current_version_number": version_number,
        "version": journey.version,
    }


def _emit(session: DbSession, journey: Journey, type: str) -> None:
    number = _version_numbers(session, [journey.current_version_id or ""]).get(journey.current_version_id or "")
    emit(
        session,
        shop_id=journey.shop_id,
        type=type,
        subject_type="journey",
        subject_id=journey.id,
        payload=_payload(journey, number),
    )


def version_view(version: JourneyVersion) -> dict[str, Any]:
    return {
        "id": version.id,
        "journey_id": version.journey_id,
        "number": version.number,
        "graph": version.graph,
        "created_at": version.created_at,
    }


# ---- reading ----


def get_journey(session: DbSession, *, shop_id: str, journey_id: str, for_update: bool = False) -> Journey:
    stmt = sa.select(Journey).where(Journey.id == journey_id, Journey.shop_id == shop_id)
    if for_update:
        stmt = stmt.with_for_update()
    journey = session.scalar(stmt)
    if journey is None:
        raise JourneyNotFound(f"No journey {journey_id} in this shop.")
    return journey


def journeys_stmt(shop_id: str, *, status: str | None = None) -> sa.Select[Any]:
    stmt = sa.select(Journey).where(Journey.shop_id == shop_id)
    if status:
        stmt = stmt.where(Journey.status == status)
    return stmt


def versions_stmt(journey: Journey) -> sa.Select[Any]:
    return sa.select(JourneyVersion).where(
        JourneyVersion.journey_id == journey.id, JourneyVersion.shop_id == journey.shop_id
    )


def validate_graph(session: DbSession, *, shop_id: str, graph: Any) -> dict[str, Any]:
    """A dry run: what would keep ``graph`` from being activated (nothing is saved)."""
    _check_size(graph)
    problems = graphs.validate(session, shop_id=shop_id, graph=graph)
    return {"valid": not problems, "problems": problems}


def node_counts(session: DbSession, journey: Journey) -> dict[str, dict[str, int]]:
    """Per node: customers there now (an enrolment not yet ended) and steps taken there in all.

    Read straight from the enrolments and steps tables; docs/architecture.md §5.12's report may replace it."""
    counts: dict[str, dict[str, int]] = {}
    here = session.execute(
        sa.select(JourneyEnrollment.current_node, sa.func.count())
        .where(
            JourneyEnrollment.journey_id == journey.id,
            JourneyEnrollment.shop_id == journey.shop_id,
            JourneyEnrollment.status.in_(("ready", "waiting")),
        )
        .group_by(JourneyEnrollment.current_node)
    )
    for node_id, count in here:
        counts.setdefault(node_id, {"current": 0, "steps": 0})["current"] = count
    steps = session.execute(
        sa.select(JourneyStep.node_id, sa.func.count())
        .where(JourneyStep.journey_id == journey.id, JourneyStep.shop_id == journey.shop_id)
        .group_by(JourneyStep.node_id)
    )
    for node_id, count in steps:
        counts.setdefault(node_id, {"current": 0, "steps": 0})["steps"] = count
    return counts


# ---- writing ----


def _check_size(graph: Any) -> None:
    if len(json.dumps(graph, ensure_ascii=False)) > MAX_GRAPH_BYTES:
        raise InvalidGraph("The graph is too large.", errors={"graph": [f"At most {MAX_GRAPH_BYTES} bytes of JSON."]})


def _check_draft_graph(graph: Any) -> None:
    """What even a draft needs: an object with 1–100 nodes, each an object, so it can be drawn and edited."""
    _check_size(graph)
    nodes = graph.get("nodes") if isinstance(graph, dict) else None
    if not isinstance(nodes, dict) or not 1 <= len(nodes) <= graphs.MAX_NODES:
        raise InvalidGraph(
            "A graph needs 1 to 100 nodes.", errors={"graph.nodes": ["An object of 1 to 100 nodes by id."]}
        )
    bad = {
        f"graph.nodes.{node_id}": ['A node is {"type", "params", "next", "position"}.']
        for node_id, node in nodes.items()
        if not isinstance(node, dict)
        or not isinstance(node.get("params", {}), dict)
        or not isinstance(node.get("next", {}), dict)
    }
    if bad:
        raise InvalidGraph("Some nodes are not objects.", errors=bad)


def _clean_name(name: Any) -> str:
    if not isinstance(name, str) or not 1 <= len(name.strip()) <= 100:
        raise InvalidJourney("Name the journey.", errors={"name": ["1 to 100 characters."]})
    return name.strip()


def create_journey(
    session: DbSession,
    *,
    shop_id: str,
    name: str,
    description: str | None = None,
    graph: dict[str, Any] | None = None,
    template_key: str | None = None,
) -> Journey:
    """A new draft; its graph may be incomplete (``problems`` in its view says what is missing)."""
    graph = copy.deepcopy(graph) if graph is not None else copy.deepcopy(BLANK_GRAPH)
    _check_draft_graph(graph)
    journey = Journey(
        shop_id=shop_id,
        name=_clean_name(name),
        description=(description or "").strip() or None,
        status="draft",
        graph=graph,
        template_key=template_key,
    )
    session.add(journey)
    session.flush()
    _emit(session, journey, "journey.created")
    return journey


def create_from_template(
    session: DbSession, *, shop_id: str, key: str, name: str | None = None, language: str = "en"
) -> Journey:
    """One click from the gallery: a draft holding a copy of the template's graph, placeholders to fill."""
    template = get_template(key)
    return create_journey(
        session,
        shop_id=shop_id,
        name=name or template.name(language),
        description=template.description(language),
        graph=template_graph(key),
        template_key=key,
    )


def _freeze(session: DbSession, journey: Journey) -> JourneyVersion:
    """Write the journey's graph as its next version and make it current."""
    number = (
        session.scalar(sa.select(sa.func.max(JourneyVersion.number)).where(JourneyVersion.journey_id == journey.id))
        or 0
    ) + 1
    version = JourneyVersion(
        shop_id=journey.shop_id, journey_id=journey.id, number=number, graph=copy.deepcopy(journey.graph)
    )
    session.add(version)
    session.flush()
    journey.current_version_id = version.id
    emit(
        session,
        shop_id=journey.shop_id,
        type="journey.version_created",
        subject_type="journey",
        subject_id=journey.id,
        payload={"id": version.id, "journey_id": journey.id, "number": number, "version": number},
    )
    return version


def _current_graph(session: DbSession, journey: Journey) -> dict[str, Any] | None:
    if not journey.current_version_id:
        return None
    return session.scalar(sa.select(JourneyVersion.graph).where(JourneyVersion.id == journey.current_version_id))


def update_journey(
    session: DbSession,
    *,
    shop_id: str,
    journey_id: str,
    changes: dict[str, Any],
    expected_version: int | None,
) -> Journey:
    """Change the name, description or graph; ``expected_version`` is required (428 without, 412 when stale).

    A draft saves any drawable graph. A journey that has been activated must stay valid (the 422 names each bad
    node), and a changed graph becomes its next version at once. An archived journey is final (409)."""
    journey = get_journey(session, shop_id=shop_id, journey_id=journey_id, for_update=True)
    require_version(journey.version, expected_version)
    if journey.status == "archived":
        raise JourneyStateConflict(f"Journey {journey.id} is archived: it can no longer change.", status_now="archived")
    values: dict[str, Any] = {}
    if "name" in changes:
        values["name"] = _clean_name(changes["name"])
    if "description" in changes:
        values["description"] = (changes["description"] or "").strip() or None
    new_version = False
    if "graph" in changes and changes["graph"] != journey.graph:
        graph = copy.deepcopy(changes["graph"])
        _check_draft_graph(graph)
        if journey.status != "draft":
            doing = f"Editing a journey that is {journey.status}"
            graphs.require_valid(session, shop_id=shop_id, graph=graph, doing=doing)
            new_version = graph != _current_graph(session, journey)
        values["graph"] = graph
    changed = [key for key, value in values.items() if getattr(journey, key) != value]
    if not changed:
        return journey
    for key in changed:
        setattr(journey, key, values[key])
    session.flush()
    if new_version:
        _freeze(session, journey)
        session.flush()
    _emit(session, journey, "journey.updated")
    return journey


def change_status(
    session: DbSession, *, shop_id: str, journey_id: str, action: str, expected_version: int | None, now: dt.datetime
) -> Journey:
    """``activate``, ``pause``, ``resume`` or ``archive`` (an illegal move is 409). Activating needs a valid graph
    (the 422 names each bad node) and freezes it as a version unless the current version already holds it."""
    journey = get_journey(session, shop_id=shop_id, journey_id=journey_id, for_update=True)
    check_version(journey.version, expected_version)
    JOURNEY_STATES.check(journey, action)
    if action == "activate":
        graphs.require_valid(session, shop_id=shop_id, graph=journey.graph, doing="Activating the journey")
        if journey.graph != _current_graph(session, journey):
            _freeze(session, journey)
        journey.activated_at = now
    JOURNEY_STATES.transition(session, journey, action)
    return journey


def delete_journey(session: DbSession, *, shop_id: str, journey_id: str, expected_version: int | None) -> None:
    """Delete a draft (409 otherwise: archive it, so its customers' history stays)."""
    journey = get_journey(session, shop_id=shop_id, journey_id=journey_id, for_update=True)
    check_version(journey.version, expected_version)
    if journey.status != "draft":
        raise JourneyNotDraft(f"Journey {journey.id} is {journey.status}; archive it instead.")
    payload = _payload(journey, None)
    session.execute(sa.delete(JourneyVersion).where(JourneyVersion.journey_id == journey.id))
    session.delete(journey)
    session.flush()
    emit(
        session,
        shop_id=shop_id,
        type="journey.deleted",
        subject_type="journey",
        subject_id=payload["id"],
        payload=payload,
    )
