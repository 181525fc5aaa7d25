"""Dispatch: outbox rows become deliveries, one per (event, subscription), with the body receivers get."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import sqlalchemy as sa

from souk_platform.core.clock import Clock
from souk_platform.core.ids import new_id
from souk_platform.db import DbSession
from souk_platform.events.models import OutboxEvent
from souk_platform.webhooks.models import WebhookDelivery
from souk_platform.webhooks.services.routing import _endpoints, route


def _rfc3339(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def message_body(*, event_type: str, created_at: dt.datetime, shop_id: str, data: dict[str, Any]) -> str:
    """The JSON every receiver gets: ``{type, created_at, shop_id, data}``; ``data`` carries ``version``."""
    message = {"type": event_type, "created_at": _rfc3339(created_at), "shop_id": shop_id, "data": data}
    return json.dumps(message, ensure_ascii=False, separators=(",", ":"))


def dispatch_outbox(session: DbSession, *, clock: Clock, limit: int = 500) -> tuple[int, list[str]]:
    """Turn up to ``limit`` undispatched outbox rows into deliveries and mark them dispatched.

    Returns how many events were taken and the new delivery ids.

    Safe to run concurrently (rows are locked with SKIP LOCKED on PostgreSQL) and twice (a delivery
    is unique per (event, subscription)). New deliveries are due at once; the caller commits them.
    """
    events = list(
        session.scalars(
            sa.select(OutboxEvent)
            .where(OutboxEvent.dispatched_at.is_(None))
            .order_by(OutboxEvent.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
    if not events:
        return 0, []
    now = clock.now()
    by_shop = _endpoints(session, {e.shop_id for e in events if e.shop_id})
    existing = {
        (row[0], row[1])
        for row in session.execute(
            sa.select(WebhookDelivery.event_id, WebhookDelivery.subscription_id).where(
                WebhookDelivery.event_id.in_([e.id for e in events])
            )
        )
    }
    # Plain INSERT and UPDATE statements, not the unit of work: at hundreds of events a second the ORM's
    # bookkeeping per row was most of the dispatcher's time.
    created: list[dict[str, Any]] = []
    for event in events:
        if not event.shop_id:
            continue  # platform-level events have no shop subscribers
        for subscription, delivered_type in route(event, by_shop.get(event.shop_id, [])):
            if (event.id, subscription.id) in existing:
                continue
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
    session.execute(
        sa.update(OutboxEvent)
        .where(OutboxEvent.id.in_([e.id for e in events]))
        .values(dispatched_at=now)
        .execution_options(synchronize_session=False)
    )
    if created:
        session.execute(sa.insert(WebhookDelivery), created)
    return len(events), [row["id"] for row in created]
