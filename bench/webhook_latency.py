"""Webhook latency benchmark: events at a steady rate through the outbox, real rq workers, a local receiver.

Run from the repository root:

    .venv/bin/python bench/webhook_latency.py [--rate 500] [--seconds 60] [--workers 2] [--drain-seconds 60]

What it does, on 127.0.0.1 only:
1. creates a PostgreSQL database and leases a Redis db of this run's own (``--database-url`` / ``--redis-url``
   to use others; see ``bench/isolation.py``) and migrates it (``souk db upgrade heads``);
2. starts a threaded HTTP receiver in a process of its own (so the producer never delays a receipt time), and
   creates a shop with a shop-owned subscription (``order.*``) to it, through the webhook services;
3. starts ``--workers`` real ``souk worker`` processes (rq, with the periodic sweep), loopback delivery allowed,
   and sends them 2 s of warm-up events for another endpoint on the same receiver: a worker's first delivery
   run pays once for imports, query compilation and connections; the warm-up is not counted;
4. produces ``--rate`` events per second for ``--seconds``: every 10 ms, ``events.services.emit`` the events due
   by then and commit (one transaction per tick; each commit asks for a delivery run after it, as in
   production: at most one run waits in the queue), and times emit + flush, the commit, and the request for a
   run, to report the outbox insert cost per event;
5. waits up to ``--drain-seconds`` for the last deliveries, then prints delivered/lost (by ``webhook-id``),
   duplicates, p50/p99/max event→delivery latency (the event's ``created_at`` to its first receipt) with the
   emit cost per event beside it, how many delivery runs the workers made, and the target line (0 lost,
   p99 < 1 s).

Every process it started is stopped and the run's own database and Redis db removed on exit, including Ctrl+C.
The load average is printed at the start and the end. This is a benchmark, not a test: it asserts nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import multiprocessing
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from isolation import Stores, add_store_options, load_average_printed, own_stores

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
TICK_SECONDS = 0.010
TARGET_P99_SECONDS = 1.0


# --- the receiver (a process of its own) ---------------------------------------------------------------------


def _receive(port_out: Any, log_path: str) -> None:
    """Answer 200 to every POST and append ``webhook-id<TAB>unix time<TAB>created_at`` per request to the log."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when the receiver stops
    lock = threading.Lock()
    log = open(log_path, "a", buffering=1)  # noqa: SIM115 - lives as long as this process

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # http.server writes the head and the body in two sends; with Nagle's algorithm on, the body waits
        # for the sender's delayed ACK (~40 ms on Linux) on every keep-alive request. Real servers set
        # TCP_NODELAY; without it this receiver, not Souk, would dominate the latency measured.
        disable_nagle_algorithm = True

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            received = time.time()
            created_at = json.loads(body).get("created_at", "")
            with lock:
                log.write(f"{self.headers.get('webhook-id', '')}\t{received:.6f}\t{created_at}\n")
            self.send_response(200)
            self.send_header("content-length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            pass

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 1024  # read by listen() in __init__: setting it on the instance afterwards is too late

    server = Server(("127.0.0.1", 0), Handler)
    port_out.put(server.server_address[1])
    server.serve_forever()


def _read_receipts(log_path: Path) -> list[tuple[str, float, str]]:
    rows: list[tuple[str, float, str]] = []
    if not log_path.exists():
        return rows
    for line in log_path.read_text().splitlines():
        parts = line.split("\t")
        if len(parts) == 3:
            rows.append((parts[0], float(parts[1]), parts[2]))
    return rows


# --- processes -------------------------------------------------------------------------------------------------


class Processes:
    """The receiver and the workers this run started; ``stop_all`` ends each of them (and only them)."""

    def __init__(self) -> None:
        self.workers: list[subprocess.Popen[bytes]] = []
        self.receiver: Any = None  # a spawned multiprocessing Process

    def start_worker(self, env: dict[str, str], log: Path) -> None:
        with log.open("ab") as out:
            process = subprocess.Popen(
                [str(VENV_BIN / "souk"), "worker"], env=env, stdout=out, stderr=out, start_new_session=True
            )
        self.workers.append(process)

    def stop_all(self) -> None:
        for process in self.workers:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)  # rq: warm shutdown of the worker and its work-horse
        for process in self.workers:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)  # its own session: only this worker and its horse
                process.wait()
        self.workers.clear()
        if self.receiver is not None and self.receiver.is_alive():
            self.receiver.terminate()
            self.receiver.join(5)
        self.receiver = None


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


