"""API throughput benchmark: Souk against a bare Flask app under the same server, measured side by side.

Run from the repository root:

    .venv/bin/python bench/api_throughput.py [--duration 8] [--concurrency 8] [--install-wrk]
                                             [--server sync,gthread,granian]

What it does, on 127.0.0.1 only:
1. creates a PostgreSQL database and leases a Redis db of this run's own (``--database-url`` / ``--redis-url``
   to use others; see ``bench/isolation.py``), migrates it (``souk db upgrade heads``), and seeds a shop, an
   access token and 50 products (foundation services in a Python subprocess, then the products API);
2. for each ``--server`` (default sync, what ``souk serve`` runs): serves a bare Flask hello-world app (the
   baseline) and, with the same settings, the Souk app (2 workers each; Souk's collector tuned as
   ``souk serve`` does) — gunicorn with sync workers (a connection per request), gunicorn with gthread
   workers of one thread (keep-alive), or granian with one blocking thread per worker (keep-alive);
3. runs a closed-loop load generator for a bounded time per case — ``wrk`` when it is installed (or
   installed with ``--install-wrk``), otherwise Python processes each sending one request at a time with
   httpx — and prints req/s, p50, p99 and the ratio to the baseline measured with the same generator just
   before the case (the bare app is measured again before every read case, so a drift of this shared
   machine's speed during the run falls on both sides of each ratio):
   the bare app, the authenticated reads ``GET /api/v1/shop``, ``/products/{id}``, ``/products?limit=50`` and
   ``/market/apps`` (each with its target ratio), and one checkout (cart + checkout) per
   operation when the checkout endpoint exists.

Servers are stopped and the run's own database and Redis db removed on exit, including Ctrl+C. The load
average is printed at the start and the end. This is a benchmark, not a test: it asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from isolation import Stores, add_store_options, load_average_printed, own_stores

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
TARGET_READS_PER_SECOND = 5_800  # the stretch goal, for GET /api/v1/shop
#: Each read's target: req/s at least this fraction of the bare app's, under the same server and generator.
TARGET_RATIOS = {
    "GET /api/v1/shop": 0.5,
    "GET /api/v1/products/{id}": 0.4,
    "GET /api/v1/products?limit=50": 0.2,
    "GET /api/v1/market/apps": 0.2,
}
PRODUCTS = 50
SERVER_LABELS = {
    "sync": "gunicorn, sync workers (a connection per request)",
    "gthread": "gunicorn, gthread workers with one thread (keep-alive)",
    "granian": "granian, one blocking thread per worker (keep-alive)",
}
SERVERS = tuple(SERVER_LABELS)
BENCH_DIR = str(Path(__file__).parent)


def _servers(value: str) -> tuple[str, ...]:
    names = tuple(name.strip() for name in value.split(",") if name.strip())
    unknown = [name for name in names if name not in SERVERS]
    if not names or unknown:
        raise argparse.ArgumentTypeError(f"choose from {', '.join(SERVERS)} (comma-separated), not {value!r}")
    return names


WARMUP_SECONDS = 1.0


def hello_app() -> Any:
    """The baseline: the smallest Flask app, served by gunicorn exactly like Souk (``api_throughput:hello_app()``)."""
    from flask import Flask

    app = Flask("hello")

    @app.get("/")
    def hello() -> dict[str, str]:
        return {"hello": "world"}

    return app


# --- servers ------------------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Servers:
    """The gunicorn processes this run started; ``stop_all`` ends each of them (and only them)."""

    def __init__(self) -> None:
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(
        self,
        target: str,
        env: dict[str, str],
        log: Path,
        *,
        server: str,
        pythonpath: str | None = None,
        souk: bool = False,
    ) -> str:
        """Serve ``target`` (``module:factory()``) with 2 workers of ``server``, as ``souk serve`` would."""
        port = _free_port()
        if server == "granian":
            module, _, factory = target.partition(":")
            if souk:  # the factory that also tunes the collector, as gunicorn's post_worker_init does
                module, factory = "souk_platform.serving", "granian_app()"
            args = [str(VENV_BIN / "granian"), "--interface", "wsgi", "--host", "127.0.0.1", "--port", str(port)]
            args += ["--workers", "2", "--blocking-threads", "1", "--backlog", "2048", "--no-ws"]
            args += ["--log-level", "warning", "--factory"]
            if pythonpath:
                args += ["--working-dir", pythonpath]
            args.append(f"{module}:{factory.removesuffix('()')}")
        else:
            args = [str(VENV_BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", "2"]
            args += ["--worker-class", server, "--backlog", "2048", "--log-level", "warning"]
            if server == "gthread":
                args += ["--threads", "1", "--keep-alive", "5"]
            if pythonpath:
                args += ["--pythonpath", pythonpath]
            if souk:  # As `souk serve` runs it: each worker tunes its garbage collector once the app is built.
                args += ["--config", "python:souk_platform.gunicorn_conf"]
            args.append(target)
        with log.open("ab") as out:
            process = subprocess.Popen(args, env=env, stdout=out, stderr=out, start_new_session=True)
        self.processes.append(process)
        base = f"http://127.0.0.1:{port}"
        _wait_until_up(base, process, log)
        return base

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)  # gunicorn's master stops its workers gracefully
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)  # its own session: only this server and its workers
                process.wait()
        self.processes.clear()


def _wait_until_up(base: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited with {process.returncode}; see {log}:\n{log.read_text()[-2000:]}")
        try:
            httpx.get(base + "/", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise SystemExit(f"gunicorn did not answer on {base} within 30 s; see {log}")


# --- database and seed data ---------------------------------------------------------------------------------


def _bench_env(instance: Path, stores: Stores) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        SOUK_DATABASE_URL=stores.database_url,
        SOUK_REDIS_URL=stores.redis_url or "",
        SOUK_INSTANCE_PATH=str(instance),
        SOUK_SECRET_KEY="bench-only-secret",
        SOUK_LOG_FORMAT="json",
        # Measure throughput, not the limiter's refusals: every request still takes a token (most from a
        # lease, one round trip per 256: docs/architecture.md §4.6).
        SOUK_RATE_LIMIT_RPS="1000000",
        SOUK_RATE_LIMIT_BURST="1000000",
        # As `souk serve` runs it: every worker counts its metrics into files there (docs/architecture.md §13).
        PROMETHEUS_MULTIPROC_DIR=str(instance / "metrics"),
    )
    (instance / "metrics").mkdir(exist_ok=True)
    return env


def migrate(env: dict[str, str]) -> None:
    subprocess.run([str(VENV_BIN / "souk"), "db", "upgrade", "heads"], env=env, check=True, capture_output=True)


_SEED_SCRIPT = """
import json
import time
from souk_platform import create_app
from souk_platform.auth.scopes import all_scopes
from souk_platform.auth.services import create_access_token, create_user
from souk_platform.db import db
from souk_platform.shops.services import create_shop

