"""Redis logical databases for test processes, leased so that parallel runs never share one.

Picking ``1 + pid % 15`` let two xdist workers (or two runs on one machine) land on the same
database and flush each other's keys. Instead each test process leases a free database: a key
``souk-test-slot:<n>`` in database 0, set only if absent, with an expiry a heartbeat keeps fresh
(a killed run's slot frees itself when the heartbeat stops).
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from dataclasses import dataclass, field

import redis as redis_lib

SLOTS = range(1, 16)  # database 0 holds the leases
LEASE_SECONDS = 60
HEARTBEAT_SECONDS = 15


@dataclass
class RedisSlot:
    """One leased logical database; ``release()`` gives it back."""

    base_url: str
    number: int
    token: str
    _stop: threading.Event = field(default_factory=threading.Event)

    @property
    def url(self) -> str:
        return f"{self.base_url}/{self.number}"

    def _keep_alive(self) -> None:
        client = redis_lib.Redis.from_url(f"{self.base_url}/0")
        while not self._stop.wait(HEARTBEAT_SECONDS):
            if client.get(_key(self.number)) == self.token.encode():
                client.expire(_key(self.number), LEASE_SECONDS)
            else:  # wiped (a FLUSHALL somewhere): take it back unless another run holds it now
                client.set(_key(self.number), self.token, nx=True, ex=LEASE_SECONDS)

    def release(self) -> None:
        self._stop.set()
        client = redis_lib.Redis.from_url(f"{self.base_url}/0")
        # Delete only our own lease (a lapsed one may already belong to another run).
        client.eval(
            "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0",
            1,
            _key(self.number),
            self.token,
        )


def _key(number: int) -> str:
    return f"souk-test-slot:{number}"


def lease_redis_database(base_url: str, wait_seconds: float = 600.0) -> RedisSlot:
    """Lease a logical database no other test process holds; waits while all 15 are taken."""
    client = redis_lib.Redis.from_url(f"{base_url}/0")
    token = f"{os.getpid()}-{uuid.uuid4().hex}"
    deadline = time.monotonic() + wait_seconds
    while True:
        for number in SLOTS:
            if client.set(_key(number), token, nx=True, ex=LEASE_SECONDS):
                slot = RedisSlot(base_url, number, token)
                threading.Thread(target=slot._keep_alive, name="redis-slot-lease", daemon=True).start()
                return slot
        if time.monotonic() > deadline:
            raise RuntimeError(f"all {len(SLOTS)} Redis test databases stayed leased for {wait_seconds:.0f} s")
        time.sleep(0.5)
