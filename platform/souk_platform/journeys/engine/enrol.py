"""Enrolling customers, and taking them out (docs/architecture.md §5.12).

An enrolment's ``entry_key`` encodes the journey's re-entry policy and ``(journey, customer, entry_key)`` is
unique, so a trigger delivered twice, or two timers racing, enrol once:

- ``never``: the key is ``once``: one enrolment per customer, ever;
- ``after_exit``: ``entry:<n>`` where n counts the customer's earlier enrolments, and only while none is open;
- ``{after_days: N}``: the same, and only when the last entry is N days old.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, cast

import sqlalchemy as sa

from souk_platform.core.ids import _encode, new_id
from souk_platform.db import DbSession, dialect_insert
from souk_platform.events.services import emit
from souk_platform.jobs.runner import enqueue_once_after_commit
from souk_platform.journeys.engine import reading
from souk_platform.journeys.models import Journey, JourneyEnrollment

ADVANCE_JOB = "souk_platform.journeys.tasks.advance_due"
OPEN_STATUSES = ("ready", "waiting")


def enrollment_payload(enrollment: JourneyEnrollment) -> dict[str, Any]:
    """The ``data`` of ``journey.enrolled``/``journey.exited``/``journey.goal_reached``."""
    return {
        "id": enrollment.id,
        "journey_id": enrollment.journey_id,
        "version_id": enrollment.version_id,
        "customer_id": enrollment.customer_id,
        "status": enrollment.status,
        "current_node": enrollment.current_node,
        "variant": enrollment.variant,
        "entered_at": enrollment.entered_at.isoformat(),
        "exited_at": enrollment.exited_at.isoformat() if enrollment.exited_at else None,
        "exit_reason": enrollment.exit_reason,
        "goal_revenue": enrollment.goal_revenue,
        "version": enrollment.version,
    }


def emit_enrollment(session: DbSession, enrollment: JourneyEnrollment, type: str, *, now: dt.datetime) -> None:
    emit(
        session,
        shop_id=enrollment.shop_id,
        type=type,
        subject_type="journey_enrollment",
        subject_id=enrollment.id,
        payload=enrollment_payload(enrollment),
        created_at=now,
    )


def _policy(graph: reading.Graph) -> tuple[str, int | None]:
    """``("never" | "after_exit", after_days or None)``."""
    policy = reading.reentry(graph)
    if isinstance(policy, Mapping):
        days = policy.get("after_days")
        return "after_exit", int(days) if isinstance(days, int) and days > 0 else 0
    return ("after_exit", None) if policy == "after_exit" else ("never", None)


def _earlier(journey_id: str, customer: Any) -> Any:
    return (
        sa.select(sa.func.count())
        .select_from(JourneyEnrollment)
        .where(JourneyEnrollment.journey_id == journey_id, JourneyEnrollment.customer_id == customer)
        .scalar_subquery()
    )


def _may_enter(journey_id: str, customer: Any, graph: reading.Graph, now: dt.datetime) -> sa.ColumnElement[bool]:
    """SQL: the customer may enrol now under the journey's re-entry policy (the unique key does the rest)."""
    policy, days = _policy(graph)
    mine = sa.and_(JourneyEnrollment.journey_id == journey_id, JourneyEnrollment.customer_id == customer)
    if policy == "never":
        return ~sa.exists().where(mine)
    allowed = ~sa.exists().where(mine, JourneyEnrollment.status.in_(OPEN_STATUSES))
    if days:
        allowed = sa.and_(
            allowed, ~sa.exists().where(mine, JourneyEnrollment.entered_at > now - dt.timedelta(days=days))
        )
    return allowed


def _entry_key(journey_id: str, customer: Any, graph: reading.Graph) -> Any:
    if _policy(graph)[0] == "never":
        return sa.literal("once")
    return sa.literal("entry:") + sa.cast(_earlier(journey_id, customer) + 1, sa.String)


def _id_expression(session: DbSession, prefix: str, salt: Any) -> Any:
    """SQL making ``<prefix>_<26 chars>`` ids like ``new_id``: this millisecond, then 16 random base-32 digits
    (hex is a subset of the alphabet), for rows made by one ``INSERT … SELECT``."""
    millis = _encode(int(dt.datetime.now(dt.UTC).timestamp() * 1000), 10)
    if session.get_bind().dialect.name == "sqlite":
        random = sa.func.lower(sa.func.hex(sa.func.randomblob(8)))
    else:
        random = sa.func.substr(sa.func.md5(sa.cast(sa.func.random(), sa.String) + salt), 1, 16)
    return sa.literal(f"{prefix}_{millis}") + random


