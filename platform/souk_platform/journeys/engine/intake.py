"""Intake: events reach the engine through ``journey_inbox`` (docs/architecture.md §5.12, §8).

The webhook dispatcher takes each outbox event once (``UPDATE outbox_events … RETURNING``); in that same
transaction ``take_outbox_events`` hands on the events whose type some live journey of their shop listens to
(a trigger, an event wait, a goal, an exit rule). ``POST /customer-events`` does the same for behaviour
events. The cost when a shop has no journeys is one indexed read per dispatched batch, nothing per event.
``drain`` then claims inbox rows (``SKIP LOCKED``), acts on each — enrol, wake a wait, record a goal, take
out by an exit rule — and deletes it in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
import structlog

from souk_platform.db import DbSession, dialect_insert
from souk_platform.jobs.runner import enqueue_once_after_commit
from souk_platform.journeys.engine import reading
from souk_platform.journeys.engine.advance import GraphCache, reach_goal, wake_on_event
from souk_platform.journeys.engine.enrol import OPEN_STATUSES, enrol_one, finish
from souk_platform.journeys.engine.models import JourneyInboxEvent
from souk_platform.journeys.models import Journey, JourneyEnrollment, JourneyVersion

log = structlog.get_logger("souk.journeys")

DRAIN_JOB = "souk_platform.journeys.tasks.drain_inbox"
LIVE = ("active", "paused")  # journeys whose enrolments still wait, convert or exit on events

# Event types a version's graph listens to, by version id. Versions never change, so a process keeps what
# it has read (bounded: cleared when it grows past _CACHE_LIMIT).
_LISTENS: dict[str, frozenset[str]] = {}
_CACHE_LIMIT = 10_000


@dataclass(frozen=True, slots=True)
class IncomingEvent:
    source: str  # outbox | behaviour
    event_id: str
    shop_id: str
    type: str
    customer_id: str | None
    payload: Mapping[str, Any]
    occurred_at: dt.datetime


def any_live_journey() -> sa.Label[bool]:
    """An uncorrelated ``EXISTS``: is any journey active or paused anywhere? The dispatcher adds it to the
    statement that takes outbox events, so a platform without live journeys pays no extra statement."""
    return sa.exists().where(Journey.status.in_(LIVE)).label("journeys_live")


def listened_by_shop(session: DbSession, shop_ids: Iterable[str]) -> dict[str, set[str]]:
    """The event types the live journeys of each shop listen to (every version of them: enrolments on an old
    version still wait and convert). One indexed read; the graphs of versions not seen before, once."""
    shops = sorted(set(shop_ids))
    if not shops:
        return {}
    rows = session.execute(
        sa.select(JourneyVersion.id, Journey.shop_id)
        .join(Journey, Journey.id == JourneyVersion.journey_id)
        .where(Journey.shop_id.in_(shops), Journey.status.in_(LIVE))
    ).all()
    if not rows:
        return {}
    unseen = [vid for vid, _ in rows if vid not in _LISTENS]
    if unseen:
        if len(_LISTENS) > _CACHE_LIMIT:
            _LISTENS.clear()
        for vid, graph in session.execute(
            sa.select(JourneyVersion.id, JourneyVersion.graph).where(JourneyVersion.id.in_(unseen))
        ):
            _LISTENS[vid] = frozenset(reading.listened_types([graph or {}]))
    found: dict[str, set[str]] = {}
    for vid, shop_id in rows:
        found.setdefault(shop_id, set()).update(_LISTENS.get(vid, ()))
    return found


def hand_over(session: DbSession, events: Sequence[IncomingEvent]) -> int:
    """Put the events some live journey listens to into the inbox (in the caller's transaction) and ask for a
    drain after commit; returns how many were handed over."""
    if not events:
        return 0
    listened = listened_by_shop(session, {e.shop_id for e in events})
    if not listened:
        return 0
    rows = [
        {
            "shop_id": e.shop_id,
            "source": e.source,
            "event_id": e.event_id,
            "event_type": e.type,
            "customer_id": e.customer_id,
            "payload": dict(e.payload),
            "occurred_at": e.occurred_at,
            "created_at": e.occurred_at,
        }
        for e in events
        if e.customer_id and e.type in listened.get(e.shop_id, ())
    ]
    if not rows:
        return 0
    session.execute(
        dialect_insert(session)(JourneyInboxEvent).on_conflict_do_nothing(index_elements=["source", "event_id"]),
        rows,
    )
    enqueue_once_after_commit(session, DRAIN_JOB)
    return len(rows)


def take_outbox_events(session: DbSession, events: Iterable[Any]) -> int:
    """The dispatcher's hand-off: outbox rows (with ``id, shop_id, type, subject_type, subject_id, payload,
    created_at``) just taken for delivery."""
    incoming = [
        IncomingEvent(
            source="outbox",
            event_id=e.id,
            shop_id=e.shop_id,
            type=e.type,
            customer_id=reading.event_customer(e.payload or {}, e.subject_type, e.subject_id),
            payload=e.payload or {},
            occurred_at=e.created_at,
        )
        for e in events
        if e.shop_id and not e.type.startswith("journey.")  # the engine's own events never feed it back
    ]
    return hand_over(session, incoming)


def take_behaviour_events(session: DbSession, *, shop_id: str, events: Iterable[Mapping[str, Any]]) -> int:
    """``POST /customer-events``'s hand-off: the batch's events just stored (``event_id``, ``customer_id``,
    ``type``, ``occurred_at``, ``properties`` and the scene)."""
    incoming = [
        IncomingEvent(
            source="behaviour",
            event_id=str(e["id"]),
            shop_id=shop_id,
            type=str(e["type"]),
            customer_id=e.get("customer_id"),
            payload={
                "event_id": e["event_id"],
                "customer_id": e.get("customer_id"),
                "properties": e.get("properties") or {},
                "channel": e.get("channel"),
                "campaign": e.get("campaign"),
                "store": e.get("store"),
                **(e.get("properties") or {}),
            },
            occurred_at=e["occurred_at"],
        )
        for e in events
    ]
    return hand_over(session, incoming)


# --- draining ---


class _ShopJourneys:
    """The live journeys of the shops in one drained batch, with their current graphs."""

    def __init__(self, session: DbSession, shop_ids: Iterable[str], graphs: GraphCache) -> None:
        self.by_shop: dict[str, list[Journey]] = {}
        for journey in session.scalars(
            sa.select(Journey).where(Journey.shop_id.in_(set(shop_ids)), Journey.status.in_(LIVE))
        ):
            self.by_shop.setdefault(journey.shop_id, []).append(journey)
        graphs.load(j.current_version_id for js in self.by_shop.values() for j in js if j.current_version_id)
        self.graphs = graphs


def _trigger(session: DbSession, event: JourneyInboxEvent, journeys: _ShopJourneys, now: dt.datetime) -> int:
    source_kind = "behaviour" if event.source == "behaviour" else "event"
    enrolled = 0
    for journey in journeys.by_shop.get(event.shop_id, []):
        if journey.status != "active" or not journey.current_version_id:
            continue
        graph = journeys.graphs[journey.current_version_id]
        trigger = reading.entry_trigger(graph)
        if trigger.get("kind") != source_kind or trigger.get("event") != event.event_type:
            continue
        if not reading.matches(trigger.get("filter"), event.payload):
            continue
        made = enrol_one(
            session,
            journey=journey,
            graph=graph,
            customer_id=str(event.customer_id),
            now=now,
            trigger_event_id=event.event_id,
        )
        enrolled += made is not None
    return enrolled


def _customer_enrollments(session: DbSession, event: JourneyInboxEvent, journey_ids: set[str]) -> list[Any]:
    if not journey_ids:
        return []
    return list(
        session.scalars(
            sa.select(JourneyEnrollment)
            .where(
                JourneyEnrollment.shop_id == event.shop_id,
                JourneyEnrollment.customer_id == event.customer_id,
                JourneyEnrollment.journey_id.in_(journey_ids),
            )
            .order_by(JourneyEnrollment.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    )


def _react(session: DbSession, event: JourneyInboxEvent, journeys: _ShopJourneys, now: dt.datetime) -> None:
    """Wake waits, record goals and apply exit rules for the event's customer."""
    journey_ids = {j.id for j in journeys.by_shop.get(event.shop_id, [])}
    for enrollment in _customer_enrollments(session, event, journey_ids):
        graph = journeys.graphs[enrollment.version_id]
        goal = reading.goal(graph)
        if (
            goal
            and enrollment.goal_reached_at is None
            and goal["event"] == event.event_type
            and enrollment.entered_at <= event.occurred_at
            and event.occurred_at <= enrollment.entered_at + dt.timedelta(days=int(goal.get("within_days") or 0))
            and reading.matches(goal.get("filter"), event.payload)
        ):
            reach_goal(
                session, enrollment, event_id=event.event_id, revenue=reading.event_revenue(event.payload), now=now
            )
            continue
        if enrollment.status not in OPEN_STATUSES:
            continue
        if any(
            rule.get("kind") == "event"
            and rule.get("event") == event.event_type
            and reading.matches(rule.get("filter"), event.payload)
            for rule in reading.exit_rules(graph)
        ):
            finish(session, enrollment, reason="exit_rule", now=now)
            continue
        if enrollment.status == "waiting" and enrollment.waiting_event == event.event_type:
            node = reading.node(graph, enrollment.current_node)
            wait = reading.params(node) if node else {}
            if event.occurred_at >= enrollment.entered_at and reading.matches(wait.get("filter"), event.payload):
                wake_on_event(session, enrollment, graph, event_id=event.event_id, now=now)


def drain(session: DbSession, *, now: dt.datetime, batch: int = 200) -> int:
    """Act on up to ``batch`` inbox events, oldest first, deleting each; returns how many were taken. The
    caller commits. Safe to run concurrently (``SKIP LOCKED``) and twice (a taken row is gone)."""
    events = list(
        session.scalars(
            sa.select(JourneyInboxEvent).order_by(JourneyInboxEvent.id).limit(batch).with_for_update(skip_locked=True)
        )
    )
    if not events:
        return 0
    graphs = GraphCache(session)
    journeys = _ShopJourneys(session, {e.shop_id for e in events}, graphs)
    graphs.load(
        session.scalars(
            sa.select(JourneyVersion.id).where(
                JourneyVersion.journey_id.in_({j.id for js in journeys.by_shop.values() for j in js})
            )
        )
    )
    for event in events:
        try:
            with session.begin_nested():
                _react(session, event, journeys, now)
                _trigger(session, event, journeys, now)
        except Exception:  # one bad event must not hold the inbox up; it is logged and dropped
            log.exception("journey.intake_failed", event=event.event_id, type=event.event_type)
        session.delete(event)
    session.flush()
    return len(events)
