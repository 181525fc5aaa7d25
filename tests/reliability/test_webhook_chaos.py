"""Chaos: real ``souk worker`` processes, a real receiver on 127.0.0.1, a worker SIGKILLed in the middle of a
send, Redis flushed, and a web process killed between its commit and the request for a delivery run, then
started again; afterwards every event still reaches the receiver (counted by ``webhook-id``).

Nothing is mocked and no clock is frozen: the workers and the web processes are subprocesses on the test
database and Redis database. The kill is made to land mid-send on purpose (the receiver holds requests open,
and the worker killed is the one whose connection a held request came on), so the deliveries that worker
had claimed can only come back through the claim lease (``CLAIM_LEASE``) and the periodic sweep; the runs
still queued are lost with the flush, and the killed web process never asked for one: those events can only
come back through the sweep (or a run that happens to be going) as well.
"""

from __future__ import annotations

import contextlib
import datetime as dt
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
from souk_platform.events.models import OutboxEvent
from souk_platform.events.services import emit
from souk_platform.webhooks import services
from souk_platform.webhooks.models import WebhookDelivery
from souk_platform.webhooks.runtime import runtime_for

pytestmark = pytest.mark.concurrency

EVENTS = 240
BATCH = 20
WEB_EVENTS = 40  # per web process: the one killed after its commit, and the one started again
SOUK = Path(sys.executable).parent / "souk"
# A delivery claimed by the killed worker comes back once its lease expires and a sweep (every 5 s) runs.
RECOVERY_BOUND_SECONDS = services.CLAIM_LEASE.total_seconds() + 45


class _Server(ThreadingHTTPServer):
    request_queue_size = 128  # a delivery run opens up to 32 connections at once; the default backlog is 5


class ChaosReceiver:
    """Counts every ``webhook-id`` it answered 200 to; while ``hold`` is set it keeps requests open, then 503s.

    It notes the client port of each held request, so the test can tell which worker is sending it.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.ok: Counter[str] = Counter()
        self.held = 0
        self.held_ports: list[int] = []
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
                        receiver.held_ports.append(self.client_address[1])
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

        self.server = _Server(("127.0.0.1", 0), Handler)
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

    def sending_on(self, client_port: int) -> subprocess.Popen[bytes] | None:
        """The running worker that owns the TCP connection from ``client_port`` (read from /proc)."""
        inodes = set()
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                if int(fields[1].rsplit(":", 1)[1], 16) == client_port:
                    inodes.add(f"socket:[{fields[9]}]")
        for process in self.processes:
            if process.poll() is not None:
                continue
            with contextlib.suppress(OSError):
                for fd in Path(f"/proc/{process.pid}/fd").iterdir():
                    with contextlib.suppress(OSError):
                        if os.readlink(fd) in inodes:
                            return process
        return None


# A web process: emits events in one transaction and commits. With ``die`` it is SIGKILLed right after the
# commit and before Souk's own after-commit hook asks for a delivery run: the worst moment for a web
# process to go, since the events exist and nothing was queued for them.
WEB_PROCESS = """
import os, signal, sys
from sqlalchemy import event
from sqlalchemy.orm import Session
from souk_platform import create_app
from souk_platform.db import db
from souk_platform.events.models import OutboxEvent
from souk_platform.events.services import emit

shop_id, first, count, die = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "die"
app = create_app()
if die:
    event.listen(Session, "after_commit", lambda session: os.kill(os.getpid(), signal.SIGKILL), insert=True)
with app.app_context():
    for n in range(first, first + count):
        emit(db.session, shop_id=shop_id, type="order.paid", subject_type="order", subject_id=f"ord_chaos_{n}",
             payload={"id": f"ord_chaos_{n}", "status": "paid", "version": 2})
    db.session.commit()
