"""Every blueprint the platform serves, in one explicit list (imported by the app factory)."""

from __future__ import annotations

# flask-smorest API blueprints under /api/v1: "module path" exposing ``blp``.
API_MODULES: tuple[str, ...] = (
    "souk_platform.shops.api",
    "souk_platform.catalog.api",
    "souk_platform.customers.api",
    "souk_platform.members.api",
    "souk_platform.tags.api",
    "souk_platform.audience.api",
    "souk_platform.behaviour.api",
    "souk_platform.events.api",
    "souk_platform.ledger.api",
    "souk_platform.coupons.api",
    "souk_platform.coupons.wallet_api",
    "souk_platform.coupons.packs_api",
    "souk_platform.benefits.api",
    "souk_platform.journeys.enrollments_api",
    "souk_platform.journeys.api",
    "souk_platform.messaging.api",
    "souk_platform.points.api",
    "souk_platform.stored_value.api",
    "souk_platform.checkout.api",
    "souk_platform.orders.api",
    "souk_platform.reports.api",
    "souk_platform.installations.api",
    "souk_platform.oauth.api",
    "souk_platform.webhooks.api",
    "souk_platform.plugins.api",
    "souk_platform.plugins.app_api",
    "souk_platform.risk.api",
    "souk_platform.webhooks.listen",
)

# Server-rendered pages: "module path" exposing ``bp``.
WEB_MODULES: tuple[str, ...] = (
    "souk_platform.web.views",
    "souk_platform.reports.views",
    "souk_platform.orders.views",
    "souk_platform.catalog.views",
    "souk_platform.customers.views",
    "souk_platform.tags.views",
    "souk_platform.members.views",
    "souk_platform.coupons.views",
    "souk_platform.coupons.pack_views",
    "souk_platform.apps.views",
    "souk_platform.oauth.views",
    "souk_platform.installations.views",
    "souk_platform.plugins.views",
    "souk_platform.webhooks.views",
    "souk_platform.audience.views",
    "souk_platform.benefits.views",
    "souk_platform.journeys.views",
    "souk_platform.messaging.views",
    "souk_platform.risk.views",
    "souk_platform.operations.views",
)
