"""Writing and reading outbox events.

``emit`` only adds the event to the session; the session's next flush (autoflush before a query, an
explicit ``flush``, the commit) writes every event emitted since the last one with one statement
execution (docs/architecture.md §8). The rows bypass the ORM's unit of work, whose bookkeeping per row
cost more than the INSERT itself at hundreds of events a second.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session, UOWTransaction

from souk_platform.core.ids import new_id
from souk_platform.db import DbSession, utcnow
from souk_platform.events.models import OutboxEvent
from souk_platform.jobs.runner import enqueue_once_after_commit

_TYPE = re.compile(r"^[a-z][a-z_]*(\.[a-z][a-z_]*)+$")
_UNWRITTEN = "souk.outbox_unwritten"  # session.info: events emitted since the last flush, in order
_COLUMNS = ("id", "shop_id", "type", "subject_type", "subject_id", "payload", "created_at", "dispatched_at")


def emit(
    session: DbSession,
    *,
    shop_id: str | None,
    type: str,
    subject_type: str,
    subject_id: str,
    payload: dict[str, Any],
    created_at: dt.datetime | None = None,
) -> OutboxEvent:
    """Add an event to the outbox in the caller's transaction (it commits or vanishes with it).

    ``payload`` should carry the object and its ``version`` so receivers can drop stale updates.
    ``created_at`` defaults to now. The event is written by the session's next flush, with every other
    event emitted before it; the object returned is not tracked by the session after that flush.
    """
    if not _TYPE.match(type):
        raise ValueError(f"event type {type!r} must look like 'order.paid'")
    event = OutboxEvent(
        id=new_id("evt"),
        shop_id=shop_id,
        type=type,
        subject_type=subject_type,
        subject_id=subject_id,
        payload=payload,
        created_at=created_at or utcnow(),
    )
    _install_outbox_hooks()
    session.add(event)  # pending: autoflush, savepoint rollbacks and expunges treat it like any new row
    session.info.setdefault(_UNWRITTEN, []).append(event)
    # Deliver soon after commit: a delivery run takes every undispatched row, and one waiting run serves
    # every commit until it starts. If the run is lost (Redis flushed, worker killed), the periodic
    # webhook sweep dispatches instead.
    enqueue_once_after_commit(session, "souk_platform.webhooks.tasks.deliver_due")
    return event


def _write_unwritten(session: Session, flush_context: UOWTransaction, instances: Any) -> None:
    """Before a flush: write the events still pending in one INSERT and take them out of the unit of work."""
    unwritten: list[OutboxEvent] | None = session.info.pop(_UNWRITTEN, None)
    if not unwritten:
        return
    # A savepoint rolled back since (or an expunge) has taken some out of the session: skip those. Any
    # event this misses is still pending and the unit of work inserts it as it would any object.
    pending = [event for event in unwritten if sa.inspect(event).pending]
    if not pending:
        return
    rows = [{column: getattr(event, column) for column in _COLUMNS} for event in pending]
    # One executemany: psycopg pipelines the rows' INSERTs in one round trip. Measured here, that beat both
    # the unit of work and a single ``INSERT … VALUES (…), (…)`` (whose text psycopg re-parses every time).
    connection = session.connection(bind_arguments={"mapper": OutboxEvent})
    connection.execute(sa.insert(cast(sa.Table, OutboxEvent.__table__)), rows)
    for event in pending:
        session.expunge(event)


def _forget_unwritten(session: Session, previous_transaction: Any) -> None:
    # The whole unit of work rolled back: its events were expunged with it. (A savepoint rolling back
    # expunges its own; the filter in ``_write_unwritten`` skips them.)
    if previous_transaction.parent is None:
        session.info.pop(_UNWRITTEN, None)


def _install_outbox_hooks() -> None:
    """Wire the batched outbox writes into SQLAlchemy sessions (once per process; asked by every emit,
    so no app wiring is needed: ~2 µs)."""
    if not sa_event.contains(Session, "before_flush", _write_unwritten):
        sa_event.listen(Session, "before_flush", _write_unwritten)
        sa_event.listen(Session, "after_soft_rollback", _forget_unwritten)


def list_events_stmt(shop_id: str, *, type: str | None = None, subject_id: str | None = None) -> sa.Select[Any]:
    stmt = sa.select(OutboxEvent).where(OutboxEvent.shop_id == shop_id)
    if type:
        stmt = stmt.where(OutboxEvent.type == type)
    if subject_id:
        stmt = stmt.where(OutboxEvent.subject_id == subject_id)
    return stmt
