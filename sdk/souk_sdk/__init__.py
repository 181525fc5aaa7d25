"""Souk's developer kit: build, run and replay plugins with production limits; call the API."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from souk_sdk.client import Client
    from souk_sdk.oauth import OAuthClient, OAuthError, RefreshingToken, Token
    from souk_sdk.problems import (
        BadRequest,
        Conflict,
        Forbidden,
        InsufficientScope,
        NotFound,
        PreconditionFailed,
        RateLimited,
        ServerError,
        SoukError,
        Unauthorized,
        Unprocessable,
        ValidationError,
    )
    from souk_sdk.webhooks import WebhookVerificationError

__all__ = [
    "BadRequest",
    "Client",
    "Conflict",
    "Forbidden",
    "InsufficientScope",
    "NotFound",
    "OAuthClient",
    "OAuthError",
    "PreconditionFailed",
    "RateLimited",
    "RefreshingToken",
    "ServerError",
    "SoukError",
    "Token",
    "Unauthorized",
    "Unprocessable",
    "ValidationError",
    "WebhookVerificationError",
]

# The API client brings httpx and the generated resources (~0.1 s to import): they load on first
# use, so that ``souk-plugin``, which needs none of them, starts no slower.
_HOMES = {"Client": "client", "OAuthClient": "oauth", "OAuthError": "oauth", "RefreshingToken": "oauth"}
_HOMES |= {"Token": "oauth", "WebhookVerificationError": "webhooks"}


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module 'souk_sdk' has no attribute {name!r}")
    return getattr(importlib.import_module(f"souk_sdk.{_HOMES.get(name, 'problems')}"), name)
