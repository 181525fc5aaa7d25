"""Every blueprint the marketplace serves, in one explicit list (read by ``souk_marketplace.app``)."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

# flask-smorest API blueprints under /api/v1: "module path" exposing ``blp``.
API_MODULES: tuple[str, ...] = (
    "souk_marketplace.listings.api",
    "souk_marketplace.ratings.api",
    "souk_marketplace.billing.api",
    "souk_marketplace.requirements.api",
    "souk_marketplace.service_market.api",
)

# Server-rendered pages: "module path" exposing ``bp``.
WEB_MODULES: tuple[str, ...] = (
    "souk_marketplace.listings.views",
    "souk_marketplace.listings.storefront",
    "souk_marketplace.ratings.views",
    "souk_marketplace.billing.views",
    "souk_marketplace.requirements.views",
    "souk_marketplace.service_market.views",
    "souk_marketplace.demo.landing",  # the demo apps' own pages (their OAuth redirect URI)
)

# Links to marketplace pages: (area, endpoint, label) — areas in souk_platform.web.links.
# Labels use lazy_gettext (``_l``) so they are translated when a page renders.
LINKS: tuple[tuple[str, str, Any], ...] = (
    ("nav", "market.index", _l("App market")),
    ("app_console", "listings.console", _l("Listing")),
    ("app_console", "ratings.console", _l("Ratings")),
    ("admin", "listings.review_queue", _l("App review queue")),
    ("shop", "billing_pages.charges", _l("Charges")),
    ("app_console", "billing_pages.app_billing", _l("Billing and earnings")),
    ("nav", "requirement_pages.board", _l("Requirement board")),
    ("shop", "requirement_pages.shop_requirements", _l("Requirements and pledges")),
    ("admin", "requirement_pages.duplicates", _l("Duplicate requirements")),
    ("admin", "requirement_pages.arbitration", _l("Requirement arbitration")),
    ("nav", "service_market.catalogue_page", _l("Service market")),
    ("shop", "service_market.shop_orders", _l("Service orders")),
    ("admin", "service_market.admin_disputes", _l("Service-market disputes")),
)
