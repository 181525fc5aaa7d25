from __future__ import annotations

from souk_platform.core.errors import Forbidden, SoukError, Unauthorized, Unprocessable


class InvalidToken(Unauthorized):
    code = "invalid-token"
    title = "The access token is missing, unknown, expired or revoked"


class InsufficientScope(Forbidden):
    code = "insufficient-scope"
    title = "The access token lacks a scope this endpoint needs"


class UnknownScopes(Unprocessable):
    code = "unknown-scope"
    title = "Unknown scope"


class NotShopOwner(Forbidden):
    code = "owner-only"
    title = "Only a shop owner may do this"


class BadCredentials(SoukError):
    status = 401
    code = "bad-credentials"
    title = "Wrong email or password"
