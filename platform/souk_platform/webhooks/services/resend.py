"""Sending again on request: one delivery, every failed one since a time, or a ``webhook.test`` event."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from souk_platform.core.clock import Clock
from souk_platform.db import DbSession
from souk_platform.jobs.runner import enqueue_once_after_commit
from souk_platform.webhooks import errors
from souk_platform.webhooks.models import WebhookDelivery, WebhookSubscription
from souk_platform.webhooks.services.delivery_log import PAYLOAD_RETENTION, get_delivery
from souk_platform.webhooks.services.dispatch import message_body
from souk_platform.webhooks.services.sending import DELIVER_JOB
from souk_platform.webhooks.services.subscriptions import get_subscription

TEST_EVENT_TYPE = "webhook.test"


def _restart(delivery: WebhookDelivery, now: dt.datetime) -> None:
    delivery.status, delivery.next_attempt_at, delivery.round_start = "pending", now, delivery.attempts


def resend_delivery(
    session: DbSession, *, shop_id: str, delivery_id: str, installation_id: str | None, clock: Clock
) -> WebhookDelivery:
    """Send a delivery again now, same ``webhook-id`` (a run is queued after commit). A finished delivery
    gets a fresh retry schedule; a pending one is sent now instead of at its retry time."""
    delivery = get_delivery(session, shop_id=shop_id, delivery_id=delivery_id, installation_id=installation_id)
    _require_enabled(session, delivery.subscription_id)
    if delivery.status != "pending":
        _restart(delivery, clock.now())
    else:
        delivery.next_attempt_at = clock.now()
    session.flush()
    enqueue_once_after_commit(session, DELIVER_JOB)
    return delivery


def recover_failed(
    session: DbSession,
    *,
    shop_id: str,
    subscription_id: str,
    installation_id: str | None,
    since: dt.datetime,
    clock: Clock,
) -> list[str]:
    """Send again every failed delivery of a subscription created since ``since``; return their ids."""
    subscription = get_subscription(
        session, shop_id=shop_id, subscription_id=subscription_id, installation_id=installation_id
    )
    _require_enabled(session, subscription.id)
    now = clock.now()
    if since < now - PAYLOAD_RETENTION:
        detail = "Payloads are kept for 14 days: choose a time within them."
        raise errors.InvalidSubscription(detail, errors={"since": [detail]})
    failed = list(
        session.scalars(
            sa.select(WebhookDelivery).where(
                WebhookDelivery.subscription_id == subscription.id,
                WebhookDelivery.status == "failed",
                WebhookDelivery.created_at >= since,
            )
        )
    )
    for delivery in failed:
        _restart(delivery, now)
        enqueue_once_after_commit(session, DELIVER_JOB)
    session.flush()
    return [d.id for d in failed]


def send_test_event(
    session: DbSession, *, shop_id: str, subscription_id: str, installation_id: str | None, clock: Clock
) -> WebhookDelivery:
    """Queue a ``webhook.test`` delivery to one subscription (it never enters the shop's event log)."""
    subscription = get_subscription(
        session, shop_id=shop_id, subscription_id=subscription_id, installation_id=installation_id
    )
    _require_enabled(session, subscription.id)
    now = clock.now()
    data = {"subscription_id": subscription.id, "message": "A test event from Souk.", "version": 1}
    delivery = WebhookDelivery(
        shop_id=shop_id,
        subscription_id=subscription.id,
        event_id=None,
        event_type=TEST_EVENT_TYPE,
        body=message_body(event_type=TEST_EVENT_TYPE, created_at=now, shop_id=shop_id, data=data),
        next_attempt_at=now,
        created_at=now,
    )
    session.add(delivery)
    session.flush()
    enqueue_once_after_commit(session, DELIVER_JOB)
    return delivery


def _require_enabled(session: DbSession, subscription_id: str) -> None:
    subscription = session.get(WebhookSubscription, subscription_id)
    if subscription is None or subscription.status != "enabled":
        raise errors.SubscriptionDisabled("The subscription is disabled: enable it first (PATCH enabled=true).")
