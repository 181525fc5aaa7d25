"""The ``souk worker`` process: an rq worker running jobs in-process, rq's scheduler bound to it, a
ticker thread that enqueues the periodic jobs (once per interval across all workers) and beats.

rq forks its scheduler into a child process that refreshes the queue's scheduler lock every second. A
worker that is SIGKILLed (the OOM killer, ``kill -9``, a container runtime's hard stop) never stops that
child: the orphan kept the lock, so no new worker's scheduler could take over. Here the child stops,
releasing the lock, as soon as its worker is gone (docs/architecture.md, operations).
"""

from __future__ import annotations

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
    try:
        while not stop.is_set():
            now = time.time()
            liveness.beat(redis, me, now=now, started_at=started_at)
            for job in periodic_jobs(app):
                # The key lives one interval: whichever worker sets it first enqueues, the others skip.
                if redis.set(f"souk:periodic:{job.name}", "1", nx=True, ex=job.every_seconds):
                    queue.enqueue("souk_platform.jobs.worker.run_periodic_in_worker", job.name, job.path)
            liveness.note_tick(redis, now=now)
            stop.wait(liveness.BEAT_SECONDS)
    finally:
        liveness.forget(redis, me)


def run_periodic_in_worker(name: str, path: str) -> Any:
    """rq entry point for a periodic job: note its start (``/readyz``, metrics), then run it."""
    from flask import current_app

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    liveness.note_periodic_run(app.extensions["souk.redis"], name, now=time.time())
    observe_lag(app, path)
    return run_job(app, path)


def run_worker(app: Flask, redis: Any, *, burst: bool) -> None:
    """Run ``souk worker`` in this process until it is stopped (or, with ``burst``, the queue is empty)."""
    stop = threading.Event()
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
        if ticker.is_alive():
            ticker.join(2)