app = create_app()
with app.app_context():
    email = f"bench-{time.time_ns()}@souk.test"  # unique: a --database-url may hold an earlier run's owner
    owner = create_user(db.session, email=email, name="Bench", password="bench-password-1")
    shop = create_shop(db.session, name="Bench shop", owner=owner)
    _, token = create_access_token(db.session, shop_id=shop.id, name="bench", scopes=all_scopes(), created_by=owner.id)
    db.session.commit()
    print(json.dumps({"shop_id": shop.id, "token": token}))
"""


@dataclass(frozen=True, slots=True)
class Seed:
    shop_id: str
    token: str
    sku_ids: list[str]
    product_ids: list[str]


def seed(env: dict[str, str], souk: str) -> Seed:
    """A shop and an all-scopes token (foundation services), then products with ample stock (the API)."""
    out = subprocess.run([sys.executable, "-c", _SEED_SCRIPT], env=env, check=True, capture_output=True, text=True)
    created = json.loads(out.stdout.strip().splitlines()[-1])
    headers = {"Authorization": f"Bearer {created['token']}"}
    sku_ids: list[str] = []
    product_ids: list[str] = []
    with httpx.Client(base_url=souk, headers=headers, timeout=30) as client:
        for n in range(PRODUCTS):
            body = {
                "title": f"Bench tea {n:02d}",
                "description": "Seeded by bench/api_throughput.py",
                "status": "active",
                "skus": [{"code": f"BENCH-{n:02d}", "title": "100g", "price": 1_000 + n, "on_hand": 1_000_000}],
            }
            r = client.post("/api/v1/products", json=body)
            if r.status_code != 201:
                raise SystemExit(f"Could not seed a product: {r.status_code} {r.text[:500]}")
            sku_ids += [sku["id"] for sku in r.json().get("skus", [])]
            product_ids.append(r.json()["id"])
    return Seed(created["shop_id"], created["token"], sku_ids, product_ids)


# --- load generators ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Result:
    case: str
    generator: str
    requests: int
    errors: int
    seconds: float
    p50_ms: float
    p99_ms: float

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def _percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, int(fraction * len(sorted_values)))]


# One operation for a Python client: (client) -> ok?
Operation = Callable[[httpx.Client], bool]


@dataclass(frozen=True, slots=True)
class Job:
    base: str
    headers: dict[str, str]
    kind: str  # "get" or "checkout"
    path: str
    seconds: float
    checkout: dict[str, Any] | None = None


def _operation(job: Job, worker: int) -> Operation:
    if job.kind == "get":

        def get(client: httpx.Client) -> bool:
            return client.get(job.path).status_code == 200

        return get
    plan = job.checkout or {}
    sku_ids: list[str] = plan["sku_ids"]
    counter = {"n": worker}
    run = secrets.token_hex(6)  # keys never repeat across servers measured in one run (a replay would be 422)

    def checkout(client: httpx.Client) -> bool:
        counter["n"] += 1
        sku = sku_ids[counter["n"] % len(sku_ids)]
        cart = client.post(plan["cart_path"], json={"lines": [{"sku_id": sku, "quantity": 1}]})
        if cart.status_code != 201:
            return False
        key = f"bench-{run}-{os.getpid()}-{counter['n']}"
        r = client.post(
            plan["checkout_path"].format(cart_id=cart.json()["id"]),
            json=plan.get("checkout_body", {}),
            headers={"Idempotency-Key": key},
        )
        return r.status_code in (200, 201)

    return checkout


def _client_process(job: Job, worker: int, results: Any) -> None:
    """One closed-loop client: one operation at a time for ``job.seconds`` after a warm-up."""
    operation = _operation(job, worker)
    latencies: list[float] = []
    errors = 0
    with httpx.Client(base_url=job.base, headers=job.headers, timeout=10) as client:
        warm_until = time.perf_counter() + WARMUP_SECONDS
        while time.perf_counter() < warm_until:
            operation(client)
        start = time.perf_counter()
        end = start + job.seconds
        while (now := time.perf_counter()) < end:
            try:
                ok = operation(client)
            except httpx.HTTPError:
                ok = False
            latencies.append(time.perf_counter() - now)
            errors += not ok
        results.put((latencies, errors, time.perf_counter() - start))


def run_python(case: str, job: Job, concurrency: int) -> Result:
    ctx = multiprocessing.get_context("spawn")
    results = ctx.Queue()
    workers = [ctx.Process(target=_client_process, args=(job, i, results)) for i in range(concurrency)]
    for worker in workers:
        worker.start()
    try:
        gathered = [results.get(timeout=job.seconds + 60) for _ in workers]
    except BaseException:  # Ctrl+C or a stuck client: stop the clients now
        for worker in workers:
            worker.terminate()
        raise
    finally:
        for worker in workers:
            worker.join(timeout=5)
            if worker.is_alive():
                worker.kill()
    latencies = sorted(value for lat, _, _ in gathered for value in lat)
    seconds = max(elapsed for _, _, elapsed in gathered)
    errors = sum(e for _, e, _ in gathered)
    return Result(
        case,
        "python",
        len(latencies),
        errors,
        seconds,
        _percentile(latencies, 0.5) * 1e3,
        _percentile(latencies, 0.99) * 1e3,
    )


_WRK_UNITS_MS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3_600e3}


def _wrk_ms(text: str) -> float:
    """One of wrk's durations ("628.00us", "4.10ms", "1.02s", "1.00m") in milliseconds."""
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text)
    if match is None:
        raise ValueError(f"not a wrk duration: {text!r}")
    return float(match.group(1)) * _WRK_UNITS_MS[match.group(2)]