@contextmanager
def processes() -> Iterator[Processes]:
    started = Processes()
    previous = signal.signal(signal.SIGTERM, _interrupt)  # `kill <pid>` cleans up like Ctrl+C
    try:
        yield started
    finally:
        started.stop_all()
        signal.signal(signal.SIGTERM, previous)


# --- setup ---------------------------------------------------------------------------------------------------


def bench_env(instance: Path, stores: Stores) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("SOUK_WEBHOOK_SECRETS_KEY", None)
    env.update(
        SOUK_DATABASE_URL=stores.database_url,
        SOUK_REDIS_URL=stores.redis_url or "",
        SOUK_JOBS="rq",
        SOUK_INSTANCE_PATH=str(instance),
        SOUK_SECRET_KEY="bench-only-secret",
        SOUK_LOG_FORMAT="json",
        SOUK_WEBHOOKS_ALLOW_LOOPBACK="1",
    )
    return env


def migrate(env: dict[str, str]) -> None:
    subprocess.run([str(VENV_BIN / "souk"), "db", "upgrade", "heads"], env=env, check=True, capture_output=True)


def create_shop_and_subscription(app: Any, url: str) -> tuple[str, str]:
    from souk_platform.auth.models import User
    from souk_platform.db import db
    from souk_platform.shops.services import create_shop
    from souk_platform.webhooks import services
    from souk_platform.webhooks.runtime import runtime_for

    with app.app_context():
        owner = User(email=f"bench-webhooks-{time.time_ns()}@souk.test", name="Bench", password_hash="scrypt:unusable")
        db.session.add(owner)
        db.session.flush()
        shop = create_shop(db.session, name="Webhook bench shop", owner=owner)
        subscription, _ = services.create_subscription(
            db.session,
            shop_id=shop.id,
            url=url,
            topics=["order.*"],
            description="bench/webhook_latency.py",
            installation_id=None,
            granted_scopes=None,
            box=runtime_for(app).box,
            clock=app.extensions["souk.clock"],
            allow_loopback=True,  # the receiver is on 127.0.0.1
        )
        db.session.commit()
        ids = (shop.id, subscription.id)
        db.session.remove()
        return ids


# --- the run ---------------------------------------------------------------------------------------------------


@dataclass
class Production:
    events: int = 0
    commits: int = 0
    wall_seconds: float = 0.0
    commit_seconds: float = 0.0  # emit + flush + commit, including the request for a delivery run after commit
    flush_seconds: float = 0.0  # the part of it spent in emit + flush: what an order's own transaction pays
    enqueue_seconds: float = 0.0  # the part of it spent asking for a delivery run (SET NX, rq enqueue if none waits)
    late_ticks: int = 0  # ticks whose emit + commit took longer than the tick itself


class TimedRunner:
    """Wraps the app's real job runner to time the enqueue that ``emit`` asks for after each commit."""

    def __init__(self, runner: Any, production: Production) -> None:
        self._runner = runner
        self._production = production

    def enqueue(self, path: str, *args: Any) -> None:
        began = time.perf_counter()
        self._runner.enqueue(path, *args)
        self._production.enqueue_seconds += time.perf_counter() - began

    def enqueue_once(self, path: str, *, coalesce: bool = False) -> None:
        began = time.perf_counter()
        self._runner.enqueue_once(path, coalesce=coalesce)
        self._production.enqueue_seconds += time.perf_counter() - began

    def queue_depth(self) -> dict[str, int]:
        depth: dict[str, int] = self._runner.queue_depth()
        return depth


