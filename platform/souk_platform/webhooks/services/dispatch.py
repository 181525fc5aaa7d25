"""Dispatch: outbox rows become deliveries, one per (event, subscription), with the body receivers get."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from souk_platform.core.clock import Clock
from souk_platform.core.ids import new_id
from souk_platform.db import DbSession, dialect_insert
from souk_platform.events.models import OutboxEvent
from souk_platform.journeys.engine.intake import any_live_journey, take_outbox_events
from souk_platform.webhooks.models import WebhookDelivery
from souk_platform.webhooks.services.routing import _endpoints, route


def _rfc3339(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def message_body(*, event_type: str, created_at: dt.datetime, shop_id: str, data: dict[str, Any]) -> str:
    """The JSON every receiver gets: ``{type, created_at, shop_id, data}``; ``data`` carries ``version``."""
    message = {"type": event_type, "created_at": _rfc3339(created_at), "shop_id": shop_id, "data": data}
    return json.dumps(message, ensure_ascii=False, separators=(",", ":"))


@dataclass(frozen=True, slots=True)
class _Event:
    """The columns of an outbox row the dispatcher reads (rows, not ORM instances: hundreds a second)."""

    id: str
    shop_id: str | None
    type: str
    subject_type: str
    subject_id: str
    payload: dict[str, Any]
    created_at: dt.datetime


def dispatch_outbox(session: DbSession, *, clock: Clock, limit: int = 500) -> tuple[int, list[str]]:
    """Turn up to ``limit`` undispatched outbox rows into deliveries and mark them dispatched.

    Returns how many events were taken and the new delivery ids.

    Safe to run concurrently (rows are taken with SKIP LOCKED on PostgreSQL) and twice (a delivery is
    unique per (event, subscription): an existing one is left alone). New deliveries are due at once; the
    caller commits them. Three statements whatever the number of events: take and mark the events (one
    UPDATE … RETURNING), read the shops' endpoints, insert the deliveries (one INSERT … ON CONFLICT DO
    NOTHING); see docs/architecture.md §8.
    """
    now = clock.now()
    waiting = (
        sa.select(OutboxEvent.id)
        .where(OutboxEvent.dispatched_at.is_(None))
        .order_by(OutboxEvent.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    taken = session.execute(
        sa.update(OutboxEvent)
        .where(OutboxEvent.id.in_(waiting.scalar_subquery()))
        .values(dispatched_at=now)
        .returning(
            OutboxEvent.id,
            OutboxEvent.shop_id,
            OutboxEvent.type,
            OutboxEvent.subject_type,
            OutboxEvent.subject_id,
            OutboxEvent.payload,
            OutboxEvent.created_at,
            any_live_journey(),
        )
        .execution_options(synchronize_session=False)
    )
    rows = list(taken)
    events = sorted((_Event(*row[:-1]) for row in rows), key=lambda event: event.id)
    if not events:
        return 0, []
    if rows[0][-1]:
        # Events some live journey listens to go to the journey inbox in this same transaction (§5.12). The
        # flag is one uncorrelated EXISTS in the statement above: without live journeys this costs nothing.
        take_outbox_events(session, events)
    by_shop = _endpoints(session, {e.shop_id for e in events if e.shop_id})
    # Plain INSERT rows, not the unit of work: at hundreds of events a second the ORM's bookkeeping per row
    # was most of the dispatcher's time.
    created: list[dict[str, Any]] = []
    for event in events:
        if not event.shop_id:
            continue  # platform-level events have no shop subscribers
        for subscription, delivered_type in route(event, by_shop.get(event.shop_id, [])):
            body = message_body(
                event_type=delivered_type, created_at=event.created_at, shop_id=event.shop_id, data=event.payload
            )
            created.append(
                {
                    "id": new_id("msg"),
                    "shop_id": event.shop_id,
                    "subscription_id": subscription.id,
                    "event_id": event.id,
                    "event_type": delivered_type,
                    "body": body,
                    "status": "pending",
                    "attempts": 0,
                    "round_start": 0,
                    "next_attempt_at": now,
                    "created_at": now,
                }
            )
    if not created:
        return len(events), []
    insert = dialect_insert(session)(WebhookDelivery).on_conflict_do_nothing(
        index_elements=[WebhookDelivery.event_id, WebhookDelivery.subscription_id]
    )
    inserted = session.scalars(insert.returning(WebhookDelivery.id), created)
    return len(events), list(inserted)