"""


def run_web_process(env: dict[str, str], shop_id: str, first: int, *, die: bool) -> int:
    args = [sys.executable, "-c", WEB_PROCESS, shop_id, str(first), str(WEB_EVENTS), "die" if die else "live"]
    return subprocess.run(args, env=env, capture_output=True, timeout=60).returncode


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


def _wait_for(condition: Callable[[], bool], *, seconds: float, what: str, explain: Callable[[], str] = str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}{explain()}")
        time.sleep(0.1)


def _not_received(app: Flask, subscription_id: str, received: Counter[str]) -> str:
    """What the database says about deliveries the receiver never acknowledged (for a failure message)."""
    with app.app_context():
        rows = db.session.execute(
            sa.select(
                WebhookDelivery.id,
                WebhookDelivery.status,
                WebhookDelivery.attempts,
                WebhookDelivery.next_attempt_at,
                WebhookDelivery.last_error,
            ).where(WebhookDelivery.subscription_id == subscription_id, WebhookDelivery.id.not_in(list(received)))
        ).all()
        undispatched = db.session.scalar(
            sa.select(sa.func.count()).select_from(OutboxEvent).where(OutboxEvent.dispatched_at.is_(None))
        )
        db.session.remove()
    now = dt.datetime.now(dt.UTC)
    lines = [
        f"{r.id} {r.status} attempts={r.attempts} due_in={r.next_attempt_at and r.next_attempt_at - now} "
        f"error={r.last_error}"
        for r in rows[:20]
    ]
    return f": {len(rows)} not received, {undispatched} outbox rows undispatched\n" + "\n".join(lines)


def _expected_ids(app: Flask, subscription_id: str) -> list[str]:
    with app.app_context():
        ids = list(
            db.session.scalars(sa.select(WebhookDelivery.id).where(WebhookDelivery.subscription_id == subscription_id))
        )
        db.session.remove()
        return ids


def test_every_event_arrives_after_a_worker_a_web_process_and_redis_are_lost(
    app: Flask, redis_url: str, receiver: ChaosReceiver, workers: Workers
) -> None:
    redis = redis_lib.Redis.from_url(redis_url)
    redis.flushdb()
    with app.app_context():
        shop = ShopFactory()
        shop_id = shop.id
        subscription, _ = services.create_subscription(
            db.session,
            shop_id=shop_id,
            url=receiver.url,
            topics=["order.*"],
            installation_id=None,
            granted_scopes=None,
            box=runtime_for(app).box,
            clock=app.extensions["souk.clock"],
            allow_loopback=True,  # the receiver listens on 127.0.0.1
        )
        subscription_id = subscription.id
        db.session.commit()
        for start in range(0, EVENTS, BATCH):  # committed: each commit asks for a delivery run on rq
            for n in range(start, start + BATCH):
                emit(
                    db.session,
                    shop_id=shop_id,
                    type="order.paid",
                    subject_type="order",
                    subject_id=f"ord_chaos_{n}",
                    payload={"id": f"ord_chaos_{n}", "status": "paid", "version": 2},
                )
            db.session.commit()
        db.session.remove()

    workers.start()
    workers.start()
    _wait_for(lambda: sum(receiver.received().values()) >= EVENTS // 4, seconds=60, what="the first deliveries")

    # Hold requests open until one is stuck in a worker: killing the worker that sent it makes the kill land
    # while that worker has deliveries claimed and in flight (the survivor's held requests get 503s and retry).
    receiver.hold.set()
    _wait_for(lambda: receiver.held >= 1, seconds=20, what="a worker to be in the middle of a send")
    victim = None
    deadline = time.monotonic() + 10
    while victim is None and time.monotonic() < deadline:
        with receiver.lock:
            ports = list(receiver.held_ports)
        victim = next((w for port in ports if (w := workers.sending_on(port)) is not None), None)
        time.sleep(0.05)
    assert victim is not None, "no worker owns a held connection"
    workers.kill(victim)
    redis.flushdb()  # this test's Redis database only: FLUSHALL would also wipe parallel test runs' databases

    # A web process dies between its commit and asking for a run; then it is started again and carries on.
    assert run_web_process(workers.env, shop_id, EVENTS, die=True) == -signal.SIGKILL
    assert run_web_process(workers.env, shop_id, EVENTS + WEB_EVENTS, die=False) == 0
    receiver.hold.clear()
    receiver.release.set()
    delivered_before_recovery = len(receiver.received())
    workers.start()
    recovery_started = time.monotonic()
    total = EVENTS + 2 * WEB_EVENTS

    def all_arrived() -> bool:
        expected = _expected_ids(app, subscription_id)
        return len(expected) == total and set(expected) <= set(receiver.received())

    _wait_for(
        all_arrived,
        seconds=RECOVERY_BOUND_SECONDS,
        what="every delivery to reach the receiver",
        explain=lambda: _not_received(app, subscription_id, receiver.received()),
    )

    expected = set(_expected_ids(app, subscription_id))
    got = receiver.received()
    missing = expected - set(got)
    duplicates = sum(count - 1 for count in got.values())
    print(
        f"\nchaos: {len(expected)} events, {len(got)} distinct webhook-ids received "
        f"({delivered_before_recovery} before the restarts), {duplicates} duplicates, {len(missing)} missing, "
        f"recovered {time.monotonic() - recovery_started:.1f} s after the restarts"
    )
    assert len(expected) == total
    assert missing == set()
    assert set(got) <= expected  # nothing the run did not produce
