"""Webhook jobs: the delivery run (dispatch the outbox, send what is due), the sweep, the purges.

Every job reads the database for the truth, commits its own work and is safe to run twice: a queue
that loses jobs (FLUSHALL, a killed worker) only delays deliveries until the next sweep.
"""

from __future__ import annotations

import functools
import time

import structlog
from flask import Flask, current_app

from souk_platform.core.clock import Clock
from souk_platform.db import db
from souk_platform.jobs.runner import JobRunner
from souk_platform.observability import metrics_of
from souk_platform.webhooks import services
from souk_platform.webhooks.lanes import SendLanes
from souk_platform.webhooks.runtime import (
    PER_ENDPOINT_CONNECTIONS,
    PER_ENDPOINT_WINDOW,
    RUN_WINDOW,
    SLOW_ATTEMPT_MS,
    runtime_for,
)
from souk_platform.webhooks.services import AttemptResult, PreparedRequest

log = structlog.get_logger("souk.webhooks")

# A run stops claiming after this long and queues its successor, so other jobs get the worker in between.
RUN_SECONDS = 3.0
# The longest a run waits for what it holds to be sent before it logs what finished and claims more.
ROUND_SECONDS = 0.05
# The same wait when the last round found nothing new (a slow endpoint is all that is left).
IDLE_ROUND_SECONDS = 0.25
# A run with nothing left to do keeps looking this long before it ends, every LINGER_POLL_SECONDS: under a
# steady stream of events one run then serves many commits instead of an rq job per burst. It must exceed
# jobs.runner.ONCE_COALESCE_SECONDS (plus a poll): commits that soon after a request trust this run.
LINGER_SECONDS = 0.2
LINGER_POLL_SECONDS = 0.02


def _clock() -> Clock:
    clock: Clock = current_app.extensions["souk.clock"]
    return clock


def _runner() -> JobRunner:
    runner: JobRunner = current_app.extensions["souk.jobs"]
    return runner


def _count_attempts(app: Flask, finished: list[tuple[PreparedRequest, AttemptResult]]) -> None:
    metrics = metrics_of(app)
    for _, result in finished:
        metrics.observe_webhook_attempt(result.status, timed_out=result.timed_out, latency_ms=result.latency_ms)


def deliver_due() -> int:
    """The delivery run: dispatch new outbox rows and send every due delivery until nothing has turned up
    for ``LINGER_SECONDS`` or for at most about ``RUN_SECONDS``; return how many attempts it made.

    Each round is one transaction of a few statements whatever its size: log the attempts that finished,
    give back claims that were not sent, dispatch, claim as many due deliveries as the windows allow (with
    their bodies and endpoints, signed), commit; then the lanes post them while this thread waits (see
    ``lanes.SendLanes`` and docs/architecture.md §8). Runs are asked for with ``enqueue_once`` by every
    commit that emits an event, by resend/recover/test and by the sweep; several may run at once (claims
    skip each other's rows).
    """
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    # One session for the whole run: a run can last seconds, and the test suite swaps ``db.session`` for its
    # own between tests; a run whose rounds straddled the swap would hold one transaction open in the old
    # session while the new one waits for its lock (SQLite).
    session = db.session()
    runtime = runtime_for(app)
    clock = _clock()
    lanes = SendLanes(
        runtime.senders(),
        connections=PER_ENDPOINT_CONNECTIONS,
        slow_ms=SLOW_ATTEMPT_MS,
        stale_seconds=services.CLAIM_LEASE.total_seconds() / 2,
    )
    claim_until = time.monotonic() + RUN_SECONDS
    attempts = failures = 0
    idle_since: float | None = None
    while True:
        claiming = time.monotonic() < claim_until
        found = False
        requests: list[PreparedRequest] = []
        finished, released = lanes.collect()
        if finished:
            services.record_attempts(session, finished, clock=clock, rng=runtime.rng)
            _count_attempts(app, finished)
            attempts += len(finished)
            failures += _log_failures(finished)
        if released:
            services.release_claims(session, released, now=clock.now())
        if claiming:
            events, _ = services.dispatch_outbox(session, clock=clock)
            free = RUN_WINDOW - lanes.held()
            if free > 0:
                requests = services.claim_requests(
                    session,
                    now=clock.now(),
                    limit=free,
                    box=runtime.box,
                    per_endpoint=PER_ENDPOINT_WINDOW,
                    busy=lanes.busy(),
                    per_failing_endpoint=PER_ENDPOINT_CONNECTIONS,
                    failing=lanes.troubled(),
                )
            found = bool(events or requests)
        session.commit()  # claims are visible to other runs before anything is sent
        if requests:
            http = runtime.http_for(app)  # the settings as they are now, not at the start
            lanes.add(requests, functools.partial(services.send, http))
        if found or lanes.held():
            idle_since = None
        if not lanes.held():
            if claiming and found:
                continue
            if claiming:
                idle_since = time.monotonic() if idle_since is None else idle_since
                if time.monotonic() - idle_since < LINGER_SECONDS:
                    time.sleep(LINGER_POLL_SECONDS)
                    continue
            break
        lanes.wait(ROUND_SECONDS if found else IDLE_ROUND_SECONDS)
    if not claiming:
        _runner().enqueue_once(services.DELIVER_JOB)  # time is up, maybe not the work
    if attempts:
        log.info("webhook.run", attempts=attempts, failed=failures)
    return attempts


def _log_failures(outcomes: list[tuple[PreparedRequest, AttemptResult]]) -> int:
    """Log each failed attempt (successes are only counted: at full speed there are hundreds a second)."""
    failed = [(request, result) for request, result in outcomes if not result.succeeded]
    for request, result in failed:
        log.info(
            "webhook.attempt_failed",
            delivery=request.delivery_id,
            http_status=result.status,
            error=result.error,
            ms=result.latency_ms,
        )
    return len(failed)


def dispatch_outbox() -> int:
    """Turn every undispatched outbox row into deliveries (in batches); queue a run if any were made."""
    total = 0
    while True:
        events, created = services.dispatch_outbox(db.session, clock=_clock())
        db.session.commit()
        total += len(created)
        if not events:
            break
    if total:
        _runner().enqueue_once(services.DELIVER_JOB)
    return total


def sweep() -> int:
    """Periodic: dispatch anything the outbox still holds; if deliveries are overdue (new, a retry due, or
    a dead worker's expired claim), queue a run. Returns how many are overdue."""
    dispatch_outbox()
    overdue = len(services.overdue_delivery_ids(db.session, now=_clock().now()))
    db.session.rollback()
    if overdue:
        _runner().enqueue_once(services.DELIVER_JOB)
    return overdue


def purge_expired_payloads() -> int:
    """Periodic: drop finished deliveries (and their attempt logs) older than 14 days."""
    removed = services.purge_expired_payloads(db.session, now=_clock().now())
    db.session.commit()
    return removed


def send_shop_redactions() -> int:
    """Periodic: emit ``shop.redact`` to apps uninstalled 48 hours ago (delivered like any event)."""
    sent = services.send_due_shop_redactions(db.session, now=_clock().now())
    db.session.commit()
    return len(sent)
