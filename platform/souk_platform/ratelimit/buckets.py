"""The token bucket, as plain arithmetic: no Flask, no Redis, no clock of its own.

A bucket holds up to ``burst`` tokens and refills at ``requests_per_second``; each request takes one
token or is refused. ``RedisStore``'s Lua script is the same arithmetic (keep the two in step; the tests
run the same scenarios against both stores).
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Policy:
    """How fast a caller may go: ``requests_per_second`` sustained, ``burst`` at once (bucket size)."""

    requests_per_second: float
    burst: int

    def __post_init__(self) -> None:
        if not self.requests_per_second > 0 or self.burst < 1:
            raise ValueError(f"A rate limit needs a positive rate and a burst of at least 1, not {self}.")


@dataclass(frozen=True, slots=True)
class BucketState:
    """Tokens left at ``updated_at`` (seconds since the epoch)."""

    tokens: float
    updated_at: float


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome of one request, with what the ``RateLimit-*`` headers report.

    ``reset_after``: seconds until the bucket is full again (the draft's "quota reset").
    ``retry_after``: seconds until one token is available; 0 when the request was allowed.
    """

    allowed: bool
    limit: int
    remaining: int
    reset_after: float
    retry_after: float

    def headers(self) -> dict[str, str]:
        """``RateLimit-*`` headers (draft-ietf-httpapi-ratelimit-headers), plus ``Retry-After`` on refusal."""
        out = {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(math.ceil(self.reset_after)),
        }
        if not self.allowed:
            out["Retry-After"] = str(max(1, math.ceil(self.retry_after)))
        return out


def decide(policy: Policy, tokens: float, *, allowed: bool) -> Decision:
    """Describe a bucket holding ``tokens`` after a request that was (or was not) admitted."""
    rate = policy.requests_per_second
    return Decision(
        allowed=allowed,
        limit=policy.burst,
        remaining=max(0, math.floor(tokens)),
        reset_after=max(0.0, (policy.burst - tokens) / rate),
        retry_after=0.0 if allowed else max(0.0, (1 - tokens) / rate),
    )


def take(state: BucketState | None, policy: Policy, now: float) -> tuple[BucketState, Decision]:
    """Refill the bucket up to ``now`` and try to take one token.

    A missing state is a full bucket. A clock that went backwards (another host's clock) refills nothing.
    """
    if state is None:
        tokens = float(policy.burst)
    else:
        elapsed = max(0.0, now - state.updated_at)
        tokens = min(float(policy.burst), state.tokens + elapsed * policy.requests_per_second)
    allowed = tokens >= 1
    if allowed:
        tokens -= 1
    return BucketState(tokens, max(now, state.updated_at) if state else now), decide(policy, tokens, allowed=allowed)


@dataclass(slots=True)
class Lease:
    """Tokens a process took from a shared bucket in one round trip, to spend without asking again.

    ``RedisStore`` grants one when the bucket is far from empty: up to 1/``LEASE_SHARE`` of its tokens (at
    most ``LEASE_MAX``), valid for ``LEASE_SECONDS``. While the lease holds them the shared bucket refills
    only up to ``cap`` (the burst less every unexpired lease's tokens), so the tokens in the bucket and in
    every lease together never exceed the burst: a caller is never admitted more than an exact count would
    admit. It may be admitted less: a token held by one process cannot serve a request that reaches
    another, and a lease's unspent tokens go back to the bucket only with the holder's next round trip for
    that bucket (or are lost when the lease ends first). Near empty, grants shrink to the one token the
    request needs, so a caller at its limit is counted exactly, request by request (docs/architecture.md §4.6).
    """

    policy: Policy
    left: int  # tokens not spent yet
    granted_at: float
    until: float  # the lease's tokens are void from then on
    tokens: float  # the shared bucket just after the grant
    cap: float  # what the shared bucket may refill to while the leases stand

    def take(self, policy: Policy, now: float) -> Decision | None:
        """Spend one leased token at ``now``, or ``None`` when the lease cannot serve this request."""
        if self.left < 1 or policy != self.policy or not self.granted_at <= now < self.until:
            return None
        self.left -= 1
        shared = min(self.cap, self.tokens + (now - self.granted_at) * policy.requests_per_second)
        return decide(policy, shared + self.left, allowed=True)

    def unspent(self, now: float) -> int:
        """Tokens to give back at the next round trip (none once the lease has ended)."""
        return self.left if self.granted_at <= now < self.until else 0


LEASE_SHARE = 16
LEASE_MAX = 256
LEASE_SECONDS = 1.0
