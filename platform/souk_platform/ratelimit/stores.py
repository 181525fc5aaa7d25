"""Where buckets live: Redis for production (shared by every process), memory for the embedded demo."""

from __future__ import annotations

import itertools
import math
import os
import threading
import uuid
from typing import TYPE_CHECKING, Any, Protocol, cast

from hiredis import pack_command

from souk_platform.ratelimit.buckets import (
    LEASE_MAX,
    LEASE_SECONDS,
    LEASE_SHARE,
    BucketState,
    Decision,
    Lease,
    Policy,
    decide,
    take,
)
from souk_platform.ratelimit.stamp_watch import StampWatch

if TYPE_CHECKING:
    import redis


class BucketStore(Protocol):
    def take(self, key: str, policy: Policy, now: float) -> Decision:
        """Take one token from the bucket ``key`` at ``now`` (seconds since the epoch)."""
        ...

    def take_and_read_stamp(self, key: str, policy: Policy, now: float) -> tuple[Decision, str]:
        """``take``, and the token-revocation stamp as of this request.

        The stamp is an opaque string that changes on every ``bump_stamp`` and never comes back to
        a value it had; the token cache (``auth/token_cache.py``) trusts an entry only under the
        stamp it was cached with. ``RedisStore`` reads it in the round trip that charges the request,
        or, while its watch has heard of no change, answers from the process (``StampWatch``).
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


# One atomic step per round trip: the arithmetic of ``buckets.take``, plus leases (``buckets.Lease``). The hash
# holds the bucket ('tokens', 'ts') and one field per lease standing, 'h:<holder>' = '<tokens> <until>'.
# A holder's call gives back what its last lease did not spend (at most what that lease still holds), and
# asks for a new one. Lua numbers are doubles, but Redis truncates numbers in replies to integers, so the
# token counts travel back as strings.
_TAKE_SCRIPT = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local ttl = tonumber(ARGV[4])
local holder = ARGV[5]
local returned = tonumber(ARGV[6])
local lease_until = tonumber(ARGV[7])
local share = tonumber(ARGV[8])
local lease_max = tonumber(ARGV[9])
local mine = 'h:' .. holder
local tokens, ts
local held, own = 0, 0
local fields = redis.call('HGETALL', KEYS[1])
for i = 1, #fields, 2 do
  local name, value = fields[i], fields[i + 1]
  if name == 'tokens' then
    tokens = tonumber(value)
  elseif name == 'ts' then
    ts = tonumber(value)
  else
    local n, expires = string.match(value, '^(%S+) (%S+)$')
    n, expires = tonumber(n), tonumber(expires)
    if expires <= now or name == mine then
      -- An ended lease's tokens are void; the caller's own lease is settled below and may be renewed.
      if name == mine and expires > now then own = n end
      redis.call('HDEL', KEYS[1], name)
    else
      held = held + n
    end
  end
end
local cap = burst - held
if tokens == nil then
  tokens = cap
  ts = now
else
  tokens = math.min(cap, tokens + math.max(0, now - ts) * rate + math.min(returned, own))
  ts = math.max(now, ts)
end
local allowed, granted = 0, 0
if tokens >= 1 then
  allowed, granted = 1, 1
  local want = math.min(lease_max, math.floor(tokens / share))
  if want > 1 then granted = want end
  tokens = tokens - granted
end
if granted > 1 then
  redis.call('HSET', KEYS[1], mine, string.format('%d %.17g', granted - 1, lease_until))
  held = held + granted - 1
end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens), 'ts', string.format('%.17g', ts))
redis.call('EXPIRE', KEYS[1], ttl)
local reply = {allowed, string.format('%.17g', tokens), granted, string.format('%.17g', burst - held)}
if KEYS[2] then
  -- The token-revocation stamp rides on the same call. A missing one (Redis restarted or flushed) is
  -- set to a value it never had before, so no cached token survives the loss of the stamp.
  local stamp = redis.call('GET', KEYS[2])
  if not stamp then
    local now_redis = redis.call('TIME')
    stamp = 'r' .. now_redis[1] .. '.' .. now_redis[2]
    redis.call('SET', KEYS[2], stamp)
  end
  table.insert(reply, stamp)
end
return reply
"""