@dataclass(frozen=True, slots=True)
class WrkFigures:
    """What one ``wrk --latency`` run reports; percentiles in ms, keyed by percent (50.0, 75.0, 90.0, 99.0)."""

    requests: int
    seconds: float
    percentiles_ms: dict[float, float]
    errors: int  # non-2xx/3xx responses plus socket errors (connect, read, write, timeout)


# Every pattern is anchored to the start of a line: the "Thread Stats" table's "+/- Stdev" column ends in a
# percentage too ("77.50%"), and an unanchored "50%" matched it and took the next line's first word ("Latency"
# or "Req/Sec") as the p50.
_WRK_TOTAL = re.compile(r"^\s*(\d+) requests in ([\d.]+(?:us|ms|s|m|h)),", re.MULTILINE)
_WRK_PERCENTILE = re.compile(r"^\s*(\d+(?:\.\d+)?)%\s+([\d.]+(?:us|ms|s|m|h))\s*$", re.MULTILINE)
_WRK_NON_2XX = re.compile(r"^\s*Non-2xx or 3xx responses: (\d+)\s*$", re.MULTILINE)
_WRK_SOCKET_ERRORS = re.compile(
    r"^\s*Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)\s*$", re.MULTILINE
)


def parse_wrk_output(out: str) -> WrkFigures:
    """Parse ``wrk --latency`` output; raises ValueError when the totals or the distribution are missing."""
    total = _WRK_TOTAL.search(out)
    if total is None:
        raise ValueError("wrk output has no 'N requests in T' line")
    distribution = out.split("Latency Distribution", 1)
    if len(distribution) != 2:
        raise ValueError("wrk output has no latency distribution (was --latency given?)")
    # Only the distribution block: it ends at the totals line, so nothing after it can be taken for a percentile.
    block = distribution[1].split(total.group(0).strip(), 1)[0]
    percentiles = {float(p): _wrk_ms(value) for p, value in _WRK_PERCENTILE.findall(block)}
    if 50.0 not in percentiles or 99.0 not in percentiles:
        raise ValueError(f"wrk's latency distribution lacks p50 or p99: {sorted(percentiles)}")
    non_2xx = _WRK_NON_2XX.search(out)
    socket_errors = _WRK_SOCKET_ERRORS.search(out)
    errors = (int(non_2xx.group(1)) if non_2xx else 0) + (
        sum(int(n) for n in socket_errors.groups()) if socket_errors else 0
    )
    return WrkFigures(int(total.group(1)), _wrk_ms(total.group(2)) / 1e3, percentiles, errors)


