"""The delivery log: deliveries and their attempts as the shop or app may see them, kept for 14 days."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from souk_platform.db import DbSession
from souk_platform.webhooks import errors
from souk_platform.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookSubscription

PAYLOAD_RETENTION = dt.timedelta(days=14)


def deliveries_stmt(
    shop_id: str,
    *,
    installation_id: str | None,
    subscription_id: str | None = None,
    status: str | None = None,
    event_type: str | None = None,
) -> sa.Select[Any]:
    stmt = sa.select(WebhookDelivery).where(WebhookDelivery.shop_id == shop_id)
    if installation_id:
        stmt = stmt.where(
            WebhookDelivery.subscription_id.in_(
                sa.select(WebhookSubscription.id).where(WebhookSubscription.installation_id == installation_id)
            )
        )
    if subscription_id:
        stmt = stmt.where(WebhookDelivery.subscription_id == subscription_id)
    if status:
        stmt = stmt.where(WebhookDelivery.status == status)
    if event_type:
        stmt = stmt.where(WebhookDelivery.event_type == event_type)
    return stmt


def get_delivery(session: DbSession, *, shop_id: str, delivery_id: str, installation_id: str | None) -> WebhookDelivery:
    stmt = deliveries_stmt(shop_id, installation_id=installation_id).where(WebhookDelivery.id == delivery_id)
    delivery = session.scalar(stmt)
    if delivery is None:
        raise errors.DeliveryNotFound(f"No webhook delivery {delivery_id} in this shop.")
    return delivery


def attempts_of(session: DbSession, delivery: WebhookDelivery) -> list[WebhookAttempt]:
    stmt = sa.select(WebhookAttempt).where(WebhookAttempt.delivery_id == delivery.id).order_by(WebhookAttempt.id)
    return list(session.scalars(stmt))


def purge_expired_payloads(session: DbSession, *, now: dt.datetime) -> int:
    """Delete finished deliveries (and their attempts) older than 14 days; return how many."""
    old = sa.select(WebhookDelivery.id).where(
        WebhookDelivery.created_at < now - PAYLOAD_RETENTION, WebhookDelivery.status != "pending"
    )
    session.execute(sa.delete(WebhookAttempt).where(WebhookAttempt.delivery_id.in_(old)))
    result = session.execute(
        sa.delete(WebhookDelivery).where(
            WebhookDelivery.created_at < now - PAYLOAD_RETENTION, WebhookDelivery.status != "pending"
        )
    )
    return int(getattr(result, "rowcount", 0))
