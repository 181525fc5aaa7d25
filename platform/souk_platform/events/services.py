"""Writing and reading outbox events."""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa

from souk_platform.core.ids import new_id
from souk_platform.db import DbSession
from souk_platform.events.models import OutboxEvent
from souk_platform.jobs.runner import enqueue_once_after_commit

_TYPE = re.compile(r"^[a-z][a-z_]*(\.[a-z][a-z_]*)+$")


def emit(
    session: DbSession,
    *,
    shop_id: str | None,
    type: str,
    subject_type: str,
    subject_id: str,
    payload: dict[str, Any],
) -> OutboxEvent:
    """Add an event to the outbox in the caller's transaction (it commits or vanishes with it).

    ``payload`` should carry the object and its ``version`` so receivers can drop stale updates.
    """
    if not _TYPE.match(type):
        raise ValueError(f"event type {type!r} must look like 'order.paid'")
    # The id is made now, not at flush: events flushed together then go as one executemany, no RETURNING.
    event = OutboxEvent(
        id=new_id("evt"), shop_id=shop_id, type=type, subject_type=subject_type, subject_id=subject_id, payload=payload
    )
    session.add(event)
    # Deliver soon after commit: a delivery run takes every undispatched row, and one waiting run serves
    # every commit until it starts. If the run is lost (Redis flushed, worker killed), the periodic
    # webhook sweep dispatches instead.
    enqueue_once_after_commit(session, "souk_platform.webhooks.tasks.deliver_due")
    return event


def list_events_stmt(shop_id: str, *, type: str | None = None, subject_id: str | None = None) -> sa.Select[Any]:
    stmt = sa.select(OutboxEvent).where(OutboxEvent.shop_id == shop_id)
    if type:
        stmt = stmt.where(OutboxEvent.type == type)
    if subject_id:
        stmt = stmt.where(OutboxEvent.subject_id == subject_id)
    return stmt
