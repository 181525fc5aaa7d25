"""More than one machine: two ``souk serve`` and two ``souk worker`` processes (as separate hosts would run
them) on one PostgreSQL and one Redis. Orders are placed through both web processes while a real receiver
takes the webhooks; one web process (gunicorn master and worker) and one worker (the worker alone, as the
OOM killer would) are SIGKILLed in the middle. Afterwards: every order placed reached the receiver, no
delivery is left claimed or pending, every periodic job ran once per period (never twice: the tickers of
both workers share one Redis), and the dead worker's rq scheduler did not keep its lock.
"""

from __future__ import annotations

import json
import math
import os
import signal
import threading
import time
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis as redis_lib
import sqlalchemy as sa
from flask import Flask
from souk_processes import SoukProcesses, children_of, free_port, is_running, souk_env, wait_for

from factories import ShopFactory, token_for
from souk_platform.catalog.services import NewSku, create_product
from souk_platform.db import db
from souk_platform.jobs import liveness
from souk_platform.jobs.runner import periodic_jobs
from souk_platform.webhooks import services
from souk_platform.webhooks.models import WebhookDelivery
from souk_platform.webhooks.runtime import runtime_for

pytestmark = pytest.mark.concurrency

TRAFFIC_SECONDS = 18  # orders are placed for this long; the kills land a third of the way in
# A delivery the killed worker had claimed comes back once its lease ends and a sweep (every 5 s) runs.
DELIVERY_BOUND_SECONDS = services.CLAIM_LEASE.total_seconds() + 20
SENTINEL = "souk-test:multi-host"  # gone if something flushed the test's Redis database mid-run