def enrol_customers(
    session: DbSession,
    *,
    journey: Journey,
    graph: reading.Graph,
    customers: sa.Select[Any],
    now: dt.datetime,
    trigger_event_id: str | None = None,
    limit: int = 1000,
) -> list[JourneyEnrollment]:
    """Enrol up to ``limit`` of the customers ``customers`` selects (one column: ``customers.id``) into the
    journey's current version, with one ``INSERT … SELECT … ON CONFLICT DO NOTHING``; emits
    ``journey.enrolled`` for each new enrolment and asks for an advance run after commit.

    Customers the re-entry policy keeps out are not selected; a concurrent enrolment of the same customer and
    key loses on the unique key. Returns the new enrolments (fewer than ``limit``: nobody else is due).
    """
    if journey.current_version_id is None:
        return []
    picked = customers.subquery("picked")
    customer = picked.c[0]
    entry = reading.node(graph, str(graph.get("entry") or ""))
    if entry is None:
        return []
    select = (
        sa.select(
            _id_expression(session, "jen", customer),
            sa.literal(journey.shop_id),
            sa.literal(journey.id),
            sa.literal(journey.current_version_id),
            customer,
            _entry_key(journey.id, customer, graph),
            sa.literal("ready"),
            sa.literal(str(graph["entry"])),
            sa.literal(0),
            sa.literal(trigger_event_id, sa.String),
            sa.literal(now, JourneyEnrollment.entered_at.type),
            sa.literal(0),
            sa.literal(now, JourneyEnrollment.updated_at.type),
            sa.literal(1),
        )
        .where(_may_enter(journey.id, customer, graph, now))
        .limit(limit)
    )
    table = cast(sa.Table, JourneyEnrollment.__table__)
    insert = (
        dialect_insert(session)(table)
        .from_select(
            [
                "id",
                "shop_id",
                "journey_id",
                "version_id",
                "customer_id",
                "entry_key",
                "status",
                "current_node",
                "steps_taken",
                "trigger_event_id",
                "entered_at",
                "goal_revenue",
                "updated_at",
                "version",
            ],
            select,
        )
        .on_conflict_do_nothing(index_elements=["journey_id", "customer_id", "entry_key"])
        .returning(table.c.id)
    )
    ids = list(session.scalars(insert))
    if not ids:
        return []
    enrolled = list(
        session.scalars(
            sa.select(JourneyEnrollment)
            .where(JourneyEnrollment.id.in_(ids))
            .order_by(JourneyEnrollment.id)
            .execution_options(populate_existing=True)
        )
    )
    for enrollment in enrolled:
        emit_enrollment(session, enrollment, "journey.enrolled", now=now)
    enqueue_once_after_commit(session, ADVANCE_JOB)
    return enrolled


def enrol_one(
    session: DbSession,
    *,
    journey: Journey,
    graph: reading.Graph,
    customer_id: str,
    now: dt.datetime,
    trigger_event_id: str | None = None,
) -> JourneyEnrollment | None:
    """Enrol one customer (an event trigger); None when the re-entry policy or an earlier copy keeps them out."""
    from souk_platform.customers.models import Customer

    one = sa.select(Customer.id).where(Customer.shop_id == journey.shop_id, Customer.id == customer_id)
    made = enrol_customers(
        session, journey=journey, graph=graph, customers=one, now=now, trigger_event_id=trigger_event_id, limit=1
    )
    return made[0] if made else None


def finish(
    session: DbSession,
    enrollment: JourneyEnrollment,
    *,
    reason: str,
    now: dt.datetime,
    status: str = "exited",
) -> None:
    """Take an open enrolment out (``completed`` at an exit node, else ``exited`` with ``reason``) and emit
    ``journey.exited``. The caller holds the enrolment's row lock."""
    close(enrollment, reason=reason, now=now, status=status)
    session.flush()
    emit_enrollment(session, enrollment, "journey.exited", now=now)


def close(enrollment: JourneyEnrollment, *, reason: str, now: dt.datetime, status: str = "exited") -> None:
    """``finish`` without its flush and event: for a batch that writes its enrolments together, then emits
    ``journey.exited`` for those it closed (so each payload carries the version that flush wrote)."""
    enrollment.status = status
    enrollment.exit_reason = reason
    enrollment.exited_at = now
    enrollment.wake_at = None
    enrollment.waiting_event = None


def new_step_id() -> str:
    return new_id("jst")
