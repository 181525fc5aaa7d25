"""Errors of the developer-level (client-credentials) API. OAuth endpoints answer RFC 6749 JSON errors instead."""

from __future__ import annotations

from souk_platform.core.errors import Forbidden, Unauthorized


class InvalidAppToken(Unauthorized):
    code = "invalid-app-token"
    title = "The app token is missing, unknown, expired or revoked"


class AppTokenRequired(Forbidden):
    code = "app-token-required"
    title = "This endpoint needs an app token"
