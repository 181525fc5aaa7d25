"""Every blueprint the marketplace serves, in one explicit list (read by ``souk_marketplace.app``)."""

from __future__ import annotations

# flask-smorest API blueprints under /api/v1: "module path" exposing ``blp``.
API_MODULES: tuple[str, ...] = ()

# Server-rendered pages: "module path" exposing ``bp``.
WEB_MODULES: tuple[str, ...] = ()

# Links in the top bar of every page: (endpoint, label). Labels are translated when rendered.
NAV_LINKS: tuple[tuple[str, str], ...] = ()
