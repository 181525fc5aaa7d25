"""Where buckets live: Redis for production (shared by every process), memory for the embedded demo."""

from __future__ import annotations

import math
import threading
from typing import TYPE_CHECKING, Protocol

from souk_platform.ratelimit.buckets import BucketState, Decision, Policy, decide, take

if TYPE_CHECKING:
    import redis


class BucketStore(Protocol):
    def take(self, key: str, policy: Policy, now: float) -> Decision:
        """Take one token from the bucket ``key`` at ``now`` (seconds since the epoch)."""
        ...


class MemoryStore:
    """Buckets in a dict behind one lock: right for one process (``souk demo``), wrong for gunicorn's N."""

    def __init__(self, *, max_buckets: int = 100_000) -> None:
        self._buckets: dict[str, BucketState] = {}
        self._lock = threading.Lock()
        self._max_buckets = max_buckets

    def take(self, key: str, policy: Policy, now: float) -> Decision:
        with self._lock:
            if len(self._buckets) >= self._max_buckets and key not in self._buckets:
                self._forget_full(policy, now)
            state, decision = take(self._buckets.get(key), policy, now)
            self._buckets[key] = state
            return decision

    def _forget_full(self, policy: Policy, now: float) -> None:
        """Drop buckets that have refilled by now (a missing bucket is a full one), or the oldest half."""
        horizon = policy.burst / policy.requests_per_second
        stale = [key for key, state in self._buckets.items() if now - state.updated_at >= horizon]
        if not stale:
            by_age = sorted(self._buckets, key=lambda key: self._buckets[key].updated_at)
            stale = by_age[: len(by_age) // 2]
        for key in stale:
            del self._buckets[key]


# One atomic step per request: the same arithmetic as ``buckets.take``. Lua numbers are doubles, but Redis
# truncates numbers in replies to integers, so the token count travels back as a string.
_TAKE_SCRIPT = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local ttl = tonumber(ARGV[4])
local saved = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = burst
local ts = now
if saved[1] then
  ts = tonumber(saved[2])
  tokens = math.min(burst, tonumber(saved[1]) + math.max(0, now - ts) * rate)
  ts = math.max(now, ts)
end
local allowed = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens), 'ts', string.format('%.17g', ts))
redis.call('EXPIRE', KEYS[1], ttl)
return {allowed, string.format('%.17g', tokens)}
"""


class RedisStore:
    """Buckets as Redis hashes updated by one Lua script, so N processes share one exact count."""

    def __init__(self, client: redis.Redis, *, prefix: str = "souk:ratelimit:") -> None:
        self._script = client.register_script(_TAKE_SCRIPT)
        self._prefix = prefix

    def take(self, key: str, policy: Policy, now: float) -> Decision:
        # Keep a bucket at least until it would have refilled: after that, a missing key means the same.
        ttl = max(60, math.ceil(policy.burst / policy.requests_per_second) + 1)
        allowed, tokens = self._script(
            keys=[self._prefix + key],
            args=[repr(policy.requests_per_second), policy.burst, repr(now), ttl],
        )
        return decide(policy, float(tokens), allowed=bool(allowed))