class RedisStore:
    """Buckets as Redis hashes updated by one Lua script, so N processes share one count.

    Two things keep Redis off the path of most requests (docs/architecture.md §4.6, §4.9):

    - **Leases.** A round trip takes, besides the request's own token, a lease of more while the bucket is
      far from empty (``buckets.Lease``); the thread spends them without asking again. Never over-admits;
      near the limit every request is counted in Redis, one by one.
    - **A pushed stamp.** The revocation stamp is watched (``StampWatch``): a request may be served from a
      lease only while the watch vouches that the stamp has not changed since a round trip read it.

    The script runs on a connection each thread keeps for itself (``_own_connection``), not through the
    client's pool: a pooled call checks the connection out and back in, checks the process id and polls
    the socket before sending, which cost ~70 µs of CPU per request against ~40 µs for the round trip
    itself.
    """

    def __init__(
        self,
        client: redis.Redis,
        *,
        prefix: str = "souk:ratelimit:",
        stamp_key: str = "souk:auth:stamp",
    ) -> None:
        self._client = client
        self._script = client.register_script(_TAKE_SCRIPT)
        self._prefix = prefix
        self._stamp_key = stamp_key
        self._watch = StampWatch(client, stamp_key)
        self._local = threading.local()
        os.register_at_fork(after_in_child=self._forget_connections)

    def take(self, key: str, policy: Policy, now: float) -> Decision:
        decision = self._take_leased(key, policy, now)
        if decision is None:
            decision = self._run(key, None, policy, now)[0]
        return decision

    def take_and_read_stamp(self, key: str, policy: Policy, now: float) -> tuple[Decision, str]:
        known, epoch = self._watch.current()
        if known is not None:
            decision = self._take_leased(key, policy, now)
            if decision is not None:
                return decision, known
        decision, stamp = self._run(key, self._stamp_key, policy, now)
        assert stamp is not None  # the script always returns one when given the stamp key
        self._watch.confirm(stamp, epoch)
        return decision, stamp

    def bump_stamp(self) -> None:
        self._client.set(self._stamp_key, uuid.uuid4().hex)
        # Redis writes the change to every watch in the pass that answered the SET; once this PING is
        # answered, that pass is over and every watching process has the message on its socket.
        self._client.ping()

    @property
    def watch(self) -> StampWatch:
        return self._watch

    def leased(self, key: str, now: float) -> int:
        """Tokens of ``key``'s bucket this thread holds in a lease at ``now`` (spent without asking Redis)."""
        lease = self._thread_leases().get(self._prefix + key)
        return 0 if lease is None else lease.unspent(now)

    def _take_leased(self, key: str, policy: Policy, now: float) -> Decision | None:
        lease = self._thread_leases().get(self._prefix + key)
        return None if lease is None else lease.take(policy, now)

    def _run(self, key: str, stamp_key: str | None, policy: Policy, now: float) -> tuple[Decision, str | None]:
        bucket = self._prefix + key
        leases = self._thread_leases()
        held = leases.pop(bucket, None)
        # Keep a bucket at least until it would have refilled (a missing key means the same) and its leases
        # have ended (one second).
        ttl = max(60, math.ceil(policy.burst / policy.requests_per_second) + 1)
        until = now + LEASE_SECONDS
        args: list[object] = [repr(policy.requests_per_second), policy.burst, repr(now), ttl]
        args += [self._local.holder, held.unspent(now) if held else 0, repr(until)]
        args += [LEASE_SHARE, LEASE_MAX]
        keys = [bucket] if stamp_key is None else [bucket, stamp_key]
        reply = self._evalsha(keys, args)
        allowed, tokens, granted, cap = bool(reply[0]), float(reply[1]), int(reply[2]), float(reply[3])
        if granted > 1:
            if len(leases) >= _MAX_LEASES:
                leases.clear()  # rare: a lease dropped is tokens not spent, never tokens spent twice
            leases[bucket] = Lease(policy, granted - 1, now, until, tokens, cap)
        stamp = None
        if len(reply) > 4:
            stamp = reply[4].decode() if isinstance(reply[4], bytes) else str(reply[4])
        return decide(policy, tokens + max(0, granted - 1), allowed=allowed), stamp

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

    def _thread_leases(self) -> dict[str, Lease]:
        leases: dict[str, Lease] | None = getattr(self._local, "leases", None)
        if leases is None:
            # Each thread holds its own leases under a name of its own: two threads never share a token.
            leases = self._local.leases = {}
            self._local.holder = uuid.uuid4().hex
        return leases

    def _forget_connections(self) -> None:
        # A forked worker must not share its parent's socket or leases: it opens its own on first use.
        self._local = threading.local()


# Buckets one thread holds leases on at most; beyond, it forgets them all and starts again.
_MAX_LEASES = 10_000
