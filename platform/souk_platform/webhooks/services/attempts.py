"""Recording attempts and what follows for each delivery: done, a retry at a time, given up, or the
endpoint disabled (410 Gone, or failing for 5 days)."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import sqlalchemy as sa

from souk_platform.core.clock import Clock
from souk_platform.core.ids import new_id
from souk_platform.db import DbSession, UTCDateTime
from souk_platform.events.services import emit
from souk_platform.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookSubscription
from souk_platform.webhooks.schedule import Failure, retry_delay
from souk_platform.webhooks.services.dispatch import _rfc3339
from souk_platform.webhooks.services.sending import AttemptResult, PreparedRequest
from souk_platform.webhooks.services.subscriptions import DISABLED_FAILING, DISABLED_GONE, subscription_payload

FAILING_LIMIT = dt.timedelta(days=5)


def record_attempts(
    session: DbSession,
    outcomes: list[tuple[PreparedRequest, AttemptResult]],
    *,
    clock: Clock,
    rng: random.Random,
) -> list[str]:
    """Log each attempt and decide what next for its delivery: done, retry at a time, give up, or
    disable the endpoint. Returns the ids of the deliveries recorded (one deleted with its subscription
    while it was being sent is skipped).

    Successes, nearly all of them, are settled with one UPDATE per signing time (a claim's batch shares
    one) and one INSERT of every attempt; failures are locked with one SELECT, their endpoints' failure
    streaks started with one UPDATE, and each goes through the retry rules (its changes flushed together).
    """
    now = clock.now()
    attempts: list[dict[str, Any]] = []
    recorded: list[str] = []
    by_signing_time: dict[dt.datetime, list[tuple[PreparedRequest, AttemptResult]]] = {}
    failures: list[tuple[PreparedRequest, AttemptResult]] = []
    for request, result in outcomes:
        if result.succeeded:
            by_signing_time.setdefault(request.signed_at, []).append((request, result))
        else:
            failures.append((request, result))
    recovered: set[str] = set()
    for signed_at, group in by_signing_time.items():
        done = session.execute(
            sa.update(WebhookDelivery)
            .where(WebhookDelivery.id.in_([request.delivery_id for request, _ in group]))
            .values(
                status="succeeded",
                attempts=WebhookDelivery.attempts + 1,
                last_attempt_at=signed_at,
                last_error=None,
                next_attempt_at=None,
            )
            .returning(WebhookDelivery.id, WebhookDelivery.shop_id, WebhookDelivery.subscription_id)
            .execution_options(synchronize_session=False)
        )
        owners = {row.id: (row.shop_id, row.subscription_id) for row in done}
        for request, result in group:
            if request.delivery_id in owners:
                shop_id, subscription_id = owners[request.delivery_id]
                attempts.append(_attempt_row(request, result, shop_id))
                recorded.append(request.delivery_id)
                recovered.add(subscription_id)
    if failures:
        ids = sorted({request.delivery_id for request, _ in failures})
        stmt = sa.select(WebhookDelivery).where(WebhookDelivery.id.in_(ids)).order_by(WebhookDelivery.id)
        deliveries = {d.id: d for d in session.scalars(stmt.with_for_update())}
        streaks = _start_failure_streaks(session, failures, deliveries)
        for request, result in failures:
            delivery = deliveries.get(request.delivery_id)
            if delivery is None:
                continue
            attempts.append(_attempt_row(request, result, delivery.shop_id))
            recorded.append(delivery.id)
            delivery.attempts += 1
            if delivery.status != "pending":
                # This attempt outlived its claim and another one settled the delivery meanwhile: it goes
                # in the log, but must not reschedule, fail or disable what already succeeded.
                continue
            delivery.last_attempt_at = request.signed_at
            delivery.last_error = result.error or f"HTTP {result.status}"
            if result.status == 410:
                delivery.status, delivery.next_attempt_at = "failed", None
                _disable(session, delivery.subscription_id, DISABLED_GONE, now)
            else:
                failing_since = streaks.get(delivery.subscription_id)
                _schedule_retry(session, delivery, result, failing_since=failing_since, now=now, rng=rng)
    if recovered:
        # One success ends an endpoint's failure streak.
        session.execute(
            sa.update(WebhookSubscription)
            .where(WebhookSubscription.id.in_(sorted(recovered)), WebhookSubscription.failing_since.is_not(None))
            .values(failing_since=None)
            .execution_options(synchronize_session=False)
        )
    if attempts:
        session.execute(sa.insert(WebhookAttempt), attempts)
    session.flush()
    return recorded


def _attempt_row(request: PreparedRequest, result: AttemptResult, shop_id: str) -> dict[str, Any]:
    return {
        "id": new_id("wha"),
        "delivery_id": request.delivery_id,
        "shop_id": shop_id,
        "attempted_at": request.signed_at,
        "url": request.url,
        "request_headers": request.headers,
        "request_body": request.body.decode(),
        "response_status": result.status,
        "response_body": result.response_body,
        "latency_ms": result.latency_ms,
        "error": result.error,
    }


def _start_failure_streaks(
    session: DbSession,
    failures: list[tuple[PreparedRequest, AttemptResult]],
    deliveries: dict[str, WebhookDelivery],
) -> dict[str, dt.datetime | None]:
    """Start the failure streak of every endpoint that failed a pending delivery here and has none yet (at its
    earliest failed attempt); return each one's streak start. One statement for the whole batch."""
    earliest: dict[str, dt.datetime] = {}
    for request, result in failures:
        delivery = deliveries.get(request.delivery_id)
        if delivery is None or delivery.status != "pending" or result.status == 410:
            continue
        known = earliest.get(delivery.subscription_id)
        earliest[delivery.subscription_id] = request.signed_at if known is None else min(known, request.signed_at)
    if not earliest:
        return {}
    started = sa.case(
        {sid: sa.literal(at, UTCDateTime()) for sid, at in earliest.items()}, value=WebhookSubscription.id
    )
    rows = session.execute(
        sa.update(WebhookSubscription)
        .where(WebhookSubscription.id.in_(sorted(earliest)))
        .values(failing_since=sa.func.coalesce(WebhookSubscription.failing_since, started))
        .returning(WebhookSubscription.id, WebhookSubscription.failing_since)
        .execution_options(synchronize_session=False)
    )
    return {row.id: row.failing_since for row in rows}


