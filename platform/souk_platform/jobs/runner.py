"""Job runners and the periodic-job table.

A job is a dotted path to a function taking JSON-able arguments; it runs inside an app context
and commits its own work. Jobs are sent only after the transaction that asked for them commits
(``enqueue_after_commit``), so a job never runs before the rows it reads exist.

A job that drains a table (the webhook delivery run) is asked for with ``enqueue_once``: however many
commits ask, at most one copy waits in the queue; once it starts, the next request queues another, so
work committed while it runs is never left without a run to pick it up. Such a job must keep looking for
new work for at least ``ONCE_COALESCE_SECONDS`` after it starts: the rq runner relies on that to skip
asking again for that long after it learnt that a copy is waiting.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import importlib
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import structlog
from flask import Flask
from sqlalchemy import event
from sqlalchemy.orm import Session

from souk_platform.db import DbSession

log = structlog.get_logger("souk.jobs")

_PENDING = "souk.pending_jobs"
# How long a waiting ``enqueue_once`` job blocks further copies if it vanishes without starting (a
# flushed queue takes the marker with it; this bounds the rarer loss of the job alone).
ONCE_MARKER_SECONDS = 30
# For this long after Redis said a copy of an ``enqueue_once`` job is waiting, a process asks no more:
# that copy has not started then, and an ``enqueue_once`` job keeps looking for new work for longer than
# this after it starts (the delivery run lingers), so it sees every commit made in the meantime. Under a
# stream of commits this saves a Redis round trip on nearly every one.
ONCE_COALESCE_SECONDS = 0.1


@dataclass(frozen=True, slots=True)
class PeriodicJob:
    name: str
    path: str
    every_seconds: int


# The one table of periodic jobs, read by both wirings.
PERIODIC_JOBS: tuple[PeriodicJob, ...] = (
    PeriodicJob("purge-idempotency", "souk_platform.api.tasks.purge_idempotency", 3600),
    PeriodicJob("evaluate-member-levels", "souk_platform.members.tasks.evaluate_member_levels", 3600),
    PeriodicJob("evaluate-rule-tags", "souk_platform.tags.tasks.evaluate_rule_tags", 3600),
    PeriodicJob("purge-customer-events", "souk_platform.behaviour.tasks.purge_customer_events", 3600),
    PeriodicJob("expire-points", "souk_platform.points.tasks.expire_points", 3600),
    PeriodicJob("expire-wallet-coupons", "souk_platform.coupons.tasks.expire_wallet_coupons", 600),
    PeriodicJob("resume-coupon-issues", "souk_platform.coupons.tasks.resume_coupon_issues", 300),
    PeriodicJob("grant-join-level-benefits", "souk_platform.benefits.tasks.grant_join_and_level_benefits", 60),
    PeriodicJob(
        "grant-birthday-dormant-benefits", "souk_platform.benefits.tasks.grant_birthday_and_dormant_benefits", 3600
    ),
    PeriodicJob("expire-benefit-grants", "souk_platform.benefits.tasks.expire_benefit_grants", 3600),
    PeriodicJob("advance-journeys", "souk_platform.journeys.tasks.tick", 5),
    PeriodicJob("run-journey-triggers", "souk_platform.journeys.tasks.run_periodic_triggers", 60),
    PeriodicJob("send-due-messages", "souk_platform.messaging.tasks.send_due_messages", 60),
    PeriodicJob("credit-due-cashback", "souk_platform.stored_value.tasks.credit_due_cashback", 600),
    PeriodicJob("cancel-expired-orders", "souk_platform.orders.tasks.cancel_expired_orders", 60),
    PeriodicJob("expire-risk-reviews", "souk_platform.risk.tasks.expire_risk_reviews", 300),
    PeriodicJob("release-expired-stock", "souk_platform.catalog.tasks.release_expired_reservations", 60),
    PeriodicJob("sweep-webhooks", "souk_platform.webhooks.tasks.sweep", 5),
    PeriodicJob("purge-webhook-payloads", "souk_platform.webhooks.tasks.purge_expired_payloads", 3600),
    PeriodicJob("purge-plugin-invocations", "souk_platform.plugins.tasks.purge_invocations", 3600),
    PeriodicJob("send-shop-redactions", "souk_platform.webhooks.tasks.send_shop_redactions", 600),
    PeriodicJob("purge-oauth-tokens", "souk_platform.oauth.tasks.purge_expired_tokens", 3600),
)


def add_periodic_job(app: Flask, job: PeriodicJob) -> None:
    """Let an extension (the marketplace) add its timers to the app's periodic jobs."""
    if any(existing.name == job.name for existing in periodic_jobs(app)):
        raise ValueError(f"a periodic job named {job.name!r} already exists")
    app.extensions.setdefault("souk.periodic_jobs", []).append(job)


