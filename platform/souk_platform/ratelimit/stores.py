"""Where buckets live: Redis for production (shared by every process), memory for the embedded demo."""

from __future__ import annotations

import itertools
import math
import os
import threading
import uuid
from typing import TYPE_CHECKING, Any, Protocol, cast

from hiredis import pack_command

from souk_platform.ratelimit.buckets import BucketState, Decision, Policy, decide, take

if TYPE_CHECKING:
    import redis


class BucketStore(Protocol):
    def take(self, key: str, policy: Policy, now: float) -> Decision:
        """Take one token from the bucket ``key`` at ``now`` (seconds since the epoch)."""
        ...

    def take_and_read_stamp(self, key: str, policy: Policy, now: float) -> tuple[Decision, str]:
        """``take``, and read the token-revocation stamp in the same step (one Redis round trip).

        The stamp is an opaque string that changes on every ``bump_stamp`` and never comes back to
        a value it had; the token cache (``auth/token_cache.py``) trusts an entry only under the
        stamp it was cached with.
        """
        ...

    def bump_stamp(self) -> None:
        """Change the stamp: every process's cached tokens are checked against the database again."""
        ...


class MemoryStore:
    """Buckets in a dict behind one lock: right for one process (``souk demo``), wrong for gunicorn's N."""

    def __init__(self, *, max_buckets: int = 100_000) -> None:
        self._buckets: dict[str, BucketState] = {}
        self._lock = threading.Lock()
        self._max_buckets = max_buckets
        self._stamps = itertools.count()
        self._stamp = str(next(self._stamps))

    def take(self, key: str, policy: Policy, now: float) -> Decision:
        with self._lock:
            if len(self._buckets) >= self._max_buckets and key not in self._buckets:
                self._forget_full(policy, now)
            state, decision = take(self._buckets.get(key), policy, now)
            self._buckets[key] = state
            return decision

    def take_and_read_stamp(self, key: str, policy: Policy, now: float) -> tuple[Decision, str]:
        with self._lock:
            stamp = self._stamp
        return self.take(key, policy, now), stamp

    def bump_stamp(self) -> None:
        with self._lock:
            self._stamp = str(next(self._stamps))

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
if KEYS[2] then
  -- The token-revocation stamp rides on the same call. A missing one (Redis restarted or flushed) is
  -- set to a value it never had before, so no cached token survives the loss of the stamp.
  local stamp = redis.call('GET', KEYS[2])
  if not stamp then
    local now_redis = redis.call('TIME')
    stamp = 'r' .. now_redis[1] .. '.' .. now_redis[2]
    redis.call('SET', KEYS[2], stamp)
  end
  return {allowed, string.format('%.17g', tokens), stamp}
end
return {allowed, string.format('%.17g', tokens)}
"""


class RedisStore:
    """Buckets as Redis hashes updated by one Lua script, so N processes share one exact count.

    The script runs on a connection each thread keeps for itself (``_own_connection``), not through the
    client's pool: a pooled call checks the connection out and back in, checks the process id and polls
    the socket before sending, which cost ~70 µs of CPU per request against ~40 µs for the round trip
    itself (docs/architecture.md §4.9).
    """

    def __init__(
        self, client: redis.Redis, *, prefix: str = "souk:ratelimit:", stamp_key: str = "souk:auth:stamp"
    ) -> None:
        self._client = client
        self._script = client.register_script(_TAKE_SCRIPT)
        self._prefix = prefix
        self._stamp_key = stamp_key
        self._local = threading.local()
        os.register_at_fork(after_in_child=self._forget_connections)

    def take(self, key: str, policy: Policy, now: float) -> Decision:
        return self._run([self._prefix + key], policy, now)[0]

    def take_and_read_stamp(self, key: str, policy: Policy, now: float) -> tuple[Decision, str]:
        decision, stamp = self._run([self._prefix + key, self._stamp_key], policy, now)
        assert stamp is not None  # the script always returns one when given the stamp key
        return decision, stamp

    def bump_stamp(self) -> None:
        self._client.set(self._stamp_key, uuid.uuid4().hex)

    def _run(self, keys: list[str], policy: Policy, now: float) -> tuple[Decision, str | None]:
        # Keep a bucket at least until it would have refilled: after that, a missing key means the same.
        ttl = max(60, math.ceil(policy.burst / policy.requests_per_second) + 1)
        reply = self._evalsha(keys, [repr(policy.requests_per_second), policy.burst, repr(now), ttl])
        stamp = None
        if len(reply) > 2:
            stamp = reply[2].decode() if isinstance(reply[2], bytes) else str(reply[2])
        return decide(policy, float(reply[1]), allowed=bool(reply[0])), stamp

    def _evalsha(self, keys: list[str], args: list[object]) -> list[Any]:
        """Run the script on this thread's connection; load it when Redis does not know it (restarted, flushed).

        A broken connection is dropped and the call tried once on a new one, as the pool would; a
        failure after that raises ``redis.RedisError`` for the caller (the request then goes unlimited).
        """
        import redis

        # Packed by hiredis in one C call: redis-py's own packing encodes each argument in Python (~6 µs a call).
        command = [pack_command(cast(Any, ("EVALSHA", self._script.sha, len(keys), *keys, *args)))]
        for attempt in (1, 2):
            connection = self._own_connection()
            try:
                try:
                    connection.send_packed_command(command)
                    return list(connection.read_response())
                except redis.exceptions.NoScriptError:
                    connection.send_command("SCRIPT", "LOAD", _TAKE_SCRIPT)
                    connection.read_response()
                    connection.send_packed_command(command)
                    return list(connection.read_response())
            except (redis.ConnectionError, redis.TimeoutError):
                connection.disconnect()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _own_connection(self) -> Any:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = self._client.connection_pool.make_connection()
            self._local.connection = connection
        return connection

    def _forget_connections(self) -> None:
        # A forked worker must not share its parent's socket: it opens its own on first use.
        self._local = threading.local()