def warm_up(app: Any, shop_id: str, url: str, *, seconds: float = 2.0, rate: float = 50.0) -> str:
    """Send ``customer.updated`` events to a second endpoint (same receiver) for ``seconds`` and wait for them.

    A worker's first delivery run imports modules, compiles its queries and opens its connections (1-2 s on a
    busy box); that is a once-per-process cost, so it is paid here and not counted in the figures.
    """
    import sqlalchemy as sa

    from souk_platform.db import db
    from souk_platform.events.services import emit
    from souk_platform.webhooks import services
    from souk_platform.webhooks.models import WebhookDelivery
    from souk_platform.webhooks.runtime import runtime_for

    with app.app_context():
        subscription, _ = services.create_subscription(
            db.session,
            shop_id=shop_id,
            url=url,
            topics=["customer.*"],
            description="bench warm-up",
            installation_id=None,
            granted_scopes=None,
            box=runtime_for(app).box,
            clock=app.extensions["souk.clock"],
            allow_loopback=True,  # the receiver is on 127.0.0.1
        )
        db.session.commit()
        subscription_id = subscription.id
        total = int(rate * seconds)
        for n in range(total):
            emit(
                db.session,
                shop_id=shop_id,
                type="customer.updated",
                subject_type="customer",
                subject_id=f"cus_warm_{n}",
                payload={"id": f"cus_warm_{n}", "version": 1},
            )
            db.session.commit()
            time.sleep(1 / rate)
        deadline = time.monotonic() + 60
        done = 0
        while time.monotonic() < deadline:
            done = db.session.scalar(
                sa.select(sa.func.count())
                .select_from(WebhookDelivery)
                .where(WebhookDelivery.subscription_id == subscription_id, WebhookDelivery.status == "succeeded")
            )
            db.session.rollback()
            if done == total:
                break
            time.sleep(0.2)
        db.session.remove()
    return f"{done} of {total} warm-up deliveries made, not counted"


def produce(app: Any, shop_id: str, rate: float, seconds: float) -> Production:
    """Emit ``rate`` events/s for ``seconds``: every 10 ms tick, the events due by then (by the wall clock, so a
    slow tick is caught up by the next) in one transaction."""
    from souk_platform.db import db
    from souk_platform.events.services import emit

    total = int(rate * seconds)
    production = Production()
    real_runner = app.extensions["souk.jobs"]
    app.extensions["souk.jobs"] = TimedRunner(real_runner, production)
    try:
        with app.app_context():
            start = time.perf_counter()
            while production.events < total:
                target = min(total, int(rate * (time.perf_counter() - start)))
                if target > production.events:
                    began = time.perf_counter()
                    for n in range(production.events, target):
                        emit(
                            db.session,
                            shop_id=shop_id,
                            type="order.paid",
                            subject_type="order",
                            subject_id=f"ord_bench_{n}",
                            payload={"id": f"ord_bench_{n}", "status": "paid", "total": 1_000 + n % 97, "version": 2},
                        )
                    db.session.flush()
                    production.flush_seconds += time.perf_counter() - began
                    db.session.commit()
                    took = time.perf_counter() - began
                    production.commit_seconds += took
                    production.commits += 1
                    production.late_ticks += took > TICK_SECONDS
                    production.events = target
                elapsed = time.perf_counter() - start
                time.sleep(max(0.0, TICK_SECONDS - elapsed % TICK_SECONDS))
            production.wall_seconds = time.perf_counter() - start
            db.session.remove()
    finally:
        app.extensions["souk.jobs"] = real_runner
    return production


def expected_deliveries(app: Any, shop_id: str, subscription_id: str) -> tuple[int, dict[str, str]]:
    """(the run's events in the outbox, delivery id → event id for the subscription)."""
    events, deliveries, _ = delivery_state(app, shop_id, subscription_id)
    return events, deliveries


