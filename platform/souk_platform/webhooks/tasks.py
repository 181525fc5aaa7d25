"""Webhook jobs: dispatch the outbox, deliver one attempt, sweep overdue work, purge old payloads.

Every job reads the database for the truth, commits its own work and is safe to run twice: a queue
that loses jobs (FLUSHALL, a killed worker) only delays deliveries until the next sweep.
"""

from __future__ import annotations

import structlog
from flask import current_app

from souk_platform.core.clock import Clock
from souk_platform.db import db
from souk_platform.jobs.runner import JobRunner
from souk_platform.webhooks import services
from souk_platform.webhooks.runtime import allow_loopback, runtime_for

log = structlog.get_logger("souk.webhooks")


def _clock() -> Clock:
    clock: Clock = current_app.extensions["souk.clock"]
    return clock


def _enqueue_deliveries(delivery_ids: list[str]) -> None:
    runner: JobRunner = current_app.extensions["souk.jobs"]
    for delivery_id in delivery_ids:
        runner.enqueue(services.DELIVER_JOB, delivery_id)


def dispatch_outbox() -> int:
    """Turn every undispatched outbox row into deliveries (in batches) and enqueue them."""
    total = 0
    while True:
        events, created = services.dispatch_outbox(db.session, clock=_clock())
        db.session.commit()
        _enqueue_deliveries(created)
        total += len(created)
        if not events:
            return total


def deliver(delivery_id: str) -> str:
    """Make one attempt at a due delivery; returns its status afterwards ("skipped" if not due/claimed)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    runtime = runtime_for(app)
    clock = _clock()
    claimed_at = clock.now()
    if not services.claim_delivery(db.session, delivery_id=delivery_id, now=claimed_at):
        db.session.rollback()
        return "skipped"
    db.session.commit()
    request = services.prepare_request(db.session, delivery_id=delivery_id, box=runtime.box, now=claimed_at)
    db.session.commit()
    if request is None:
        return "failed"
    result = services.send(runtime.http(allow_loopback=allow_loopback(app)), request)
    delivery = services.record_attempt(
        db.session, request=request, result=result, attempted_at=claimed_at, clock=clock, rng=runtime.rng
    )
    status = delivery.status
    db.session.commit()
    log.info("webhook.attempt", delivery=delivery_id, http_status=result.status, outcome=status, ms=result.latency_ms)
    return status


def sweep() -> int:
    """Periodic: dispatch anything the outbox still holds and enqueue every overdue delivery."""
    dispatch_outbox()
    overdue = services.overdue_delivery_ids(db.session, now=_clock().now())
    db.session.rollback()
    _enqueue_deliveries(overdue)
    return len(overdue)


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
