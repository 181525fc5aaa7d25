"""The console pages: an app's endpoints across the shops that installed it, or a shop's own."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from souk_platform.apps.models import Installation
from souk_platform.db import DbSession
from souk_platform.webhooks import errors
from souk_platform.webhooks.models import WebhookDelivery, WebhookSubscription


@dataclass(frozen=True, slots=True)
class ConsoleOwner:
    """Whose endpoints a console page shows: an app's (``app_id``, across shops) or a shop's own (``shop_id``)."""

    app_id: str | None = None
    shop_id: str | None = None

    def __post_init__(self) -> None:
        if (self.app_id is None) == (self.shop_id is None):
            raise ValueError("a console shows one app's endpoints or one shop's own, not both or neither")


@dataclass(frozen=True, slots=True)
class ConsoleEndpoint:
    subscription: WebhookSubscription
    failed_deliveries: int  # failed and not sent again since, within the 14 days payloads are kept


def console_subscriptions_stmt(owner: ConsoleOwner) -> sa.Select[Any]:
    stmt = sa.select(WebhookSubscription)
    if owner.app_id is not None:
        installations = sa.select(Installation.id).where(Installation.app_id == owner.app_id)
        return stmt.where(WebhookSubscription.installation_id.in_(installations))
    return stmt.where(WebhookSubscription.shop_id == owner.shop_id, WebhookSubscription.installation_id.is_(None))


def console_endpoints(session: DbSession, owner: ConsoleOwner) -> list[ConsoleEndpoint]:
    """The owner's endpoints, oldest first, each with how many of its deliveries failed."""
    stmt = console_subscriptions_stmt(owner).order_by(WebhookSubscription.created_at, WebhookSubscription.id)
    subscriptions = list(session.scalars(stmt))
    if not subscriptions:
        return []
    ids = [s.id for s in subscriptions]
    failed = dict(
        session.execute(
            sa.select(WebhookDelivery.subscription_id, sa.func.count())
            .where(WebhookDelivery.subscription_id.in_(ids), WebhookDelivery.status == "failed")
            .group_by(WebhookDelivery.subscription_id)
        ).all()
    )
    return [ConsoleEndpoint(s, int(failed.get(s.id, 0))) for s in subscriptions]


def console_subscription(session: DbSession, owner: ConsoleOwner, subscription_id: str) -> WebhookSubscription:
    subscription = session.scalar(console_subscriptions_stmt(owner).where(WebhookSubscription.id == subscription_id))
    if subscription is None:
        raise errors.SubscriptionNotFound(f"No webhook endpoint {subscription_id} here.")
    return subscription


def console_deliveries_stmt(
    owner: ConsoleOwner, *, status: str | None = None, event_type: str | None = None
) -> sa.Select[Any]:
    """The delivery log of the owner's endpoints (filtered by status and event type)."""
    owned = console_subscriptions_stmt(owner).with_only_columns(WebhookSubscription.id)
    stmt = sa.select(WebhookDelivery).where(WebhookDelivery.subscription_id.in_(owned))
    if owner.shop_id is not None:
        stmt = stmt.where(WebhookDelivery.shop_id == owner.shop_id)
    if status:
        stmt = stmt.where(WebhookDelivery.status == status)
    if event_type:
        stmt = stmt.where(WebhookDelivery.event_type == event_type)
    return stmt


def console_delivery(session: DbSession, owner: ConsoleOwner, delivery_id: str) -> WebhookDelivery:
    delivery = session.scalar(console_deliveries_stmt(owner).where(WebhookDelivery.id == delivery_id))
    if delivery is None:
        raise errors.DeliveryNotFound(f"No webhook delivery {delivery_id} here.")
    return delivery