def run_wrk(case: str, job: Job, concurrency: int) -> Result:
    args = ["wrk", "-t2", f"-c{concurrency}"]
    for name, value in job.headers.items():
        args += ["-H", f"{name}: {value}"]
    subprocess.run([*args, "-d1s", job.base + job.path], capture_output=True, check=False)  # warm-up
    measured = [*args, f"-d{int(job.seconds)}s", "--latency", job.base + job.path]
    out = subprocess.run(measured, capture_output=True, text=True, check=True).stdout
    figures = parse_wrk_output(out)
    return Result(
        case,
        "wrk",
        figures.requests,
        figures.errors,
        figures.seconds,
        figures.percentiles_ms[50.0],
        figures.percentiles_ms[99.0],
    )


# --- checkout discovery -------------------------------------------------------------------------------------


def checkout_plan(souk: str, headers: dict[str, str], sku_ids: list[str]) -> dict[str, Any] | str:
    """How to run one checkout on this build, or why it cannot be benchmarked yet."""
    spec = httpx.get(souk + "/api/v1/openapi.json", timeout=10).json()
    paths = spec.get("paths", {})
    cart_path = next((p for p in paths if p.rstrip("/").endswith("/carts") and "post" in paths[p]), None)
    checkout_path = next(
        (p for p in paths if "checkout" in p and "{cart_id}" in p and "post" in paths[p]),
        None,
    )
    if not cart_path or not checkout_path:
        return "the checkout endpoints (POST …/carts and POST …/carts/{cart_id}/checkout) do not exist yet"
    if not sku_ids:
        return "no SKUs were seeded"
    plan = {"cart_path": cart_path, "checkout_path": checkout_path, "sku_ids": sku_ids}
    probe = Job(souk, headers, "checkout", "", 0, plan)
    with httpx.Client(base_url=souk, headers=headers, timeout=30) as client:
        if not _operation(probe, 0)(client):
            return "a probe checkout did not succeed (see the server log)"
    return plan