def periodic_jobs(app: Flask) -> tuple[PeriodicJob, ...]:
    """The platform's table plus what extensions added, for both wirings."""
    return PERIODIC_JOBS + tuple(app.extensions.get("souk.periodic_jobs", ()))


class JobRunner(Protocol):
    def enqueue(self, path: str, *args: Any) -> None: ...

    def enqueue_once(self, path: str, *, coalesce: bool = False) -> None:
        """Queue the argument-less job ``path`` unless a copy is already waiting (not yet started).

        With ``coalesce`` (commits asking after they wrote work), a runner may skip asking for
        ``ONCE_COALESCE_SECONDS`` after it learnt that a copy was waiting; recovery paths (the sweep)
        ask without it, so a queue that lost the copy meanwhile gets a new one.
        """
        ...

    def queue_depth(self) -> dict[str, int]: ...


def resolve(path: str) -> Callable[..., Any]:
    module, _, name = path.rpartition(".")
    func: Callable[..., Any] = getattr(importlib.import_module(module), name)
    return func


def run_job(app: Flask, path: str, *args: Any) -> Any:
    """Run one job in a fresh app context, rolling back on failure; counted in the job metrics."""
    from souk_platform.db import db
    from souk_platform.observability import metrics_of

    metrics = metrics_of(app)
    started = time.perf_counter()
    with app.app_context():
        try:
            return resolve(path)(*args)
        except Exception:
            metrics.job_failures.labels(path).inc()
            db.session.rollback()
            log.exception("job.failed", job=path)
            raise
        finally:
            metrics.job_runs.labels(path).inc()
            metrics.job_seconds.labels(path).observe(time.perf_counter() - started)
            db.session.remove()


class InlineRunner:
    """Embedded wiring: one daemon thread drains a queue and ticks periodic jobs."""

    def __init__(self, app: Flask, *, periodic: bool) -> None:
        self._app = app
        self._queue: queue.Queue[tuple[str, tuple[Any, ...], bool]] = queue.Queue()
        self._waiting_once: set[str] = set()
        self._periodic = periodic
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._stopping = threading.Event()

    def enqueue(self, path: str, *args: Any) -> None:
        self._ensure_thread()
        self._queue.put((path, args, False))

    def enqueue_once(self, path: str, *, coalesce: bool = False) -> None:
        with self._lock:
            if path in self._waiting_once:
                return
            self._waiting_once.add(path)
        self._ensure_thread()
        self._queue.put((path, (), True))

    def queue_depth(self) -> dict[str, int]:
        return {"inline": self._queue.qsize()}

    def start(self, *, periodic: bool = False) -> None:
        """Start the worker thread now; with ``periodic`` it also runs the periodic jobs."""
        self._periodic = self._periodic or periodic
        self._ensure_thread()

    def stop(self, timeout: float = 5.0) -> None:
        """Finish the job in hand, then stop the thread (jobs still queued are dropped: the
        outbox sweep and periodic jobs pick their work up again on the next start)."""
        self._stopping.set()
        thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def _ensure_thread(self) -> None:
        with self._lock:
            if self._thread is None and not self._stopping.is_set():
                self._thread = threading.Thread(target=self._loop, name="souk-jobs", daemon=True)
                self._thread.start()

    def _loop(self) -> None:
        jobs = periodic_jobs(self._app)
        next_due = {job.name: time.monotonic() + 5 for job in jobs}
        first_round = True
        while not self._stopping.is_set():
            try:
                path, args, once = self._queue.get(timeout=1.0)
            except queue.Empty:
                path, args, once = "", (), False
            if once:
                with self._lock:
                    self._waiting_once.discard(path)  # from now on a new request queues another run
            if path:
                with contextlib.suppress(Exception):  # logged in run_job; the thread keeps going
                    run_job(self._app, path, *args)
            if self._periodic:
                now = time.monotonic()
                ran = failed = 0
                for job in jobs:
                    if now >= next_due[job.name]:
                        next_due[job.name] = now + job.every_seconds
                        ran += 1
                        try:
                            run_job(self._app, job.path)
                        except Exception:  # logged in run_job
                            failed += 1
                if first_round and ran:  # all were due together: say once that the timers run, and how
                    first_round = False
                    log.info("jobs.periodic.first_round", ran=ran, failed=failed)


