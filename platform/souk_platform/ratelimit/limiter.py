"""The Flask glue: charge an authenticated API request to its bucket, add the headers, refuse with 429."""

from __future__ import annotations

import redis
import structlog
from flask import Flask, Response, after_this_request, current_app

from souk_platform.auth.services import Principal
from souk_platform.core.errors import TooManyRequests
from souk_platform.db import db
from souk_platform.ratelimit.buckets import Decision, Policy
from souk_platform.ratelimit.services import bucket_key, policy_for
from souk_platform.ratelimit.stores import BucketStore, MemoryStore, RedisStore

log = structlog.get_logger("souk.ratelimit")


def init_rate_limits(app: Flask) -> None:
    """Pick the store once, in the app factory: Redis when the app has one (every process shares it), else memory."""
    client = app.extensions.get("souk.redis")
    app.extensions["souk.ratelimit"] = RedisStore(client) if client is not None else MemoryStore()


def bucket_store(app: Flask) -> BucketStore:
    store: BucketStore = app.extensions["souk.ratelimit"]
    return store


def default_policy(app: Flask) -> Policy:
    return Policy(float(app.config["SOUK_RATE_LIMIT_RPS"]), int(app.config["SOUK_RATE_LIMIT_BURST"]))


def charge_request(principal: Principal) -> Decision | None:
    """Take one token for this request; every response then carries ``RateLimit-*`` headers.

    Raises ``TooManyRequests`` (429 with ``Retry-After``) when the bucket is empty. If Redis is down
    the request goes through unlimited: an outage of the limiter must not become an outage of the API.
    """
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    policy = policy_for(db.session, principal, default=default_policy(app))
    return _charge(app, bucket_key(principal), policy)


def charge_app_request(app_id: str) -> Decision | None:
    """The same for a developer-level call with an app token: one bucket per app, the default limit."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    return _charge(app, f"app:{app_id}", default_policy(app))


def take_and_read_stamp(app: Flask, principal: Principal, policy: Policy) -> tuple[Decision | None, str | None]:
    """Take one token and read the token-revocation stamp in one store call; nothing is refused yet.

    The caller decides with ``apply_decision`` once it knows the token is good. ``(None, None)`` when
    Redis is down: the request goes unlimited and no cached token may be trusted.
    """
    now = app.extensions["souk.clock"].now().timestamp()
    try:
        return bucket_store(app).take_and_read_stamp(bucket_key(principal), policy, now)
    except redis.RedisError as exc:
        log.warning("ratelimit.unavailable", error=str(exc))
        return None, None


def _charge(app: Flask, key: str, policy: Policy) -> Decision | None:
    now = app.extensions["souk.clock"].now().timestamp()
    try:
        decision = bucket_store(app).take(key, policy, now)
    except redis.RedisError as exc:
        log.warning("ratelimit.unavailable", error=str(exc))
        return None
    apply_decision(decision, policy)
    return decision


def apply_decision(decision: Decision | None, policy: Policy) -> None:
    """Refuse with 429 when the bucket was empty, else add the ``RateLimit-*`` headers to the response."""
    if decision is None:
        return
    headers = decision.headers()
    if not decision.allowed:
        raise TooManyRequests(
            f"Rate limit of {policy.requests_per_second:g} requests per second (burst {policy.burst}) exceeded; "
            f"retry after {headers['Retry-After']} s.",
            headers=headers,
        )

    @after_this_request
    def _add_headers(response: Response) -> Response:
        for name, value in headers.items():
            response.headers.setdefault(name, value)
        return response
