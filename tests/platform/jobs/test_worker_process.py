"""``souk worker`` as a real process: its rq scheduler child dies with it, and it beats while alive."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis as redis_lib
from flask import Flask
from scrape import sample
from souk_processes import SoukProcesses, children_of, free_port, is_running, souk_env, wait_for

from souk_platform.jobs import liveness

pytestmark = pytest.mark.concurrency

SCHEDULER_LOCK = "rq:scheduler-lock:souk"


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[SoukProcesses]:
    started = SoukProcesses(tmp_path)
    yield started
    started.kill_all()


@pytest.fixture
def env(own_database: tuple[Flask, str], redis_url: str, tmp_path: Path) -> dict[str, str]:
    app, database_url = own_database  # the workers' periodic jobs commit for real, on a database of their own
    return souk_env(
        database_url=database_url, redis_url=redis_url, secret_key=str(app.config["SECRET_KEY"]), instance=tmp_path
    )


def test_a_sigkilled_worker_takes_its_scheduler_down_and_frees_the_lock(
    env: dict[str, str], redis_url: str, processes: SoukProcesses
) -> None:
    redis = redis_lib.Redis.from_url(redis_url)
    redis.flushdb()
    worker = processes.start(env, "worker", name="worker-1")
    wait_for(lambda: redis.exists(SCHEDULER_LOCK) == 1, seconds=30, what="the worker's scheduler to take its lock")
    wait_for(lambda: len(children_of(worker.pid)) == 1, seconds=10, what="the scheduler child process")
    (scheduler,) = children_of(worker.pid)

    os.kill(worker.pid, signal.SIGKILL)  # the worker alone, as the OOM killer would: not its process group
    worker.wait(10)

    wait_for(lambda: not is_running(scheduler), seconds=10, what="the orphaned scheduler to exit")
    assert redis.exists(SCHEDULER_LOCK) == 0, "the dead worker's scheduler still holds the lock"

    # A new worker's scheduler takes over at once instead of waiting out a lock refreshed by an orphan.
    successor = processes.start(env, "worker", name="worker-2")
    wait_for(lambda: redis.exists(SCHEDULER_LOCK) == 1, seconds=30, what="the new worker's scheduler to take the lock")
    wait_for(lambda: len(children_of(successor.pid)) == 1, seconds=10, what="the new scheduler child process")


def test_a_running_worker_beats_and_one_stopped_cleanly_leaves_the_list(
    env: dict[str, str], redis_url: str, processes: SoukProcesses
) -> None:
    redis = redis_lib.Redis.from_url(redis_url)
    redis.flushdb()
    worker = processes.start(env, "worker", name="worker-1")

    def listed() -> list[liveness.WorkerBeat]:
        return [b for b in liveness.worker_beats(redis, now=time.time()) if b.worker.endswith(f":{worker.pid}")]

    wait_for(lambda: len(listed()) == 1, seconds=30, what="the worker's first beat")
    assert listed()[0].alive
    wait_for(lambda: liveness.periodic_runs(redis).last_tick_at is not None, seconds=10, what="the ticker's tick")
    wait_for(
        lambda: liveness.periodic_runs(redis).runs.get("sweep-webhooks", 0) >= 1,
        seconds=30,
        what="a periodic job to run",
    )

    worker.send_signal(signal.SIGTERM)  # a clean stop (rq finishes its job in hand first)
    worker.wait(90)  # generous: a loaded CI machine makes the job in hand slow, not wrong
    assert listed() == []


def test_a_worker_serves_its_own_metrics_and_health_but_not_the_api(
    env: dict[str, str], redis_url: str, processes: SoukProcesses
) -> None:
    redis = redis_lib.Redis.from_url(redis_url)
    redis.flushdb()
    port = free_port()
    processes.start(env, "worker", "--metrics-bind", f"127.0.0.1:{port}", name="worker-1")
    base = f"http://127.0.0.1:{port}"

    def swept() -> bool:
        try:
            text = httpx.get(f"{base}/metrics", timeout=5).text
        except httpx.HTTPError:
            return False
        return sample(text, "souk_job_runs_total", job="souk_platform.webhooks.tasks.sweep") >= 1

    wait_for(swept, seconds=60, what="the worker's own /metrics to count its periodic sweep")
    assert httpx.get(f"{base}/healthz", timeout=5).json() == {"status": "ok"}
    assert httpx.get(f"{base}/readyz", timeout=5).json()["jobs"]["alive"] == 1
    assert httpx.get(f"{base}/api/v1/shop", timeout=5).status_code == 404
    refused = httpx.get(f"{base}/metrics", headers={"X-Forwarded-For": "203.0.113.7"}, timeout=5)
    assert refused.status_code == 403
