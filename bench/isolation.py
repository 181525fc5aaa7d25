"""Each bench run's own PostgreSQL database and Redis database, and the load average around the run.

Two runs on one machine (two benches, or a bench beside a test run) must never share a database or a Redis
db: one run's FLUSHDB or DROP DATABASE would corrupt the other's figures. By default a run creates a database
named after its bench, process id and a random suffix and leases a Redis db from the same pool the tests
lease from (``tests/redis_slots.py``, so a bench never flushes a test run's keys either); both are dropped /
flushed and given back at the end. ``--database-url`` / ``--redis-url`` point a run at stores of your choosing instead:
those are used as they are (migrated, not dropped or flushed).
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_BASE = "postgresql://postgres@127.0.0.1:5432"
REDIS_BASE = "redis://127.0.0.1:6379"


@dataclass(frozen=True, slots=True)
class Stores:
    database_url: str  # SQLAlchemy URL (postgresql+psycopg://…)
    redis_url: str | None


def add_store_options(parser: argparse.ArgumentParser, *, redis: bool = True) -> None:
    """``--database-url`` (and ``--redis-url``): default a fresh one of this run's own, removed at the end."""
    parser.add_argument(
        "--database-url",
        help="PostgreSQL database to use as it is (default: a fresh database of this run's own, dropped at the end)",
    )
    if redis:
        parser.add_argument(
            "--redis-url",
            help="Redis database to use as it is (default: a free Redis db leased for this run, flushed at the end)",
        )


def create_database(name: str) -> str:
    """A new empty PostgreSQL database (replacing a leftover of the same name); its SQLAlchemy URL."""
    import psycopg

    with psycopg.connect(f"{PG_BASE}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{PG_BASE.replace('postgresql://', 'postgresql+psycopg://')}/{name}"


def drop_database(name: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG_BASE}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def own_database(bench: str, given_url: str | None = None) -> Iterator[str]:
    """``given_url`` as it is, or a fresh database ``souk_bench_<bench>_<pid>_<random>`` dropped on exit."""
    if given_url:
        yield given_url
        return
    name = f"souk_bench_{bench}_{os.getpid()}_{secrets.token_hex(3)}"  # unique even within one process
    url = create_database(name)
    try:
        yield url
    finally:
        drop_database(name)


@contextmanager
def own_redis(given_url: str | None = None) -> Iterator[str]:
    """``given_url`` as it is, or a Redis db leased from the tests' pool, flushed before and after use."""
    if given_url:
        yield given_url
        return
    import redis as redis_lib

    sys.path.insert(0, str(ROOT / "tests"))
    from redis_slots import lease_redis_database

    slot = lease_redis_database(REDIS_BASE)
    client = redis_lib.Redis.from_url(slot.url)
    try:
        client.flushdb()
        yield slot.url
    finally:
        client.flushdb()
        client.close()
        slot.release()


@contextmanager
def own_stores(bench: str, args: argparse.Namespace) -> Iterator[Stores]:
    """The database and Redis of this run (see the module docstring); prints where they are."""
    with own_database(bench, args.database_url) as database_url, own_redis(args.redis_url) as redis_url:
        print(f"Database {database_url.rsplit('/', 1)[-1]}, Redis {redis_url.rsplit('/', 1)[-1]}", flush=True)
        yield Stores(database_url, redis_url)


def load_average() -> str:
    """The 1, 5 and 15 minute load averages and the CPU count, for a figure's context."""
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f}, {five:.2f}, {fifteen:.2f} on {os.cpu_count()} CPUs"


@contextmanager
def load_average_printed() -> Iterator[None]:
    """Print the load average when the run starts and when it ends (figures are only as steady as the box)."""
    print(f"At start: {load_average()}", flush=True)
    try:
        yield
    finally:
        print(f"At end: {load_average()}", flush=True)