def _schedule_retry(
    session: DbSession,
    delivery: WebhookDelivery,
    result: AttemptResult,
    *,
    failing_since: dt.datetime | None,
    now: dt.datetime,
    rng: random.Random,
) -> None:
    subscription_id = delivery.subscription_id
    failure = Failure(status=result.status, timed_out=result.timed_out, retry_after=result.retry_after)
    delay = retry_delay(delivery.attempts - delivery.round_start, failure, rng=rng, now=now)
    if failing_since is not None and now - failing_since >= FAILING_LIMIT:
        delivery.status, delivery.next_attempt_at = "failed", None
        _disable(session, subscription_id, DISABLED_FAILING, now)
    elif delay is None:
        delivery.status, delivery.next_attempt_at = "failed", None
    else:
        delivery.next_attempt_at = now + dt.timedelta(seconds=delay)


def _disable(session: DbSession, subscription_id: str, reason: str, now: dt.datetime) -> None:
    """Disable an endpoint and tell its owner (the ``webhook_subscription.disabled`` event)."""
    subscription = session.get(WebhookSubscription, subscription_id, with_for_update=True)
    if subscription is None or subscription.status != "enabled":
        return
    subscription.status, subscription.disabled_reason = "disabled", reason
    session.flush()
    emit(
        session,
        shop_id=subscription.shop_id,
        type="webhook_subscription.disabled",
        subject_type="webhook_subscription",
        subject_id=subscription.id,
        payload={**subscription_payload(subscription), "disabled_at": _rfc3339(now)},
    )
