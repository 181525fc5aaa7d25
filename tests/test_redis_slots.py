"""Test processes lease distinct Redis databases, so parallel runs never flush each other's keys."""

from __future__ import annotations

import os

import redis as redis_lib
from redis_slots import lease_redis_database

REDIS_BASE = os.environ.get("SOUK_TEST_REDIS", "redis://127.0.0.1:6379")


def test_two_leases_never_share_a_database_and_a_released_one_is_free_again(redis_url: str) -> None:
    first = lease_redis_database(REDIS_BASE)
    second = lease_redis_database(REDIS_BASE)
    try:
        held = {redis_url, first.url, second.url}
        assert len(held) == 3
        redis_lib.Redis.from_url(first.url).set("mine", "first")
        redis_lib.Redis.from_url(second.url).flushdb()
        assert redis_lib.Redis.from_url(first.url).get("mine") == b"first"
    finally:
        second.release()
        redis_lib.Redis.from_url(first.url).flushdb()
        first.release()
    again = lease_redis_database(REDIS_BASE)
    try:
        assert again.url != redis_url
    finally:
        again.release()


def test_no_test_flushes_every_redis_database() -> None:
    """FLUSHALL would wipe the databases (and leases) of every other run on the machine."""
    from pathlib import Path

    offenders = [
        str(path)
        for path in Path(__file__).parent.rglob("*.py")
        if path.name != Path(__file__).name and ".flushall(" in path.read_text(encoding="utf-8")
    ]
    assert offenders == []