# --- the run ------------------------------------------------------------------------------------------------


def _print_table(results: list[Result]) -> None:
    baselines: dict[str, float] = {}  # the latest baseline of each generator above the row
    print()
    print(
        f"{'case':<34} {'generator':<9} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} {'vs baseline':>12} "
        f"{'target':>14}"
    )
    for r in results:
        if r.case == "baseline":
            baselines[r.generator] = r.per_second
        base = baselines.get(r.generator)
        ratio = f"{r.per_second / base:.2f}×" if base else "—"
        target = TARGET_RATIOS.get(r.case)
        verdict = ""
        if target is not None and base:
            verdict = f"≥ {target:.1f}× {'met' if r.per_second / base >= target and not r.errors else 'NOT met'}"
        print(
            f"{r.case:<34} {r.generator:<9} {r.per_second:>9,.0f} {r.p50_ms:>8.2f} {r.p99_ms:>8.2f} "
            f"{r.errors:>7} {ratio:>12} {verdict:>14}"
        )


@contextmanager
def _stop_on_signals(servers: Servers) -> Iterator[None]:
    """Ctrl+C or SIGTERM: stop the servers we started, then exit."""

    def stop(signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        servers.stop_all()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=8.0, help="seconds measured per case (default 8)")
    parser.add_argument(
        "--concurrency", type=int, default=4, help="concurrent connections or client processes (default 4)"
    )
    parser.add_argument("--install-wrk", action="store_true", help="apt-get install -y wrk if it is missing")
    parser.add_argument("--python-client", action="store_true", help="use the Python client even if wrk exists")
    parser.add_argument(
        "--server",
        type=_servers,
        default=("sync",),
        metavar="NAME[,NAME…]",
        help=f"what serves both apps, one run each: {', '.join(SERVERS)} (default sync, as souk serve)",
    )
    add_store_options(parser)
    args = parser.parse_args(argv)
    if not 1 <= args.duration <= 120 or not 1 <= args.concurrency <= 256:
        parser.error("--duration must be 1–120 seconds and --concurrency 1–256")

    if "granian" in args.server and not (VENV_BIN / "granian").exists():
        parser.error(
            "--server granian needs granian, which Souk does not depend on: "
            f"{VENV_BIN / 'python'} -m pip install granian"
        )
    if args.install_wrk and not shutil.which("wrk"):
        subprocess.run(["apt-get", "install", "-y", "wrk"], check=True)
    use_wrk = bool(shutil.which("wrk")) and not args.python_client

    servers = Servers()
    results: dict[str, list[Result]] = {}
    with (
        load_average_printed(),
        tempfile.TemporaryDirectory(prefix="souk-bench-") as tmp,
        own_stores("api", args) as stores,
        _stop_on_signals(servers),
    ):
        instance = Path(tmp)
        env = _bench_env(instance, stores)
        log = instance / "server.log"
        print("Migrating …", flush=True)
        migrate(env)
        seeded: Seed | None = None
        for server in args.server:
            hello = servers.start("api_throughput:hello_app()", env, log, server=server, pythonpath=BENCH_DIR)
            souk = servers.start("souk_platform:create_app()", env, log, server=server, souk=True)
            if seeded is None:
                print(f"Seeding a shop and {PRODUCTS} products …", flush=True)
                seeded = seed(env, souk)
            print(f"Measuring {args.duration:g} s per case, 2 {server} workers each …", flush=True)
            results[server] = measure(hello, souk, seeded, args, use_wrk)
            servers.stop_all()

    for server, measured in results.items():
        print(f"\n{server}: both apps served by {SERVER_LABELS[server]}")
        _print_table(measured)
        reads_result = next(r for r in measured if r.case == "GET /api/v1/shop")
        met = reads_result.per_second >= TARGET_READS_PER_SECOND and reads_result.errors == 0
        print(
            f"Target: ≥ {TARGET_READS_PER_SECOND:,} authenticated reads/s — measured {reads_result.per_second:,.0f} "
            f"({reads_result.errors} errors) on {os.cpu_count()} CPUs shared with the load generator: "
            f"{'met' if met else 'not met'}"
        )
    return 0


