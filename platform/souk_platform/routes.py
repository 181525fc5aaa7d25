"""Every blueprint the platform serves, in one explicit list (imported by the app factory)."""

from __future__ import annotations

# flask-smorest API blueprints under /api/v1: "module path" exposing ``blp``.
API_MODULES: tuple[str, ...] = (
    "souk_platform.shops.api",
    "souk_platform.events.api",
    "souk_platform.ledger.api",
)

# Server-rendered pages: "module path" exposing ``bp``.
WEB_MODULES: tuple[str, ...] = ("souk_platform.web.views",)
