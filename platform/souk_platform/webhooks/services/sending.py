"""Claiming due deliveries, signing them and sending them.

A delivery run claims due deliveries in a batch (one UPDATE), signs them, commits, sends them
concurrently, and logs every result of the batch in one transaction (``attempts.record_attempts``).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

import httpx
import sqlalchemy as sa

from souk_platform.db import DbSession
from souk_platform.webhooks.models import WebhookDelivery, WebhookSubscription
from souk_platform.webhooks.secret_box import SecretBox
from souk_platform.webhooks.services.subscriptions import signing_secrets
from souk_platform.webhooks.signing import webhook_headers
from souk_platform.webhooks.ssrf import BlockedDestination

DELIVER_JOB = "souk_platform.webhooks.tasks.deliver_due"  # the delivery run (dispatch + send)
CLAIM_LEASE = dt.timedelta(seconds=60)  # longer than the 15 s timeout; a dead worker's claim expires
RESPONSE_KEEP_BYTES = 4096


@dataclass(frozen=True, slots=True)
class PreparedRequest:
    delivery_id: str
    subscription_id: str
    url: str
    headers: dict[str, str]
    body: bytes
    signed_at: dt.datetime  # the ``webhook-timestamp``, and the attempt's time in the log


@dataclass(frozen=True, slots=True)
class AttemptResult:
    status: int | None
    response_body: str | None
    latency_ms: int
    error: str | None = None
    timed_out: bool = False
    retry_after: str | None = None
    response_headers: dict[str, str] = field(default_factory=dict)

    @property
    def succeeded(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def claim_due_deliveries(
    session: DbSession,
    *,
    now: dt.datetime,
    limit: int,
    delivery_ids: list[str] | None = None,
    per_endpoint: int | None = None,
    busy: Mapping[str, int] | None = None,
) -> list[str]:
    """Take up to ``limit`` due deliveries (oldest due first) for one attempt each; return their ids.

    A claim pushes ``next_attempt_at`` forward by ``CLAIM_LEASE``: the caller commits before sending, so
    other runs (and the sweeper) skip the claimed rows, and a run killed mid-send leaves them overdue
    once the lease ends. ``delivery_ids`` restricts the claim to those deliveries.

    ``per_endpoint`` caps what one subscription may have in flight, counting ``busy`` (subscription id
    → requests of this run still out): a slow or flooded endpoint then holds at most that many of the
    run's senders, and every other shop's endpoints keep theirs. Endpoints are visited oldest due first.
    """
    if per_endpoint is None:
        return _claim(session, now=now, limit=limit, delivery_ids=delivery_ids)
    busy = busy or {}
    waiting = session.execute(
        sa.select(WebhookDelivery.subscription_id)
        .where(WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= now)
        .group_by(WebhookDelivery.subscription_id)
        .order_by(sa.func.min(WebhookDelivery.next_attempt_at))
        .limit(limit + len(busy))
    ).scalars()
    claimed: list[str] = []
    for subscription_id in waiting:
        room = min(per_endpoint - busy.get(subscription_id, 0), limit - len(claimed))
        if room > 0:
            claimed += _claim(session, now=now, limit=room, delivery_ids=delivery_ids, subscription_id=subscription_id)
        if len(claimed) >= limit:
            break
    return claimed


def _claim(
    session: DbSession,
    *,
    now: dt.datetime,
    limit: int,
    delivery_ids: list[str] | None = None,
    subscription_id: str | None = None,
) -> list[str]:
    due = (
        sa.select(WebhookDelivery.id)
        .where(WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= now)
        .order_by(WebhookDelivery.next_attempt_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    if delivery_ids is not None:
        due = due.where(WebhookDelivery.id.in_(delivery_ids))
    if subscription_id is not None:
        due = due.where(WebhookDelivery.subscription_id == subscription_id)
    claimed = session.scalars(
        sa.update(WebhookDelivery)
        .where(WebhookDelivery.id.in_(due.scalar_subquery()))
        .values(next_attempt_at=now + CLAIM_LEASE)
        .returning(WebhookDelivery.id)
        .execution_options(synchronize_session=False)
    )
    return list(claimed)


def prepare_requests(
    session: DbSession, *, delivery_ids: list[str], box: SecretBox, now: dt.datetime
) -> list[PreparedRequest]:
    """Sign claimed deliveries for sending now. Those whose endpoint is disabled fail instead (no request)."""
    if not delivery_ids:
        return []
    rows = session.execute(
        sa.select(WebhookDelivery.id, WebhookDelivery.body, WebhookSubscription)
        .join(WebhookSubscription, WebhookSubscription.id == WebhookDelivery.subscription_id)
        .where(WebhookDelivery.id.in_(delivery_ids))
        .order_by(WebhookDelivery.id)
    )
    requests: list[PreparedRequest] = []
    refused: list[str] = []
    secrets: dict[str, list[str]] = {}
    for delivery_id, text, subscription in rows:
        if subscription.status != "enabled":
            refused.append(delivery_id)
            continue
        if subscription.id not in secrets:
            secrets[subscription.id] = signing_secrets(subscription, box=box, now=now)
        body = text.encode()
        headers = {
            "content-type": "application/json",
            **webhook_headers(secrets[subscription.id], msg_id=delivery_id, at=now, body=body),
        }
        requests.append(PreparedRequest(delivery_id, subscription.id, subscription.url, headers, body, now))
    if refused:
        session.execute(
            sa.update(WebhookDelivery)
            .where(WebhookDelivery.id.in_(refused))
            .values(
                status="failed",
                next_attempt_at=None,
                last_error="The endpoint is disabled; recover the delivery after enabling it.",
            )
            .execution_options(synchronize_session=False)
        )
    return requests


def send(http: httpx.Client, request: PreparedRequest) -> AttemptResult:
    """POST one prepared request; never raises for network trouble (it becomes the result's ``error``).

    Safe to call from several threads at once with one client (the delivery run does).
    """
    started = time.perf_counter()
    try:
        with http.stream("POST", request.url, headers=request.headers, content=request.body) as response:
            kept = b""
            for chunk in response.iter_bytes():
                kept += chunk
                if len(kept) >= RESPONSE_KEEP_BYTES:
                    break  # no need to read a huge error page to its end
            status = response.status_code
            retry_after = response.headers.get("retry-after")
            redirect = response.headers.get("location") if response.is_redirect else None
    except BlockedDestination as exc:
        return AttemptResult(None, None, _ms_since(started), error=f"Refused by the SSRF guard: {exc}")
    except httpx.TimeoutException as exc:
        # Say which wait ran out and how long the attempt took: a fixed "15 s" hid an attempt that
        # failed long before (or after) the timeout.
        waited = _ms_since(started)
        phase = _TIMEOUT_PHASES.get(type(exc), "")
        return AttemptResult(None, None, waited, error=f"Timed out{phase} after {waited / 1000:.1f} s.", timed_out=True)
    except httpx.HTTPError as exc:
        return AttemptResult(None, None, _ms_since(started), error=f"{type(exc).__name__}: {exc}"[:500])
    text = kept[:RESPONSE_KEEP_BYTES].decode("utf-8", errors="replace")
    error = f"Redirect to {redirect} not followed." if redirect else None
    return AttemptResult(status, text, _ms_since(started), error=error, retry_after=retry_after)


_TIMEOUT_PHASES: dict[type[httpx.TimeoutException], str] = {
    httpx.ConnectTimeout: " connecting",
    httpx.WriteTimeout: " sending the request",
    httpx.ReadTimeout: " waiting for the response",
    httpx.PoolTimeout: " waiting for a connection",
}


def _ms_since(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)


def overdue_delivery_ids(session: DbSession, *, now: dt.datetime, limit: int = 1000) -> list[str]:
    """Pending deliveries whose time has come (new, retry due, or a dead worker's expired claim)."""
    stmt = (
        sa.select(WebhookDelivery.id)
        .where(WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= now)
        .order_by(WebhookDelivery.next_attempt_at)
        .limit(limit)
    )
    return list(session.scalars(stmt))
