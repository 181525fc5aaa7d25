"""Chaos: real ``souk worker`` processes, a real receiver on 127.0.0.1, a worker SIGKILLed in the middle of a
send and Redis flushed; afterwards every event still reaches the receiver (counted by ``webhook-id``).

Nothing is mocked and no clock is frozen: the workers are subprocesses on the test database and Redis
database. The kill is made to land mid-send on purpose (the receiver holds one request open while the
worker is killed), so the delivery that worker had claimed can only come back through the claim lease
(``CLAIM_LEASE``) and the periodic sweep; the jobs still queued are lost with the flush and can only come
back through the sweep as well.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import redis as redis_lib
import sqlalchemy as sa
from flask import Flask

from factories import ShopFactory
from souk_platform.db import db
from souk_platform.events.services import emit
from souk_platform.webhooks import services
from souk_platform.webhooks.models import WebhookDelivery
from souk_platform.webhooks.runtime import runtime_for

pytestmark = pytest.mark.concurrency

EVENTS = 240
BATCH = 20
SOUK = Path(sys.executable).parent / "souk"
# A delivery claimed by the killed worker comes back once its lease expires and a sweep (every 5 s) runs.
RECOVERY_BOUND_SECONDS = services.CLAIM_LEASE.total_seconds() + 45


class ChaosReceiver:
    """Counts every ``webhook-id`` it answered 200 to; while ``hold`` is set it keeps requests open, then 503s."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.ok: Counter[str] = Counter()
        self.held = 0
        self.hold = threading.Event()
        self.release = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("content-length", 0)))
                webhook_id = self.headers.get("webhook-id", "")
                if receiver.hold.is_set():
                    with receiver.lock:
                        receiver.held += 1
                    receiver.release.wait(30)  # bounded: the sender is usually dead by then
                    self._answer(503)
                    return
                with receiver.lock:
                    receiver.ok[webhook_id] += 1
                self._answer(200)

            def _answer(self, status: int) -> None:
                self.send_response(status)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def received(self) -> Counter[str]:
        with self.lock:
            return Counter(self.ok)

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


class Workers:
    """``souk worker`` subprocesses, each in its own process group (the rq work-horse dies with it)."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env = env
        self.logs = logs
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self) -> subprocess.Popen[bytes]:
        log = (self.logs / f"worker-{len(self.processes) + 1}.log").open("ab")
        process = subprocess.Popen([str(SOUK), "worker"], env=self.env, stdout=log, stderr=log, start_new_session=True)
        log.close()
        self.processes.append(process)
        return process

    @staticmethod
    def kill(process: subprocess.Popen[bytes]) -> None:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)

    def kill_all(self) -> None:
        for process in self.processes:
            with contextlib.suppress(ProcessLookupError, subprocess.TimeoutExpired):
                self.kill(process)


@pytest.fixture
def receiver() -> Iterator[ChaosReceiver]:
    state = ChaosReceiver()
    yield state
    state.close()


@pytest.fixture
def workers(app: Flask, database_url: str, redis_url: str, tmp_path: Path) -> Iterator[Workers]:
    env = {
        **os.environ,
        "SOUK_DATABASE_URL": database_url,
        "SOUK_REDIS_URL": redis_url,
        "SOUK_JOBS": "rq",
        "SOUK_SECRET_KEY": str(app.config["SECRET_KEY"]),  # the key the subscription secret is sealed with
        "SOUK_WEBHOOKS_ALLOW_LOOPBACK": "1",
        "SOUK_INSTANCE_PATH": str(tmp_path),
        "SOUK_LOG_FORMAT": "console",
    }
    env.pop("SOUK_WEBHOOK_SECRETS_KEY", None)
    pool = Workers(env, tmp_path)
    try:
        yield pool
    finally:
        pool.kill_all()


def _wait_for(condition: Callable[[], bool], *, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.1)


def _expected_ids(app: Flask, subscription_id: str) -> list[str]:
    with app.app_context():
        ids = list(
            db.session.scalars(sa.select(WebhookDelivery.id).where(WebhookDelivery.subscription_id == subscription_id))
        )
        db.session.remove()
        return ids


def test_every_event_arrives_after_a_worker_is_killed_mid_send_and_redis_is_flushed(
    app: Flask, redis_url: str, receiver: ChaosReceiver, workers: Workers
) -> None:
    redis = redis_lib.Redis.from_url(redis_url)
    redis.flushdb()
    with app.app_context():
        shop = ShopFactory()
        subscription, _ = services.create_subscription(
            db.session,
            shop_id=shop.id,
            url=receiver.url,
            topics=["order.*"],
            installation_id=None,
            granted_scopes=None,
            box=runtime_for(app).box,
            clock=app.extensions["souk.clock"],
        )
        subscription_id = subscription.id
        db.session.commit()
        for start in range(0, EVENTS, BATCH):  # committed: each commit enqueues a dispatch job on rq
            for n in range(start, start + BATCH):
                emit(
                    db.session,
                    shop_id=shop.id,
                    type="order.paid",
                    subject_type="order",
                    subject_id=f"ord_chaos_{n}",
                    payload={"id": f"ord_chaos_{n}", "status": "paid", "version": 2},
                )
            db.session.commit()
        db.session.remove()

    first = workers.start()
    workers.start()
    _wait_for(lambda: sum(receiver.received().values()) >= EVENTS // 4, seconds=60, what="the first deliveries")

    # Hold requests open until both workers are stuck sending: the kill then lands while a delivery is
    # claimed and in flight (the survivor gets a 503 and retries).
    receiver.hold.set()
    _wait_for(lambda: receiver.held >= 2, seconds=20, what="both workers to be in the middle of a send")
    workers.kill(first)
    redis.flushdb()  # this test's Redis database only: FLUSHALL would also wipe parallel test runs' databases
    receiver.hold.clear()
    receiver.release.set()
    delivered_before_recovery = len(receiver.received())
    workers.start()
    recovery_started = time.monotonic()

    def all_arrived() -> bool:
        expected = _expected_ids(app, subscription_id)
        return len(expected) == EVENTS and set(expected) <= set(receiver.received())

    _wait_for(all_arrived, seconds=RECOVERY_BOUND_SECONDS, what="every delivery to reach the receiver")

    expected = set(_expected_ids(app, subscription_id))
    got = receiver.received()
    missing = expected - set(got)
    duplicates = sum(count - 1 for count in got.values())
    print(
        f"\nchaos: {len(expected)} events, {len(got)} distinct webhook-ids received "
        f"({delivered_before_recovery} before the kill), {duplicates} duplicates, {len(missing)} missing, "
        f"recovered {time.monotonic() - recovery_started:.1f} s after the restart"
    )
    assert len(expected) == EVENTS
    assert missing == set()
    assert set(got) <= expected  # nothing the run did not produce
    assert receiver.held >= 2  # the kill did land mid-send
