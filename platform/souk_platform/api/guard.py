"""Bearer-token authentication and the one scope decorator every API route uses."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import Flask, current_app, g, request
from flask_smorest import Blueprint

from souk_platform.api.reads import READ_ONLY_METHODS, read_only_unit
from souk_platform.auth import errors
from souk_platform.auth.scopes import grants, is_known
from souk_platform.auth.services import Principal, hash_token, resolve_token
from souk_platform.auth.token_cache import token_cache
from souk_platform.db import db
from souk_platform.ratelimit.buckets import Policy
from souk_platform.ratelimit.limiter import apply_decision, default_policy, take_and_read_stamp
from souk_platform.ratelimit.services import policy_for

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")

SECURITY_SCHEME = {
    "type": "http",
    "scheme": "bearer",
    "description": "A shop access token (`souk_at_…`) or an OAuth access token bound to an installation.",
}


def current_principal() -> Principal:
    principal: Principal | None = g.get("principal")
    if principal is None:  # a route forgot @requires: fail closed
        raise errors.InvalidToken("This endpoint needs an access token.")
    return principal


def _bearer_token() -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise errors.InvalidToken(
            "Send an access token as 'Authorization: Bearer <token>'.",
            headers={"WWW-Authenticate": 'Bearer realm="souk"'},
        )
    return value.strip()


def _authenticate_and_charge() -> Principal:
    """Resolve the bearer token and charge its rate limit: at most one store round trip, no SQL on a cache hit.

    The pattern is docs/architecture.md §4.2: trust a cached principal only under the revocation stamp
    the same rate-limit call returns; otherwise read the database and cache under a stamp seen before.
    """
    plaintext = _bearer_token()
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    cache = token_cache(app)
    digest = hash_token(plaintext)
    now = app.extensions["souk.clock"].now()
    cached = cache.get(digest, now)
    if cached is not None:
        cached_policy = cached.policy or default_policy(app)
        decision, stamp = take_and_read_stamp(app, cached.principal, cached_policy)
        if stamp is not None:
            cache.last_stamp = stamp
        if stamp is not None and stamp == cached.stamp:
            apply_decision(decision, cached_policy)
            g.souk_token_entry = cached
            return cached.principal
        cache.forget(digest)
        # Stale: this request is already charged; the stamp it brought back predates the lookup below.
        principal, policy = _resolve(plaintext, app)
        if stamp is not None:
            g.souk_token_entry = cache.put(digest, principal, _plan_only(policy, app), stamp, now)
        apply_decision(decision, policy)
        return principal
    stamp_before_lookup = cache.last_stamp
    principal, policy = _resolve(plaintext, app)
    decision, stamp = take_and_read_stamp(app, principal, policy)
    if stamp is not None:
        cache.last_stamp = stamp
        if stamp_before_lookup is not None:
            g.souk_token_entry = cache.put(digest, principal, _plan_only(policy, app), stamp_before_lookup, now)
    apply_decision(decision, policy)
    return principal


def kept_with_token(name: str, load: Callable[[], T]) -> T:
    """``load()``, kept with the request's cached token until the revocation stamp changes (§4.9).

    For rows that describe the token's shop and change rarely: the shop itself today. Sound only for a
    model in ``token_cache._watched()`` (any change to it changes the stamp): the stamp this entry is
    checked against was read before ``load`` runs, so a change committed meanwhile is seen next time.
    Without a cached entry (cache off, Redis down) it is ``load()``.
    """
    entry = g.get("souk_token_entry")
    if entry is None:
        return load()
    try:
        return cast(T, entry.kept[name])
    except KeyError:
        value = entry.kept[name] = load()
        return value


def _resolve(plaintext: str, app: Flask) -> tuple[Principal, Policy]:
    try:
        principal = resolve_token(db.session, plaintext, app.extensions["souk.clock"])
    except errors.InvalidToken as exc:
        exc.headers["WWW-Authenticate"] = 'Bearer realm="souk", error="invalid_token"'
        raise
    return principal, policy_for(db.session, principal, default=default_policy(app))


def _plan_only(policy: Policy, app: Flask) -> Policy | None:
    # The platform default is read from the config on every request, never frozen into the cache.
    return None if policy == default_policy(app) else policy


def requires(scope: str) -> Callable[[F], F]:
    """Authenticate the bearer token, charge its rate limit and require ``scope``; sets the principal.

    A ``GET`` or ``HEAD`` runs as a read-only unit (``api/reads.py``): no transaction round trips, no writes.
    """
    if not is_known(scope):  # an extension registers its scopes before it imports its routes
        raise ValueError(f"{scope} is not in the scope registry")

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if request.method in READ_ONLY_METHODS:
                with read_only_unit(db.session, db.engine):
                    return guarded(*args, **kwargs)
            return guarded(*args, **kwargs)

        def guarded(*args: Any, **kwargs: Any) -> Any:
            principal = _authenticate_and_charge()  # every authenticated call costs a token, even one refused below
            if not grants(principal.scopes, scope):
                raise errors.InsufficientScope(
                    f"This endpoint needs the '{scope}' scope.",
                    headers={"WWW-Authenticate": f'Bearer error="insufficient_scope", scope="{scope}"'},
                    required_scope=scope,
                )
            g.principal = principal
            return view(*args, **kwargs)

        documented = Blueprint.doc(
            security=[{"bearerAuth": [scope]}],
            responses={"401": "UNAUTHORIZED", "403": "FORBIDDEN", "429": "TOO_MANY_REQUESTS"},
        )(wrapper)
        return cast(F, documented)

    return decorator
