"""Plugin invocation benchmark: Souk's per-call path against the straightforward wasmtime-py way.

Run from the repository root:

    .venv/bin/python bench/plugin_invoke.py [--calls 20000] [--rounds 20] [--checkouts 300] [--part 1|2|all]

Part 1 (per call). One trivial ABI v1 plugin (its `run` ignores the input and returns the 11-byte JSON
`{"ok":true}`) is called with the same 4 KiB JSON input, pre-encoded, by:

(a) Souk: `Runtime.load(wasm).invoke_json(input)` — fresh instance per call from an `InstancePre`,
    fuel + epoch deadline + StoreLimits, output read, UTF-8 checked and `json.loads`-ed;
(b) the straightforward wasmtime-py way, with the same safety settings so the comparison is fair: per
    call a new `Store` (fuel, epoch deadline, limits) + `Instance` + `instance.exports(store)` lookups +
    `alloc` + `Memory.write` + `run` + `Memory.read` + `json.loads`.

The two are measured interleaved in rounds in the same process (so machine noise hits both alike);
medians and p99 are over all calls. "Overhead" is defined as Souk's whole per-call time for this
trivial plugin: the guest's own work is ~20 instructions, so everything measured is the cost of the
sandbox (instance creation and teardown, limits, input copy, the calls into wasm, output read and JSON
parse). For reference it also prints the echo-style cost (a plugin that copies its 4 KiB input to its
output, parsed back) and `Plugin.invoke` with `json.dumps` of the payload included.

Part 2 (checkout). A 200-line cart is checked out through the checkout service the API calls
(`souk_platform.checkout.services.checkout` + commit, the same unit of work as `POST
/carts/{id}/checkout`) in two shops with the same catalogue: one with no plugins, one with three sample
plugins built from `sample_plugins/` (tiered discount and member price at `cart.discounts`, risk guard at
`order.validate`). Runs alternate between the shops; each checks out a fresh cart of a fresh customer
(carts are made before the clock starts). It prints p50/p99 of the checkout in each shop and the added
p50/p99 (target: p99 added ≤ 5 ms), and where the plugin time goes (sandbox calls vs the rest). The
database is a fresh PostgreSQL database of this run's own, dropped at the end (``--database-url`` to use
another: the bench migrates it and adds two shops), or with ``--sqlite`` a fresh SQLite file (the embedded
wiring). Background jobs are not run and Redis is not used (both shops would enqueue the same jobs); the
shops and carts are made with ``checkout.py``'s helpers. The load average is printed at the start and the end.
Like the processes that serve checkouts (`souk serve`, `souk demo`), the bench
tunes Python's garbage collector once the app is built (`souk_platform.gc_tuning`);
`--python-gc-defaults` keeps CPython's defaults instead, to see what the tuning changes.

This is a benchmark, not a test: it asserts nothing.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any

import wasmtime
from checkout import bench_app, bench_shop, fresh_cart, timed_checkout
from isolation import add_store_options, load_average_printed, own_database

from souk_sandbox import Limits, Runtime

OVERHEAD_TARGET_US = 30.0

TRIVIAL_WAT = """
(module
  (memory (export "memory") 1)
  (data (i32.const 16) "{\\"ok\\":true}")
  (func (export "alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "run") (param i32 i32) (result i64)
    (i64.or (i64.shl (i64.const 16) (i64.const 32)) (i64.const 11))))
"""

# Copies its input to a fresh region and returns it: the output is the 4 KiB input, parsed back.
ECHO_WAT = """
(module
  (memory (export "memory") 1)
  (func (export "alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "run") (param $p i32) (param $n i32) (result i64)
    (memory.copy (i32.const 32768) (local.get $p) (local.get $n))
    (i64.or (i64.shl (i64.const 32768) (i64.const 32)) (i64.extend_i32_u (local.get $n)))))
"""


def cart_of_4_kib() -> Any:
    """A realistic cart.discounts input padded to exactly 4096 bytes of compact JSON."""
    payload: dict[str, Any] = {
        "cart": {
            "currency": "CNY",
            "lines": [{"sku": f"sku-{i:04d}", "qty": 1 + i % 3, "price": 1990} for i in range(60)],
        },
        "customer": {"level": "V3", "tags": ["vip", "b2b"]},
        "config": {"tiers": [[10000, 1000], [30000, 4000]]},
        "pad": "",
    }
    size = len(encode(payload))
    payload["pad"] = "x" * (4096 - size)
    assert len(encode(payload)) == 4096
    return payload


def encode(payload: Any) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def straightforward_call(engine: wasmtime.Engine, module: wasmtime.Module, input_json: bytes, limits: Limits) -> Any:
    """The way the wasmtime-py docs suggest, with the sandbox's safety settings."""
    store = wasmtime.Store(engine)
    store.set_limits(memory_size=limits.memory_bytes, instances=1, tables=1, memories=1)
    store.set_fuel(limits.fuel)
    store.set_epoch_deadline(11)
    instance = wasmtime.Instance(store, module, [])
    exports = instance.exports(store)
    memory, alloc, run = exports["memory"], exports["alloc"], exports["run"]
    assert isinstance(memory, wasmtime.Memory) and isinstance(alloc, wasmtime.Func) and isinstance(run, wasmtime.Func)
    pointer = alloc(store, len(input_json))
    memory.write(store, input_json, pointer)
    packed = run(store, pointer, len(input_json))
    out_ptr, out_len = (packed >> 32) & 0xFFFFFFFF, packed & 0xFFFFFFFF
    return json.loads(memory.read(store, out_ptr, out_ptr + out_len))


def measure(cases: dict[str, Callable[[], object]], calls: int, rounds: int) -> dict[str, list[float]]:
    """Per-call µs of each case, interleaved: `rounds` rounds of `calls // rounds` calls per case."""
    samples: dict[str, list[float]] = {name: [] for name in cases}
    per_round = max(1, calls // rounds)
    clock = time.perf_counter_ns
    for _ in range(rounds):
        for name, call in cases.items():
            bucket = samples[name]
            for _ in range(per_round):
                started = clock()
                call()
                bucket.append((clock() - started) / 1000)
    return samples


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def report_per_call(calls: int, rounds: int) -> None:
    payload = cart_of_4_kib()
    input_json = encode(payload)
    limits = Limits()
    trivial_wasm = bytes(wasmtime.wat2wasm(TRIVIAL_WAT))
    echo_wasm = bytes(wasmtime.wat2wasm(ECHO_WAT))

    config = wasmtime.Config()
    config.consume_fuel = True
    config.epoch_interruption = True
    plain_engine = wasmtime.Engine(config)
    plain_module = wasmtime.Module(plain_engine, trivial_wasm)

    with Runtime() as runtime:
        trivial = runtime.load(trivial_wasm)
        echo = runtime.load(echo_wasm)
        # Same answer both ways before timing anything.
        souk_result = trivial.invoke_json(input_json)
        assert souk_result.ok and souk_result.output == straightforward_call(
            plain_engine, plain_module, input_json, limits
        )
        assert echo.invoke_json(input_json).output == payload

        cases: dict[str, Callable[[], object]] = {
            "souk": lambda: trivial.invoke_json(input_json),
            "straightforward": lambda: straightforward_call(plain_engine, plain_module, input_json, limits),
            "souk_echo": lambda: echo.invoke_json(input_json),
            "souk_invoke_dumps": lambda: trivial.invoke(payload),
        }
        measure(cases, calls // 10, rounds)  # warm-up
        samples = measure(cases, calls, rounds)

    souk, plain = samples["souk"], samples["straightforward"]
    souk_median, plain_median = statistics.median(souk), statistics.median(plain)
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"wasmtime {version('wasmtime')}, Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load {load}")
    print(f"{len(souk):,} timed calls per case, interleaved in {rounds} rounds")
    print('input: 4,096 bytes of JSON (pre-encoded); plugin: trivial (run returns {"ok":true})')
    print()
    print(f"{'case':<62}{'median µs':>10}{'p99 µs':>10}")
    rows = [
        ("(a) Souk: Plugin.invoke_json", souk),
        ("(b) straightforward wasmtime-py (Store+Instance+exports)", plain),
        ("    Souk, echo plugin (4 KiB out, parsed)", samples["souk_echo"]),
        ("    Souk, Plugin.invoke (json.dumps of the payload included)", samples["souk_invoke_dumps"]),
    ]
    for label, values in rows:
        print(f"{label:<62}{statistics.median(values):>10.1f}{percentile(values, 0.99):>10.1f}")
    print()
    print(f"ratio straightforward / Souk (median): {plain_median / souk_median:.2f}x")
    print(f"ratio straightforward / Souk (p99):    {percentile(plain, 0.99) / percentile(souk, 0.99):.2f}x")
    print(
        "overhead = Souk's whole per-call time for the trivial plugin (guest work ~20 instructions): "
        f"median {souk_median:.1f} µs; target ≤ {OVERHEAD_TARGET_US:.0f} µs: "
        + ("MET" if souk_median <= OVERHEAD_TARGET_US else "NOT MET")
    )


# --- part 2: checkout ---------------------------------------------------------------------------------

ADDED_P99_TARGET_MS = 5.0
SAMPLES = Path(__file__).resolve().parents[1] / "sample_plugins"
#: (sample folder, point, config): the three plugins the shop with plugins runs.
CHECKOUT_PLUGINS = (
    ("tiered_discount", "cart.discounts", {"tiers": [{"min_spend": 8000, "amount_off": 1000}]}),
    ("member_price", "cart.discounts", {"percent_off": [0, 2, 5, 8, 12]}),
    ("risk_guard", "order.validate", {"max_orders_per_buyer": 1000, "max_accounts_per_ip": 1000}),
)


def _activate_samples(session: Any, shop_id: str) -> None:
    from souk_platform.plugins.services import create_activation, upload_plugin

    for position, (folder, point, config) in enumerate(CHECKOUT_PLUGINS):
        schema = json.loads((SAMPLES / folder / "config.schema.json").read_text())
        module = (SAMPLES / folder / "plugin.wasm").read_bytes()
        plugin = upload_plugin(session, shop_id=shop_id, name=folder, point=point, module=module, config_schema=schema)
        create_activation(session, shop_id=shop_id, plugin_id=plugin.id, position=position, config=config)
    session.commit()


class _PluginClock:
    """Times ``invoke_plugins`` (input encoding, sandbox calls, output checks, log rows) per checkout."""

    def __init__(self) -> None:
        from souk_platform.plugins import services

        self.spent_ns = 0
        self._services = services
        self._original = services.invoke_plugins

        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter_ns()
            try:
                return self._original(*args, **kwargs)
            finally:
                self.spent_ns += time.perf_counter_ns() - started

        services.invoke_plugins = timed  # type: ignore[assignment]

    def take_ms(self) -> float:
        spent, self.spent_ns = self.spent_ns, 0
        return spent / 1e6

    def close(self) -> None:
        self._services.invoke_plugins = self._original  # type: ignore[assignment]


def report_checkout(checkouts: int, lines: int, database_url: str | None, *, tune_gc: bool = True) -> None:
    """Part 2: p50/p99 of a ``lines``-line checkout with no plugins and with the three samples."""
    import sqlalchemy as sa

    from souk_platform.db import db
    from souk_platform.plugins.models import PluginInvocation

    with tempfile.TemporaryDirectory(prefix="souk-bench-") as folder:
        url = database_url or f"sqlite:///{folder}/bench.sqlite3"
        app = bench_app(url, folder)
        with app.app_context():
            session = db.session
            now = app.extensions["souk.clock"].now()
            plain_shop, plain_skus = bench_shop(session, "no-plugins", lines)
            plugin_shop, plugin_skus = bench_shop(session, "three-plugins", lines)
            _activate_samples(session, plugin_shop)
            if tune_gc:
                from souk_platform.gc_tuning import tune_garbage_collector

                tune_garbage_collector()  # as souk serve / demo do once the app is built
            warmup = 3
            samples: dict[str, list[float]] = {"plain": [], "plugins": [], "invoke": []}
            plugin_clock = _PluginClock()
            for run in range(checkouts + warmup):
                for name, shop_id, sku_ids in (
                    ("plain", plain_shop, plain_skus),
                    ("plugins", plugin_shop, plugin_skus),
                ):
                    cart_id, customer_id = fresh_cart(session, shop_id, sku_ids, now)
                    plugin_clock.take_ms()
                    elapsed = timed_checkout(session, shop_id, cart_id, customer_id, now)
                    if run >= warmup:
                        samples[name].append(elapsed)
                        if name == "plugins":
                            samples["invoke"].append(plugin_clock.take_ms())
            plugin_clock.close()
            calls = session.execute(
                sa.select(PluginInvocation.outcome, sa.func.count(), sa.func.sum(PluginInvocation.elapsed_us))
                .where(PluginInvocation.shop_id == plugin_shop)
                .group_by(PluginInvocation.outcome)
            ).all()
            db.engine.dispose()

    plain, plugged = samples["plain"], samples["plugins"]
    backend = f"PostgreSQL ({database_url.rsplit('/', 1)[-1]})" if database_url else "SQLite file (embedded wiring)"
    print()
    print(f"Part 2: checkout of a {lines}-line cart, {len(plain)} runs per shop, alternating; database: {backend}")
    collector = "tuned as in production (souk_platform.gc_tuning)" if tune_gc else "CPython defaults"
    print(f"garbage collector: {collector}, thresholds {gc.get_threshold()}")
    print("plugins: " + ", ".join(f"{folder} at {point}" for folder, point, _ in CHECKOUT_PLUGINS))
    print(f"{'case':<40}{'p50 ms':>10}{'p99 ms':>10}")
    print(f"{'checkout, no plugins':<40}{percentile(plain, 0.5):>10.2f}{percentile(plain, 0.99):>10.2f}")
    print(f"{'checkout, 3 plugins':<40}{percentile(plugged, 0.5):>10.2f}{percentile(plugged, 0.99):>10.2f}")
    added_p50 = percentile(plugged, 0.5) - percentile(plain, 0.5)
    added_p99 = percentile(plugged, 0.99) - percentile(plain, 0.99)
    invoke = samples["invoke"]
    print(f"{'added by the plugins (difference)':<40}{added_p50:>10.2f}{added_p99:>10.2f}")
    inside = "  of which invoke_plugins, timed inside"
    print(f"{inside:<40}{percentile(invoke, 0.5):>10.2f}{percentile(invoke, 0.99):>10.2f}")
    total_calls = sum(int(count) for _, count, _ in calls)
    sandbox_ms = sum(int(us or 0) for _, _, us in calls) / 1000 / max(1, len(plugged) + 3)
    outcomes = ", ".join(f"{outcome} {count}" for outcome, count, _ in calls)
    print(f"plugin calls logged: {total_calls} ({outcomes}); inside the sandbox per checkout: {sandbox_ms:.2f} ms")
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"load average {load} on {os.cpu_count()} CPUs (the p99 difference is only as steady as the machine)")
    print(
        f"target: p99 added ≤ {ADDED_P99_TARGET_MS:.0f} ms: "
        + ("MET" if added_p99 <= ADDED_P99_TARGET_MS else "NOT MET")
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--calls", type=int, default=20_000, help="timed calls per case (default 20000)")
    parser.add_argument("--rounds", type=int, default=20, help="interleaved rounds (default 20)")
    parser.add_argument("--checkouts", type=int, default=300, help="timed checkouts per shop in part 2 (default 300)")
    parser.add_argument("--lines", type=int, default=200, help="cart lines in part 2 (default 200)")
    parser.add_argument("--part", choices=("1", "2", "all"), default="all", help="which part to run (default all)")
    parser.add_argument(
        "--python-gc-defaults",
        action="store_true",
        help="part 2 without the production garbage-collector tuning (souk_platform.gc_tuning)",
    )
    parser.add_argument("--sqlite", action="store_true", help="part 2 on a fresh SQLite file instead of PostgreSQL")
    add_store_options(parser, redis=False)
    args = parser.parse_args(argv)
    with load_average_printed():
        if args.part in ("1", "all"):
            report_per_call(args.calls, args.rounds)
        if args.part in ("2", "all") and args.sqlite:
            report_checkout(args.checkouts, args.lines, None, tune_gc=not args.python_gc_defaults)
        elif args.part in ("2", "all"):
            with own_database("plugins", args.database_url) as database_url:
                report_checkout(args.checkouts, args.lines, database_url, tune_gc=not args.python_gc_defaults)
    return 0


if __name__ == "__main__":
    sys.exit(main())