class RqRunner:
    """Production wiring: rq queues on the app's one Redis client."""

    def __init__(self, redis: Any, *, monotonic: Callable[[], float] = time.monotonic) -> None:
        from rq import Queue

        self._redis = redis
        self._queue = Queue("souk", connection=redis)
        self._monotonic = monotonic
        self._waiting_since: dict[str, float] = {}  # path -> when Redis last said a copy was waiting

    def enqueue(self, path: str, *args: Any) -> None:
        self._queue.enqueue("souk_platform.jobs.runner.run_in_worker", path, *args)

    def enqueue_once(self, path: str, *, coalesce: bool = False) -> None:
        asked_at = self._monotonic()  # before the SET: the waiting copy cannot have started before this
        known = self._waiting_since.get(path)
        if coalesce and known is not None and asked_at - known < ONCE_COALESCE_SECONDS:
            return  # a copy was waiting moments ago; it will see this commit (see ONCE_COALESCE_SECONDS)
        # One SET NX: the marker says a copy waits; whoever sets it queues the job.
        if self._redis.set(_once_marker(path), "1", nx=True, ex=ONCE_MARKER_SECONDS):
            self._queue.enqueue("souk_platform.jobs.runner.run_once_in_worker", path)
        self._waiting_since[path] = asked_at

    def queue_depth(self) -> dict[str, int]:
        return {"souk": self._queue.count}

    def forget_waiting(self) -> None:
        """Forget which ``enqueue_once`` copies were waiting: after Redis lost its keys (a flush), ask it again."""
        self._waiting_since.clear()


def run_in_worker(path: str, *args: Any) -> Any:
    """rq entry point: the worker process runs jobs inside the app built by ``souk worker``."""
    from flask import current_app

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    observe_lag(app, path)
    return run_job(app, path, *args)


def run_once_in_worker(path: str) -> Any:
    """rq entry point for ``enqueue_once`` jobs: clear the waiting marker first, then run."""
    from flask import current_app

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    app.extensions["souk.redis"].delete(_once_marker(path))
    observe_lag(app, path)
    return run_job(app, path)


def observe_lag(app: Flask, path: str) -> None:
    """Count the time the rq job running now waited in the queue (``souk_job_lag_seconds``)."""
    from rq import get_current_job

    from souk_platform.observability import metrics_of

    job = get_current_job()
    enqueued_at = job.enqueued_at if job is not None else None
    if enqueued_at is None:
        return
    if enqueued_at.tzinfo is None:  # rq stores UTC
        enqueued_at = enqueued_at.replace(tzinfo=dt.UTC)
    lag = (dt.datetime.now(dt.UTC) - enqueued_at).total_seconds()
    metrics_of(app).job_lag.labels(path).observe(max(0.0, lag))


def _once_marker(path: str) -> str:
    return f"souk:once:{path}"


def enqueue_after_commit(session: DbSession, path: str, *args: Any) -> None:
    """Send the job once ``session`` commits; drop it if the session rolls back."""
    session.info.setdefault(_PENDING, []).append((path, args, False))


def enqueue_once_after_commit(session: DbSession, path: str) -> None:
    """After ``session`` commits, ``enqueue_once`` the argument-less job ``path`` (see ``JobRunner``)."""
    pending = session.info.setdefault(_PENDING, [])
    if (path, (), True) not in pending:
        pending.append((path, (), True))


def _send_pending(session: Session) -> None:
    from flask import current_app, has_app_context

    pending = session.info.pop(_PENDING, [])
    if not pending or not has_app_context():
        return
    runner: JobRunner = current_app.extensions["souk.jobs"]
    for path, args, once in pending:
        if once:
            runner.enqueue_once(path, coalesce=True)
        else:
            runner.enqueue(path, *args)


def _drop_pending(session: Session, previous_transaction: Any) -> None:
    # Only the whole unit of work rolling back drops its jobs; a SAVEPOINT rolling back does not.
    if previous_transaction.parent is None:
        session.info.pop(_PENDING, None)


def install_session_hooks() -> None:
    """Wire ``enqueue_after_commit`` into SQLAlchemy sessions (once per process)."""
    if not event.contains(Session, "after_commit", _send_pending):
        event.listen(Session, "after_commit", _send_pending)
        event.listen(Session, "after_soft_rollback", _drop_pending)