def delivery_state(app: Any, shop_id: str, subscription_id: str) -> tuple[int, dict[str, str], Counter[str]]:
    """As ``expected_deliveries``, plus the subscription's deliveries counted by status."""
    import sqlalchemy as sa

    from souk_platform.db import db
    from souk_platform.events.models import OutboxEvent
    from souk_platform.webhooks.models import WebhookDelivery

    with app.app_context():
        events = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(OutboxEvent)
            .where(OutboxEvent.shop_id == shop_id, OutboxEvent.subject_id.startswith("ord_bench_"))
        )
        rows = db.session.execute(
            sa.select(WebhookDelivery.id, WebhookDelivery.event_id).where(
                WebhookDelivery.subscription_id == subscription_id
            )
        )
        deliveries = {row[0]: str(row[1]) for row in rows}
        statuses = Counter(
            dict(
                db.session.execute(
                    sa.select(WebhookDelivery.status, sa.func.count())
                    .where(WebhookDelivery.subscription_id == subscription_id)
                    .group_by(WebhookDelivery.status)
                ).all()
            )
        )
        db.session.remove()
    return int(events or 0), deliveries, statuses


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


def _parse_time(value: str) -> float:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=500.0, help="events per second (default 500)")
    parser.add_argument("--seconds", type=float, default=60.0, help="how long to produce (default 60)")
    parser.add_argument("--workers", type=int, default=2, help="souk worker processes (default 2)")
    parser.add_argument("--drain-seconds", type=float, default=60.0, help="the longest wait for the last deliveries")
    parser.add_argument(
        "--log-dir", type=Path, help="keep the workers' logs and the receipts here (default: discarded)"
    )
    add_store_options(parser)
    args = parser.parse_args()

    with (
        load_average_printed(),
        tempfile.TemporaryDirectory(prefix="souk-bench-webhooks-") as tmp,
        own_stores("webhooks", args) as stores,
    ):
        folder = Path(tmp)
        logs = args.log_dir or folder
        logs.mkdir(parents=True, exist_ok=True)
        env = bench_env(folder, stores)
        os.environ.update(env)  # the producer's app reads the same settings as the workers
        print("[1/4] Migrating …", flush=True)
        migrate(env)
        from souk_platform import create_app

        app = create_app()
        receipts_log = logs / "receipts.tsv"
        receipts_log.unlink(missing_ok=True)
        with processes() as started:
            port_queue: Any = multiprocessing.get_context("spawn").Queue()
            receiver = multiprocessing.get_context("spawn").Process(
                target=_receive, args=(port_queue, str(receipts_log)), daemon=True
            )
            receiver.start()
            started.receiver = receiver
            url = f"http://127.0.0.1:{port_queue.get(timeout=30)}/hooks"
            shop_id, subscription_id = create_shop_and_subscription(app, url)
            print(f"[2/4] Receiver on {url}; starting {args.workers} souk worker(s) …", flush=True)
            for n in range(args.workers):
                started.start_worker(env, logs / f"worker-{n + 1}.log")
            time.sleep(3)  # let the workers import and register before the clock starts
            warmed = warm_up(app, shop_id, url)
            print(f"[3/4] Warmed up ({warmed}); producing {args.rate:g} events/s for {args.seconds:g} s …", flush=True)
            production = produce(app, shop_id, args.rate, args.seconds)
            produced = production.events
            produced_at = time.monotonic()
            print(f"[4/4] Produced {produced}; waiting up to {args.drain_seconds:g} s for the last deliveries …")
            while True:
                events, deliveries = expected_deliveries(app, shop_id, subscription_id)
                received = {row[0] for row in _read_receipts(receipts_log)}
                if (events == produced and len(deliveries) == produced and set(deliveries) <= received) or (
                    time.monotonic() - produced_at > args.drain_seconds
                ):
                    break
                time.sleep(0.5)
            drain = time.monotonic() - produced_at
            _, deliveries, statuses = delivery_state(app, shop_id, subscription_id)
            crashed = [p.returncode for p in started.workers if p.poll() is not None]
            for n, process in enumerate(started.workers):
                if process.poll() is not None:
                    tail = (logs / f"worker-{n + 1}.log").read_text(errors="replace").splitlines()[-15:]
                    print(f"worker {n + 1} exited with {process.returncode}; its log ends:", *tail, sep="\n  ")

        report(
            production, statuses, deliveries, _read_receipts(receipts_log), drain, crashed, args, delivery_runs(logs)
        )


