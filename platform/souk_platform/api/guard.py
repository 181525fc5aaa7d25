"""Bearer-token authentication and the one scope decorator every API route uses."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import current_app, g, request
from flask_smorest import Blueprint

from souk_platform.auth import errors
from souk_platform.auth.scopes import grants, is_known
from souk_platform.auth.services import Principal, resolve_token
from souk_platform.db import db
from souk_platform.ratelimit.limiter import charge_request

F = TypeVar("F", bound=Callable[..., Any])

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


def _authenticate() -> Principal:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise errors.InvalidToken(
            "Send an access token as 'Authorization: Bearer <token>'.",
            headers={"WWW-Authenticate": 'Bearer realm="souk"'},
        )
    try:
        return resolve_token(db.session, value.strip(), current_app.extensions["souk.clock"])
    except errors.InvalidToken as exc:
        exc.headers["WWW-Authenticate"] = 'Bearer realm="souk", error="invalid_token"'
        raise


def requires(scope: str) -> Callable[[F], F]:
    """Authenticate the bearer token, charge its rate limit and require ``scope``; sets the principal."""
    if not is_known(scope):  # an extension registers its scopes before it imports its routes
        raise ValueError(f"{scope} is not in the scope registry")

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            principal = _authenticate()
            charge_request(principal)  # every authenticated call costs a token, even one refused below
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