class Receiver:
    """Answers 200 and notes each ``webhook-id`` and the order it is about."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.ids: Counter[str] = Counter()
        self.orders: set[str] = set()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))))
                with receiver.lock:
                    receiver.ids[self.headers.get("webhook-id", "")] += 1
                    receiver.orders.add(body["data"]["id"])
                self.send_response(200)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            request_queue_size = 128

        self.server = Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def snapshot(self) -> tuple[Counter[str], set[str]]:
        with self.lock:
            return Counter(self.ids), set(self.orders)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()
    yield state
    state.server.shutdown()
    state.server.server_close()


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[SoukProcesses]:
    started = SoukProcesses(tmp_path)
    yield started
    started.kill_all()


class Shopper:
    """Places orders through whichever web processes answer, moving on from one that is gone."""

    def __init__(self, bases: list[str], headers: dict[str, str], sku_id: str) -> None:
        self.bases = bases
        self.headers = headers
        self.sku_id = sku_id
        self.placed: list[str] = []
        self.served_by: Counter[str] = Counter()
        self.refused = 0
        self.down: set[str] = set()

    def run(self, stop: threading.Event) -> None:
        turn = 0
        with httpx.Client(timeout=15) as http:
            while not stop.is_set():
                live = [b for b in self.bases if b not in self.down]
                base = live[turn % len(live)]
                turn += 1
                try:
                    self._order(http, base)
                except httpx.TransportError:
                    self.down.add(base)  # a dead host: a load balancer would take it out too

    def _order(self, http: httpx.Client, base: str) -> None:
        cart = http.post(
            f"{base}/api/v1/carts", json={"lines": [{"sku_id": self.sku_id, "quantity": 1}]}, headers=self.headers
        )
        if cart.status_code != 201:
            self.refused += 1
            return
        order = http.post(f"{base}/api/v1/carts/{cart.json()['id']}/checkout", json={}, headers=self.headers)
        if order.status_code != 201:
            self.refused += 1
            return
        self.placed.append(order.json()["id"])
        self.served_by[base] += 1


def _set_up_shop(app: Flask, receiver_url: str) -> tuple[dict[str, str], str, str]:
    with app.app_context():
        shop = ShopFactory()
        headers = token_for(shop)
        product = create_product(
            db.session,
            shop_id=shop.id,
            title="Longjing",
            status="active",
            skus=[NewSku(code="TEA", title="250g", price=5000, on_hand=100_000)],
        )
        subscription, _ = services.create_subscription(
            db.session,
            shop_id=shop.id,
            url=receiver_url,
            topics=["order.*"],
            installation_id=None,
            granted_scopes=None,
            box=runtime_for(app).box,
            clock=app.extensions["souk.clock"],
            allow_loopback=True,  # the receiver is this machine's 127.0.0.1, as the hosts' setting allows
        )
        db.session.commit()
        result = headers, product.skus[0].id, subscription.id
        db.session.remove()
    return result


def _deliveries(app: Flask, subscription_id: str) -> dict[str, str]:
    """Delivery id → status, for the subscription."""
    with app.app_context():
        rows = db.session.execute(
            sa.select(WebhookDelivery.id, WebhookDelivery.status).where(
                WebhookDelivery.subscription_id == subscription_id
            )
        ).all()
        db.session.remove()
    return {row.id: row.status for row in rows}


def test_two_web_and_two_worker_hosts_lose_nothing_when_one_of_each_is_killed(
    own_database: tuple[Flask, str], redis_url: str, tmp_path: Path, receiver: Receiver, processes: SoukProcesses
) -> None:
    app, database_url = own_database  # the hosts commit for real: none of it may reach the tests after this one
    redis = redis_lib.Redis.from_url(redis_url)
    redis.flushdb()
    redis.set(SENTINEL, "1")
    headers, sku_id, subscription_id = _set_up_shop(app, receiver.url)
    env = souk_env(
        database_url=database_url, redis_url=redis_url, secret_key=str(app.config["SECRET_KEY"]), instance=tmp_path
    )
    ports = [free_port(), free_port()]
    webs = []
    for i, port in enumerate(ports, 1):
        metrics_dir = tmp_path / f"metrics-{i}"  # each host its own (souk serve would make one in /tmp)
        metrics_dir.mkdir()
        host_env = {**env, "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}
        webs.append(
            processes.start(host_env, "serve", "--bind", f"127.0.0.1:{port}", "--workers", "1", name=f"web-{i}")
        )
    ticking_since = time.time()  # the periodic jobs run from the workers' first tick on
    workers = [processes.start(env, "worker", name=f"worker-{i}") for i in (1, 2)]
    bases = [f"http://127.0.0.1:{p}" for p in ports]
    for base in bases:
        wait_for(lambda base=base: _ready(base), seconds=90, what=f"{base}/readyz")
    wait_for(
        lambda: sum(b.alive for b in liveness.worker_beats(redis, now=time.time())) == 2,
        seconds=90,
        what="both workers to beat",
    )

    shopper = Shopper(bases, headers, sku_id)
    stop = threading.Event()
    traffic = threading.Thread(target=shopper.run, args=(stop,), daemon=True)
    traffic.start()
    time.sleep(TRAFFIC_SECONDS / 3)

    scheduler_children = children_of(workers[0].pid)  # rq's scheduler, if this worker won its lock
    os.killpg(webs[0].pid, signal.SIGKILL)  # a whole web host: gunicorn's master and its worker
    webs[0].wait(10)
    os.kill(workers[0].pid, signal.SIGKILL)  # the worker alone; its scheduler child must notice
    workers[0].wait(10)

    time.sleep(TRAFFIC_SECONDS * 2 / 3)
    stop.set()
    traffic.join(30)

    def all_delivered() -> bool:
        deliveries = _deliveries(app, subscription_id)
        received, orders = receiver.snapshot()
        return (
            set(shopper.placed) <= orders
            and set(deliveries) <= set(received)
            and set(deliveries.values()) == {"succeeded"}
        )

    wait_for(all_delivered, seconds=DELIVERY_BOUND_SECONDS, what="every delivery to reach the receiver")
    elapsed = time.time() - ticking_since

    received, _ = receiver.snapshot()
    print(
        f"\nmulti-host: {len(shopper.placed)} orders ({dict(shopper.served_by)}), {shopper.refused} refused, "
        f"{len(received)} webhooks, {sum(received.values()) - len(received)} duplicates, {elapsed:.0f} s of ticking"
    )
    # Both web hosts took orders before the kill; the survivor took the rest.
    assert shopper.served_by[bases[0]] >= 1 and shopper.served_by[bases[1]] >= 1, shopper.served_by
    assert len(shopper.placed) >= 10, "too few orders to say anything"
    received, orders_received = receiver.snapshot()
    deliveries = _deliveries(app, subscription_id)
    # Every order a client saw placed was sent, each webhook-id acknowledged; nothing is left claimed or due.
    assert set(shopper.placed) <= orders_received
    assert set(received) == set(deliveries)
    assert set(deliveries.values()) == {"succeeded"}

    # Every periodic job ran, and never twice in one of its periods (two tickers share the Redis keys): the
    # first run comes at the first tick, and each later one at least a period after the one before.
    if not redis.exists(SENTINEL):
        pytest.fail("another process flushed this test's Redis database; the periodic counts are meaningless")
    runs = liveness.periodic_runs(redis).runs
    for job in periodic_jobs(app):
        most = math.floor(elapsed / job.every_seconds) + 1
        assert 1 <= runs.get(job.name, 0) <= most, (job.name, runs.get(job.name), most)
    # The 5-second sweep kept going through the kill: at least once every two periods on average.
    assert runs["sweep-webhooks"] >= elapsed / (2 * 5) - 2, (runs["sweep-webhooks"], elapsed)

    # The killed worker's scheduler child let go of the lock and exited.
    assert not any(is_running(pid) for pid in scheduler_children)

    def alive_by_pid() -> dict[str, bool]:
        return {b.worker.rsplit(":", 1)[1]: b.alive for b in liveness.worker_beats(redis, now=time.time())}

    # The dead worker stops counting as alive once its beats are ALIVE_SECONDS old; the survivor still beats.
    wait_for(
        lambda: alive_by_pid().get(str(workers[0].pid)) is False,
        seconds=liveness.ALIVE_SECONDS + 10,
        what="the killed worker to be reported not alive",
    )
    assert alive_by_pid().get(str(workers[1].pid)) is True
    ready = httpx.get(f"{bases[1]}/readyz", timeout=10).json()
    assert ready["status"] == "ready" and ready["jobs"]["alive"] == 1


def _ready(base: str) -> bool:
    try:
        return httpx.get(f"{base}/readyz", timeout=5).status_code == 200
    except httpx.HTTPError:
        return False
