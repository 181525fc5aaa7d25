"""The ``souk worker`` process: an rq worker running jobs in-process, rq's scheduler bound to it, a
ticker thread that enqueues the periodic jobs (once per interval across all workers) and beats.

rq forks its scheduler into a child process that refreshes the queue's scheduler lock every second. A
worker that is SIGKILLed (the OOM killer, ``kill -9``, a container runtime's hard stop) never stops that
child: the orphan kept the lock, so no new worker's scheduler could take over. Here the child stops,
releasing the lock, as soon as its worker is gone (docs/architecture.md §13).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import sys
import threading
import time
from typing import Any

import structlog
from flask import Flask
from redis import exceptions as redis_errors
from rq import Queue, SimpleWorker
from rq.defaults import DEFAULT_LOGGING_DATE_FORMAT, DEFAULT_LOGGING_FORMAT
from rq.scheduler import RQScheduler

from souk_platform.jobs import liveness
from souk_platform.jobs.runner import observe_lag, periodic_jobs, run_job

log = structlog.get_logger("souk.jobs")

QUEUE_NAME = "souk"
_PR_SET_PDEATHSIG = 1  # linux/prctl.h


class ParentBoundScheduler(RQScheduler):
    """rq's scheduler child that stops cleanly (``stop()`` releases its lock) when its worker dies.

    Linux sends it SIGTERM when the worker dies (``PR_SET_PDEATHSIG``), which rq's own handler turns into
    a clean stop; elsewhere, or if the worker died before the child asked, the child notices its parent
    pid change at its next beat (every ``interval``, 1 s).
    """

    _worker_pid = 0

    def start(self) -> Any:
        self._worker_pid = os.getpid()
        return super().start()

    def _install_signal_handlers(self) -> None:
        super()._install_signal_handlers()  # SIGTERM → request_stop: released on the next loop
        _signal_me_when_parent_dies(signal.SIGTERM)

    def heartbeat(self) -> None:
        if self._worker_pid and os.getppid() != self._worker_pid:
            self.log.warning("Scheduler's worker %s is gone; stopping", self._worker_pid)
            self.request_stop()
            return
        super().heartbeat()


def _signal_me_when_parent_dies(signum: int) -> None:
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signum, 0, 0, 0)


class SoukWorker(SimpleWorker):
    """rq's in-process worker (see ``souk worker``) whose scheduler is a ``ParentBoundScheduler``."""

    def _start_scheduler(
        self,
        burst: bool = False,
        logging_level: str | None = "INFO",
        date_format: str = DEFAULT_LOGGING_DATE_FORMAT,
        log_format: str = DEFAULT_LOGGING_FORMAT,
    ) -> None:
        # rq 3's own _start_scheduler with the scheduler class swapped (rq offers no setting for it).
        self.scheduler = ParentBoundScheduler(
            self.queues,
            connection=self.connection,
            logging_level=logging_level if logging_level is not None else self.log.level,
            date_format=date_format,
            log_format=log_format,
            serializer=self.serializer,
        )
        self.scheduler.acquire_locks()
        if not self.scheduler.acquired_locks:
            return
        if burst:
            try:
                self.scheduler.register_birth()
                self.scheduler.enqueue_scheduled_jobs()
            finally:
                self.scheduler.release_locks()
                self.scheduler.register_death()
        else:
            self.scheduler.start()


def worker_id() -> str:
    """How a worker is named in its heartbeat: ``<host>:<pid>``."""
    return f"{socket.gethostname()}:{os.getpid()}"


def periodic_ticker(app: Flask, redis: Any, stop: threading.Event) -> None:
    """Beat, and enqueue each periodic job once per interval across all workers, every ``BEAT_SECONDS``."""
    queue = Queue(QUEUE_NAME, connection=redis)
    me, started_at = worker_id(), time.time()
    while not stop.is_set():
        now = time.time()
        try:
            liveness.beat(redis, me, now=now, started_at=started_at)
            for job in periodic_jobs(app):
                # The key lives one interval: whichever worker sets it first enqueues, the others skip.
                if redis.set(f"souk:periodic:{job.name}", "1", nx=True, ex=job.every_seconds):
                    queue.enqueue("souk_platform.jobs.worker.run_periodic_in_worker", job.name, job.path)
            liveness.note_tick(redis, now=now)
        except redis_errors.RedisError:  # a Redis blip must not end the ticker (and the beats) for good
            log.warning("periodic.tick_failed", exc_info=True)
        stop.wait(liveness.BEAT_SECONDS)
    with contextlib.suppress(redis_errors.RedisError):
        liveness.forget(redis, me)


def run_periodic_in_worker(name: str, path: str) -> Any:
    """rq entry point for a periodic job: note its start (``/readyz``, metrics), then run it."""
    from flask import current_app

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    liveness.note_periodic_run(app.extensions["souk.redis"], name, now=time.time())
    observe_lag(app, path)
    return run_job(app, path)


# What ``souk worker --metrics-bind`` serves of the app: the operator's endpoints, never the API or pages.
OPERATIONS_PATHS = frozenset({"/metrics", "/healthz", "/readyz"})


def serve_operations(app: Flask, bind: str) -> Any:
    """Serve ``/metrics`` (same protection as the web's), ``/healthz`` and ``/readyz`` on ``bind`` from a
    thread of this worker, so a host running only workers can be scraped; returns the server."""
    import waitress

    def operations_only(environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("PATH_INFO") in OPERATIONS_PATHS:
            return app(environ, start_response)
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"Not found: a worker serves /metrics, /healthz and /readyz only.\n"]

    host, _, port = bind.rpartition(":")
    server = waitress.create_server(
        operations_only,
        host=host.strip("[]") or "127.0.0.1",
        port=int(port),
        threads=2,
        # waitress drops X-Forwarded-* by default; /metrics needs to see them to refuse proxied scrapes.
        clear_untrusted_proxy_headers=False,
    )
    threading.Thread(target=server.run, name="souk-metrics", daemon=True).start()
    return server


def run_worker(app: Flask, redis: Any, *, burst: bool, metrics_bind: str | None = None) -> None:
    """Run ``souk worker`` in this process until it is stopped (or, with ``burst``, the queue is empty)."""
    stop = threading.Event()
    operations = serve_operations(app, metrics_bind) if metrics_bind else None
    # SimpleWorker runs jobs in this process: rq's default forks a cold child per job (~0.4 s of
    # imports and query compilation each), which starves webhook delivery. Our jobs are Python
    # that commits its own work; a crash is contained by the outbox sweep re-enqueueing it.
    worker = SoukWorker([Queue(QUEUE_NAME, connection=redis)], connection=redis)
    # rq raises the pool's socket timeout above its blocking dequeue (405 s), but connections opened
    # before (by the app factory) keep redis-py's 5 s default: an idle worker's dequeue then times out
    # and rq backs off for up to a minute at a time, jobs waiting meanwhile. Reopen them all.
    redis.connection_pool.disconnect()
    ticker = threading.Thread(target=periodic_ticker, args=(app, redis, stop), name="souk-ticker", daemon=True)
    if not burst:  # a long-running worker: tune its collector (souk_platform.gc_tuning)
        from souk_platform.gc_tuning import tune_garbage_collector

        tune_garbage_collector()
        ticker.start()
    try:
        worker.work(with_scheduler=True, burst=burst)
    finally:
        stop.set()
        if operations is not None:
            operations.close()
        if ticker.is_alive():
            ticker.join(2)
