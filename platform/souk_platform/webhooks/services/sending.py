"""Claiming due deliveries, signing them and sending them.

A delivery run claims due deliveries in a batch with their bodies (one UPDATE … RETURNING), signs them,
commits, sends them concurrently, and logs every result of the batch in one transaction
(``attempts.record_attempts``). A claim it could not send in time is given back (``release_claims``).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
import sqlalchemy as sa

from souk_platform.db import DbSession
from souk_platform.webhooks.models import WebhookDelivery, WebhookSubscription
from souk_platform.webhooks.secret_box import SecretBox
from souk_platform.webhooks.services.subscriptions import open_secrets
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
    per_failing_endpoint: int | None = None,
    failing: Collection[str] = (),
) -> list[str]:
    """Take up to ``limit`` due deliveries (oldest due first) for one attempt each; return their ids.

    A claim pushes ``next_attempt_at`` forward by ``CLAIM_LEASE``: the caller commits before sending, so
    other runs (and the sweeper) skip the claimed rows, and a run killed mid-send leaves them overdue
    once the lease ends. ``delivery_ids`` restricts the claim to those deliveries.

    ``per_endpoint`` caps what one subscription may hold of the caller's claims, counting ``busy``
    (subscription id → deliveries the caller claimed and has not logged yet): a slow or flooded endpoint
    then holds at most that many, and every other shop's endpoints keep theirs. Endpoints are visited
    oldest due first. A failing endpoint (``failing_since`` set, or in ``failing``: what the caller saw
    fail or answer slowly) is capped at ``per_failing_endpoint`` instead.
    """
    rows = _claim_rows(
        session,
        now=now,
        limit=limit,
        delivery_ids=delivery_ids,
        per_endpoint=per_endpoint,
        busy=busy or {},
        per_failing_endpoint=per_failing_endpoint,
        failing=failing,
    )
    return [row.id for row in rows]


def claim_requests(
    session: DbSession,
    *,
    now: dt.datetime,
    limit: int,
    box: SecretBox,
    per_endpoint: int | None = None,
    busy: Mapping[str, int] | None = None,
    per_failing_endpoint: int | None = None,
    failing: Collection[str] = (),
) -> list[PreparedRequest]:
    """Claim due deliveries as ``claim_due_deliveries`` does and sign them for sending now.

    The claim returns each delivery's body (one UPDATE … RETURNING) and one query reads the endpoints'
    columns, so a batch of any size costs the same few statements (docs/architecture.md §8).
    Deliveries whose endpoint is disabled fail instead (no request).
    """
    rows = _claim_rows(
        session,
        now=now,
        limit=limit,
        delivery_ids=None,
        per_endpoint=per_endpoint,
        busy=busy or {},
        per_failing_endpoint=per_failing_endpoint,
        failing=failing,
    )
    endpoints = _endpoint_columns(session, {row.subscription_id for row in rows})
    requests: list[PreparedRequest] = []
    refused: list[str] = []
    secrets: dict[str, list[str]] = {}
    for row in sorted(rows, key=lambda row: row.id):
        endpoint = endpoints.get(row.subscription_id)
        if endpoint is None or endpoint.status != "enabled":
            refused.append(row.id)
            continue
        if endpoint.id not in secrets:
            secrets[endpoint.id] = open_secrets(
                box,
                sealed=endpoint.secret_sealed,
                previous_sealed=endpoint.previous_secret_sealed,
                previous_expires_at=endpoint.previous_secret_expires_at,
                now=now,
            )
        body = row.body.encode()
        headers = {
            "content-type": "application/json",
            **webhook_headers(secrets[endpoint.id], msg_id=row.id, at=now, body=body),
        }
        requests.append(PreparedRequest(row.id, endpoint.id, endpoint.url, headers, body, now))
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


def release_claims(session: DbSession, requests: list[PreparedRequest], *, now: dt.datetime) -> int:
    """Make claimed deliveries that were never sent due again at ``now``; return how many were.

    Only a claim still held is given back: a delivery whose lease ran out and that another run claimed
    meanwhile (its ``next_attempt_at`` is no longer this claim's) is left to that run.
    """
    by_claim: dict[dt.datetime, list[str]] = {}
    for request in requests:
        by_claim.setdefault(request.signed_at, []).append(request.delivery_id)
    released = 0
    for claimed_at, ids in by_claim.items():
        result = session.execute(
            sa.update(WebhookDelivery)
            .where(
                WebhookDelivery.id.in_(sorted(ids)),
                WebhookDelivery.status == "pending",
                WebhookDelivery.next_attempt_at == claimed_at + CLAIM_LEASE,
            )
            .values(next_attempt_at=now)
            .execution_options(synchronize_session=False)
        )
        released += result.rowcount  # type: ignore[attr-defined]
    return released


def _claim_rows(
    session: DbSession,
    *,
    now: dt.datetime,
    limit: int,
    delivery_ids: list[str] | None,
    per_endpoint: int | None,
    busy: Mapping[str, int],
    per_failing_endpoint: int | None,
    failing: Collection[str],
) -> Sequence[Any]:
    """Claim due deliveries: one UPDATE … RETURNING, plus, with a cap per endpoint, one query choosing the
    endpoints oldest due first."""
    due = (WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= now)
    if limit <= 0:
        return []
    if per_endpoint is None:
        taken = (
            sa.select(WebhookDelivery.id)
            .where(*due)
            .order_by(WebhookDelivery.next_attempt_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        if delivery_ids is not None:
            taken = taken.where(WebhookDelivery.id.in_(delivery_ids))
        chosen: sa.Select[Any] | sa.CompoundSelect[Any] = taken
    else:
        endpoints = session.execute(
            sa.select(WebhookDelivery.subscription_id, WebhookSubscription.failing_since.is_not(None))
            .join(WebhookSubscription, WebhookSubscription.id == WebhookDelivery.subscription_id)
            .where(*due)
            .group_by(WebhookDelivery.subscription_id, WebhookSubscription.failing_since)
            .order_by(sa.func.min(WebhookDelivery.next_attempt_at))
            .limit(limit + len(busy))
        )
        # One arm per endpoint with room, each taking that endpoint's oldest due rows (SKIP LOCKED), all in
        # the one UPDATE below.
        arms: list[sa.Select[Any]] = []
        left = limit
        for subscription_id, failing_in_db in endpoints:
            cap = per_endpoint
            if per_failing_endpoint is not None and (failing_in_db or subscription_id in failing):
                cap = per_failing_endpoint
            room = min(cap - busy.get(subscription_id, 0), left)
            if room <= 0:
                continue
            taken = (
                sa.select(WebhookDelivery.id)
                .where(*due, WebhookDelivery.subscription_id == subscription_id)
                .order_by(WebhookDelivery.next_attempt_at)
                .limit(room)
                .with_for_update(skip_locked=True)
            )
            if delivery_ids is not None:
                taken = taken.where(WebhookDelivery.id.in_(delivery_ids))
            arms.append(taken)
            left -= room
            if not left:
                break
        if not arms:
            return []
        # Each arm is wrapped as a subquery: PostgreSQL refuses FOR UPDATE directly under UNION.
        chosen = arms[0] if len(arms) == 1 else sa.union_all(*(sa.select(arm.subquery().c.id) for arm in arms))
    claimed = session.execute(
        sa.update(WebhookDelivery)
        .where(WebhookDelivery.id.in_(chosen))
        .values(next_attempt_at=now + CLAIM_LEASE)
        .returning(WebhookDelivery.id, WebhookDelivery.body, WebhookDelivery.subscription_id)
        .execution_options(synchronize_session=False)
    ).all()
    return claimed


def _endpoint_columns(session: DbSession, subscription_ids: set[str]) -> dict[str, Any]:
    """What signing and sending need of each endpoint, by subscription id (columns, not instances)."""
    if not subscription_ids:
        return {}
    rows = session.execute(
        sa.select(
            WebhookSubscription.id,
            WebhookSubscription.url,
            WebhookSubscription.status,
            WebhookSubscription.secret_sealed,
            WebhookSubscription.previous_secret_sealed,
            WebhookSubscription.previous_secret_expires_at,
        ).where(WebhookSubscription.id.in_(sorted(subscription_ids)))
    )
    return {row.id: row for row in rows}


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
