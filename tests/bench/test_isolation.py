"""Two bench runs on one machine never share a database or a Redis db, and leave neither behind."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import psycopg
import redis as redis_lib

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from isolation import PG_BASE, own_stores
from redis_slots import _key


def _database_exists(url: str) -> bool:
    name = url.rsplit("/", 1)[-1]
    with psycopg.connect(f"{PG_BASE}/postgres") as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None


def _lease_held(redis_url: str) -> bool:
    base, number = redis_url.rsplit("/", 1)
    return bool(redis_lib.Redis.from_url(f"{base}/0").exists(_key(int(number))))


def test_two_runs_at_once_get_their_own_database_and_redis_and_both_are_removed_after() -> None:
    options = argparse.Namespace(database_url=None, redis_url=None)

    with own_stores("isolation", options) as first, own_stores("isolation", options) as second:
        assert first.database_url != second.database_url
        assert first.redis_url != second.redis_url
        assert _database_exists(first.database_url) and _database_exists(second.database_url)
        redis_lib.Redis.from_url(first.redis_url).set("bench-key", "first run")
        assert redis_lib.Redis.from_url(second.redis_url).get("bench-key") is None
        assert first.redis_url is not None and _lease_held(first.redis_url)

    assert not _database_exists(first.database_url) and not _database_exists(second.database_url)
    # The lease itself is not checked afterwards: a parallel test run may lease the freed db at once.
    assert redis_lib.Redis.from_url(first.redis_url).get("bench-key") is None


def test_stores_given_on_the_command_line_are_used_as_they_are_and_kept(database_url: str, redis_url: str) -> None:
    redis_lib.Redis.from_url(redis_url).set("kept", "yes")
    options = argparse.Namespace(database_url=database_url, redis_url=redis_url)

    with own_stores("isolation", options) as stores:
        assert (stores.database_url, stores.redis_url) == (database_url, redis_url)

    assert _database_exists(database_url)
    assert redis_lib.Redis.from_url(redis_url).getdel("kept") == b"yes"