def measure(hello: str, souk: str, seeded: Seed, args: argparse.Namespace, use_wrk: bool) -> list[Result]:
    """Every case against one server, each just after a run of the bare app: the reads, then cart + checkout."""
    generator = run_wrk if use_wrk else run_python
    auth = {"Authorization": f"Bearer {seeded.token}"}
    baseline = Job(hello, {}, "get", "/", args.duration)
    results: list[Result] = []
    served = httpx.get(souk + "/api/v1/openapi.json", timeout=10).json().get("paths", {})
    paths = {re.sub(r"\{[^}]+\}", "{}", path) for path in served}  # /products/{product_id} → /products/{}
    reads = {
        "GET /api/v1/shop": "/api/v1/shop",
        "GET /api/v1/products/{id}": f"/api/v1/products/{seeded.product_ids[0]}",
        "GET /api/v1/products?limit=50": "/api/v1/products?limit=50",
        "GET /api/v1/market/apps": "/api/v1/market/apps",
    }
    for case, path in reads.items():
        if re.sub(r"\{[^}]+\}", "{}", case.removeprefix("GET ").split("?")[0]) not in paths:
            print(f"Skipping {case}: this build does not serve it.")
            continue
        results.append(generator("baseline", baseline, args.concurrency))  # paired with the case after it
        results.append(generator(case, Job(souk, auth, "get", path, args.duration), args.concurrency))

    plan = checkout_plan(souk, auth, seeded.sku_ids)
    if isinstance(plan, str):
        print(f"Skipping the checkout case: {plan}.")
    else:
        # wrk cannot chain two requests: the checkout is compared with a Python-client baseline, just before it.
        results.append(run_python("baseline", baseline, args.concurrency))
        job = Job(souk, auth, "checkout", "", args.duration, plan)
        results.append(run_python("POST cart + checkout (per op)", job, args.concurrency))
    return results


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("\nInterrupted; servers stopped.", file=sys.stderr)
        sys.exit(130)
