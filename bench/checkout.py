"""Checkout benchmark: a checkout on PostgreSQL against the same checkout on SQLite, and statements per checkout.

Run from the repository root:

    .venv/bin/python bench/checkout.py [--checkouts 30] [--lines 1,50,200] [--database-url URL]

A cart of 1, 50 and 200 lines (one unit of each of that many SKUs) is checked out through the checkout
service the API calls (``souk_platform.checkout.services.checkout`` + commit, the unit of work of ``POST
/carts/{id}/checkout``), ``--checkouts`` times per size, on PostgreSQL (a fresh database of this run's own,
dropped at the end, unless ``--database-url`` is given) and on a fresh SQLite file (the embedded wiring), in
the same run. Each checkout is of a fresh cart of a fresh customer, made before its clock starts. It prints
per size the p50/p99 on each database, the p50 ratio PostgreSQL / SQLite (target at 200 lines: ≤ 1.3×) and
the SQL statements one checkout sends (counted with a ``before_cursor_execute`` listener from the service
call through the flush at its commit; the transaction's BEGIN/COMMIT are not counted): the count should not
grow with the number of lines. The collector is tuned as in production
(``souk_platform.gc_tuning``). The app runs with no Redis and no background jobs (every case would enqueue
the same ones). The load average is printed at the start and the end.

``plugin_invoke.py``'s part 2 builds its shops and carts with the helpers here.
This is a benchmark, not a test: it asserts nothing.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from isolation import add_store_options, load_average_printed, own_database

P50_RATIO_TARGET = 1.3
WARMUP_CHECKOUTS = 2


# --- shops, carts and one timed checkout (shared with plugin_invoke.py) -------------------------------


class NoJobs:
    """The checkout benches run no background jobs: every case would enqueue the same ones."""

    def enqueue(self, path: str, *args: Any) -> None:
        pass

    def enqueue_once(self, path: str, *, coalesce: bool = False) -> None:
        pass

    def queue_depth(self) -> dict[str, int]:
        return {}


def bench_app(database_url: str, instance_dir: str) -> Any:
    """The Souk app on ``database_url``, migrated to heads, with no Redis and no background jobs."""
    from flask_migrate import upgrade

    from souk_platform import create_app

    saved = os.environ.get("SOUK_INSTANCE_PATH")
    os.environ["SOUK_INSTANCE_PATH"] = instance_dir
    try:
        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": database_url,
                "SOUK_REDIS_URL": None,
                "SOUK_JOBS": "inline",
                "SECRET_KEY": "bench",
                "SOUK_LOG_FORMAT": "console",
            }
        )
    finally:
        if saved is None:
            os.environ.pop("SOUK_INSTANCE_PATH", None)
        else:
            os.environ["SOUK_INSTANCE_PATH"] = saved
    app.extensions["souk.jobs"] = NoJobs()
    logging.getLogger("alembic").setLevel(logging.WARNING)
    with app.app_context():
        upgrade(revision="heads")
    return app


def bench_shop(session: Any, name: str, lines: int) -> tuple[str, list[str]]:
    """A shop with ``lines`` SKUs (plenty of stock, loose risk limits); returns (shop id, SKU ids)."""
    from souk_platform.auth.services import create_user
    from souk_platform.catalog.services import NewSku, create_product
    from souk_platform.shops.services import create_shop, update_shop

    owner = create_user(session, email=f"{name}-{time.time_ns()}@bench.souk.dev", name=name, password="x" * 12)
    shop = create_shop(session, name=name, owner=owner)
    settings = {"risk_customer_orders_max": 0, "risk_ip_customers_max": 0, "risk_customer_ips_max": 0}
    update_shop(session, shop_id=shop.id, changes={"settings": settings}, expected_version=None)
    skus = [NewSku(code=f"SKU-{i:04d}", title=f"Item {i}", price=100 + i, on_hand=10**6) for i in range(lines)]
    product = create_product(session, shop_id=shop.id, title="Bench goods", status="active", skus=skus)
    session.commit()
    return shop.id, [sku.id for sku in product.skus]


def fresh_cart(session: Any, shop_id: str, sku_ids: list[str], now: Any) -> tuple[str, str]:
    """A committed cart of one unit of each SKU for a new V3 customer; (cart id, customer id)."""
    from souk_platform.checkout.services import create_cart
    from souk_platform.customers.services import create_customer
    from souk_platform.members.services import set_customer_level

    customer = create_customer(session, shop_id=shop_id, name="Bench buyer")
    session.flush()
    set_customer_level(session, shop_id=shop_id, customer_id=customer.id, level=3, reason="bench", now=now)
    lines = [{"sku_id": sku_id, "quantity": 1} for sku_id in sku_ids]
    cart = create_cart(session, shop_id=shop_id, customer_id=customer.id, lines=lines, now=now)
    session.commit()
    return cart.id, customer.id


def timed_checkout(session: Any, shop_id: str, cart_id: str, customer_id: str, now: Any) -> float:
    """Milliseconds for one checkout and its commit (the unit of work of ``POST /carts/{id}/checkout``)."""
    from souk_platform.checkout.services import checkout

    started = time.perf_counter_ns()
    order = checkout(
        session,
        shop_id=shop_id,
        cart_id=cart_id,
        customer_id=customer_id,
        ip=None,
        coupon_codes=[],
        points_to_spend=0,
        stored_value_to_spend=0,
        now=now,
    )
    session.commit()
    elapsed = (time.perf_counter_ns() - started) / 1e6
    assert order.status == "pending_payment"
    return elapsed


# --- statements per checkout ----------------------------------------------------------------------------------


class StatementCounter:
    """Counts the statements the engine sends to the database while ``counting()`` is open."""

    def __init__(self, engine: Any) -> None:
        import sqlalchemy as sa

        self.statements = 0
        self._open = False

        @sa.event.listens_for(engine, "before_cursor_execute")
        def count(*_args: Any) -> None:
            if self._open:
                self.statements += 1

    @contextmanager
    def counting(self) -> Iterator[None]:
        self._open = True
        try:
            yield
        finally:
            self._open = False


@dataclass
class Case:
    database: str
    lines: int
    milliseconds: list[float] = field(default_factory=list)
    statements: list[int] = field(default_factory=list)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def measure_database(label: str, database_url: str, sizes: list[int], checkouts: int) -> list[Case]:
    """``checkouts`` timed checkouts (after a warm-up) per cart size on one database; sizes interleaved."""
    from souk_platform.db import db
    from souk_platform.gc_tuning import tune_garbage_collector

    cases = [Case(label, size) for size in sizes]
    with tempfile.TemporaryDirectory(prefix="souk-bench-checkout-") as folder:
        app = bench_app(database_url, folder)
        with app.app_context():
            session = db.session
            now = app.extensions["souk.clock"].now()
            shop_id, sku_ids = bench_shop(session, f"checkout-{label.lower()}", max(sizes))
            counter = StatementCounter(db.engine)
            tune_garbage_collector()  # as souk serve / demo do once the app is built
            for run in range(WARMUP_CHECKOUTS + checkouts):
                for case in cases:
                    cart_id, customer_id = fresh_cart(session, shop_id, sku_ids[: case.lines], now)
                    before = counter.statements
                    with counter.counting():
                        elapsed = timed_checkout(session, shop_id, cart_id, customer_id, now)
                    if run >= WARMUP_CHECKOUTS:
                        case.milliseconds.append(elapsed)
                        case.statements.append(counter.statements - before)
            db.session.remove()
            db.engine.dispose()
    return cases


def report(postgresql: list[Case], sqlite: list[Case], checkouts: int) -> None:
    print()
    print(f"Checkout of a fresh cart, {checkouts} timed runs per size and database (after {WARMUP_CHECKOUTS} warm-up)")
    print(
        f"{'lines':>5}  {'PG p50 ms':>10}{'PG p99 ms':>10}  {'SQLite p50':>10}{'SQLite p99':>11}  "
        f"{'PG/SQLite p50':>13}  {'statements PG':>13}{'SQLite':>8}"
    )
    for pg, lite in zip(postgresql, sqlite, strict=True):
        ratio = percentile(pg.milliseconds, 0.5) / percentile(lite.milliseconds, 0.5)
        pg_statements = "/".join(str(n) for n in sorted(set(pg.statements)))
        lite_statements = "/".join(str(n) for n in sorted(set(lite.statements)))
        print(
            f"{pg.lines:>5}  {percentile(pg.milliseconds, 0.5):>10.1f}{percentile(pg.milliseconds, 0.99):>10.1f}  "
            f"{percentile(lite.milliseconds, 0.5):>10.1f}{percentile(lite.milliseconds, 0.99):>11.1f}  "
            f"{ratio:>12.2f}×  {pg_statements:>13}{lite_statements:>8}"
        )
    largest_pg, largest_lite = postgresql[-1], sqlite[-1]
    ratio = percentile(largest_pg.milliseconds, 0.5) / percentile(largest_lite.milliseconds, 0.5)
    smallest = min(postgresql[0].statements)
    grows = max(largest_pg.statements) > smallest
    print()
    print(
        f"target: {largest_pg.lines}-line checkout p50 on PostgreSQL ≤ {P50_RATIO_TARGET}× SQLite → "
        f"{ratio:.2f}×, {'met' if ratio <= P50_RATIO_TARGET else 'NOT met'}"
    )
    print(
        f"target: statements per checkout independent of the lines → {smallest} at {postgresql[0].lines} line(s), "
        f"{max(largest_pg.statements)} at {largest_pg.lines}: {'NOT met' if grows else 'met'}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--checkouts", type=int, default=30, help="timed checkouts per size and database (default 30)")
    parser.add_argument("--lines", default="1,50,200", help="cart sizes, comma-separated (default 1,50,200)")
    add_store_options(parser, redis=False)
    args = parser.parse_args(argv)
    sizes = sorted({int(n) for n in args.lines.split(",")})
    if not sizes or sizes[0] < 1 or args.checkouts < 1:
        parser.error("--lines must be positive integers and --checkouts at least 1")

    with load_average_printed():
        with own_database("checkout", args.database_url) as database_url:
            print(f"PostgreSQL: {database_url.rsplit('/', 1)[-1]} …", flush=True)
            postgresql = measure_database("PostgreSQL", database_url, sizes, args.checkouts)
        with tempfile.TemporaryDirectory(prefix="souk-bench-sqlite-") as folder:
            print("SQLite: a fresh file …", flush=True)
            sqlite = measure_database("SQLite", f"sqlite:///{folder}/bench.sqlite3", sizes, args.checkouts)
        report(postgresql, sqlite, args.checkouts)
    return 0


if __name__ == "__main__":
    sys.exit(main())
