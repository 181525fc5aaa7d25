"""Every blueprint the marketplace serves, in one explicit list (read by ``souk_marketplace.app``)."""

from __future__ import annotations

from typing import Any

# flask-smorest API blueprints under /api/v1: "module path" exposing ``blp``.
API_MODULES: tuple[str, ...] = ()

# Server-rendered pages: "module path" exposing ``bp``.
WEB_MODULES: tuple[str, ...] = ()

# Links to marketplace pages: (area, endpoint, label) — areas in souk_platform.web.links.
# Labels use lazy_gettext (``_l``) so they are translated when a page renders.
LINKS: tuple[tuple[str, str, Any], ...] = ()
