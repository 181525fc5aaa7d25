"""Reading enrolments — where each customer is in a journey and why — and taking one out by hand
(docs/architecture.md §5.12)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from souk_platform.db import DbSession
from souk_platform.journeys.engine.enrol import OPEN_STATUSES, finish
from souk_platform.journeys.engine.errors import EnrollmentFinished, EnrollmentNotFound, JourneyNotFound
from souk_platform.journeys.models import Journey, JourneyEnrollment, JourneyStep

LAST_STEPS = 3  # steps shown with each enrolment of a list (the enrolment itself shows them all)


def require_journey(session: DbSession, *, shop_id: str, journey_id: str) -> Journey:
    journey = session.scalar(sa.select(Journey).where(Journey.shop_id == shop_id, Journey.id == journey_id))
    if journey is None:
        raise JourneyNotFound(f"No journey {journey_id} in this shop.")
    return journey


def get_enrollment(
    session: DbSession, *, shop_id: str, journey_id: str, enrollment_id: str, for_update: bool = False
) -> JourneyEnrollment:
    require_journey(session, shop_id=shop_id, journey_id=journey_id)
    stmt = sa.select(JourneyEnrollment).where(
        JourneyEnrollment.shop_id == shop_id,
        JourneyEnrollment.journey_id == journey_id,
        JourneyEnrollment.id == enrollment_id,
    )
    if for_update:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    enrollment = session.scalar(stmt)
    if enrollment is None:
        raise EnrollmentNotFound(f"No enrolment {enrollment_id} in this journey.")
    return enrollment


def enrollments_stmt(
    session: DbSession,
    *,
    shop_id: str,
    journey_id: str,
    status: str | None = None,
    node: str | None = None,
    customer_id: str | None = None,
) -> sa.Select[Any]:
    require_journey(session, shop_id=shop_id, journey_id=journey_id)
    stmt = sa.select(JourneyEnrollment).where(
        JourneyEnrollment.shop_id == shop_id, JourneyEnrollment.journey_id == journey_id
    )
    if status:
        stmt = stmt.where(JourneyEnrollment.status == status)
    if node:
        stmt = stmt.where(JourneyEnrollment.current_node == node)
    if customer_id:
        stmt = stmt.where(JourneyEnrollment.customer_id == customer_id)
    return stmt


def step_view(step: JourneyStep) -> dict[str, Any]:
    return {
        "seq": step.seq,
        "node_id": step.node_id,
        "node_type": step.node_type,
        "status": step.status,
        "exit_taken": step.exit_taken,
        "outcome": step.outcome,
        "created_at": step.created_at,
    }


def _why(enrollment: JourneyEnrollment) -> str:
    """In a few words, why the customer is where they are."""
    if enrollment.status == "waiting":
        until = enrollment.wake_at.isoformat() if enrollment.wake_at else "?"
        if enrollment.waiting_event:
            return f"waiting for {enrollment.waiting_event} until {until}"
        return f"waiting until {until}"
    if enrollment.status == "ready":
        return "due for the next step"
    return f"left the journey: {enrollment.exit_reason}"


def enrollment_views(
    session: DbSession, enrollments: Sequence[JourneyEnrollment], *, last_steps: int | None = LAST_STEPS
) -> list[dict[str, Any]]:
    """Each enrolment with its latest steps (all of them when ``last_steps`` is None), newest last."""
    ids = [e.id for e in enrollments]
    steps: dict[str, list[JourneyStep]] = {}
    if ids:
        stmt = sa.select(JourneyStep).where(JourneyStep.enrollment_id.in_(ids))
        if last_steps is not None:
            seqs = {e.id: e.steps_taken for e in enrollments}
            stmt = stmt.where(
                sa.or_(
                    *(
                        sa.and_(JourneyStep.enrollment_id == eid, JourneyStep.seq > taken - last_steps)
                        for eid, taken in seqs.items()
                    )
                )
            )
        for step in session.scalars(stmt.order_by(JourneyStep.enrollment_id, JourneyStep.seq)):
            steps.setdefault(step.enrollment_id, []).append(step)
    return [
        {
            "id": e.id,
            "journey_id": e.journey_id,
            "version_id": e.version_id,
            "customer_id": e.customer_id,
            "status": e.status,
            "current_node": e.current_node,
            "variant": e.variant,
            "wake_at": e.wake_at,
            "waiting_event": e.waiting_event,
            "why": _why(e),
            "entry_key": e.entry_key,
            "steps_taken": e.steps_taken,
            "entered_at": e.entered_at,
            "exited_at": e.exited_at,
            "exit_reason": e.exit_reason,
            "goal_reached_at": e.goal_reached_at,
            "goal_revenue": e.goal_revenue,
            "steps": [step_view(s) for s in steps.get(e.id, [])],
            "version": e.version,
        }
        for e in enrollments
    ]


def exit_by_hand(
    session: DbSession, *, shop_id: str, journey_id: str, enrollment_id: str, now: dt.datetime
) -> JourneyEnrollment:
    """Take a customer out of a journey (reason ``manual``, ``journey.exited``); 409 when already out."""
    enrollment = get_enrollment(
        session, shop_id=shop_id, journey_id=journey_id, enrollment_id=enrollment_id, for_update=True
    )
    if enrollment.status not in OPEN_STATUSES:
        raise EnrollmentFinished(
            f"The enrolment {enrollment.id} left the journey already ({enrollment.exit_reason}).",
            status_now=enrollment.status,
        )
    finish(session, enrollment, reason="manual", now=now)
    return enrollment