def delivery_runs(logs: Path) -> list[int]:
    """Attempts per delivery run, from the workers' JSON logs (``webhook.run`` lines)."""
    runs: list[int] = []
    for log in sorted(logs.glob("worker-*.log")):
        for line in log.read_text(errors="replace").splitlines():
            if '"webhook.run"' in line:
                with contextlib.suppress(ValueError, KeyError):
                    runs.append(int(json.loads(line)["attempts"]))
    return runs


def report(
    production: Production,
    statuses: Counter[str],
    deliveries: dict[str, str],
    receipts: list[tuple[str, float, str]],
    drain: float,
    crashed: list[int | None],
    args: argparse.Namespace,
    runs: list[int],
) -> None:
    produced = production.events
    counts = Counter(webhook_id for webhook_id, _, _ in receipts)
    first: dict[str, tuple[float, str]] = {}
    for webhook_id, received, created_at in receipts:
        if webhook_id not in first or received < first[webhook_id][0]:
            first[webhook_id] = (received, created_at)
    delivered_events = {deliveries[w] for w in first if w in deliveries}
    lost = produced - len(delivered_events)
    latencies = [received - _parse_time(created_at) for w, (received, created_at) in first.items() if w in deliveries]
    duplicates = sum(c - 1 for c in counts.values())
    print()
    print(
        f"events produced      {produced} in {production.wall_seconds:.1f} s "
        f"({produced / max(production.wall_seconds, 1e-9):.0f}/s achieved, {args.rate:g}/s asked; "
        f"{args.workers} souk worker(s))"
    )
    print(f"delivered            {len(delivered_events)}  (distinct webhook-ids received, mapped to events)")
    print(
        f"lost                 {lost}  (events with no delivery received; "
        f"waited {drain:.1f} s after the producer stopped)"
    )
    print(f"delivery rows        {dict(sorted(statuses.items()))}  (pending rows would still be sent later)")
    print(f"undispatched         {produced - len(deliveries)}  (events without a delivery row at the end)")
    print(f"duplicates           {duplicates}")
    emit_us = production.flush_seconds / max(produced, 1) * 1e6
    if latencies:
        print(
            f"latency event→recv   p50 {statistics.median(latencies) * 1000:.0f} ms   "
            f"p99 {_percentile(latencies, 0.99) * 1000:.0f} ms   max {max(latencies) * 1000:.0f} ms   "
            f"(emit cost {emit_us:.0f} µs per event)"
        )
    else:
        print(f"latency event→recv   none received   (emit cost {emit_us:.0f} µs per event)")
    commits = max(production.commits, 1)
    per_commit = produced / commits
    commit_only = production.commit_seconds - production.flush_seconds - production.enqueue_seconds
    print(
        f"outbox insert cost   {emit_us:.0f} µs per event for emit + flush "
        f"(what an order's own transaction pays); {commit_only / commits * 1e6:.0f} µs per commit "
        f"({per_commit:.1f} events per commit); + {production.enqueue_seconds / commits * 1e6:.0f} µs per commit "
        f"to ask for a delivery run ({production.commit_seconds / max(produced, 1) * 1e6:.0f} µs per event in all; "
        f"{production.late_ticks} of {production.commits} commits took longer than a 10 ms tick)"
    )
    if runs:
        print(
            f"delivery runs        {len(runs)} (rq jobs), {statistics.mean(runs):.1f} attempts per run on average, "
            f"{max(runs)} at most"
        )
    if crashed:
        print(f"workers that exited during the run: {crashed}")
    p99 = _percentile(latencies, 0.99) if latencies else float("inf")
    met = lost == 0 and p99 < TARGET_P99_SECONDS
    print(f"target: 0 lost, p99 < {TARGET_P99_SECONDS:g} s → {'met' if met else 'NOT met'}")


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        print("\nInterrupted: the receiver and the workers were stopped.", file=sys.stderr)
        sys.exit(130)
