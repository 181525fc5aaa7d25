"""Every model module, imported once so SQLAlchemy's metadata (and Alembic) sees every table."""

from __future__ import annotations

import importlib

MODEL_MODULES: tuple[str, ...] = (
    "souk_platform.auth.models",
    "souk_platform.shops.models",
    "souk_platform.api.models",
    "souk_platform.events.models",
    "souk_platform.ledger.models",
    "souk_platform.catalog.models",
    "souk_platform.customers.models",
    "souk_platform.members.models",
    "souk_platform.tags.models",
    "souk_platform.behaviour.models",
    "souk_platform.coupons.models",
    "souk_platform.points.models",
    "souk_platform.points_tasks.models",
    "souk_platform.stored_value.models",
    "souk_platform.benefits.models",
    "souk_platform.journeys.models",
    "souk_platform.journeys.engine.models",
    "souk_platform.messaging.models",
    "souk_platform.checkout.models",
    "souk_platform.orders.models",
    "souk_platform.risk.models",
    "souk_platform.points_mall.models",
    "souk_platform.apps.models",
    "souk_platform.oauth.models",
    "souk_platform.webhooks.models",
    "souk_platform.plugins.models",
    "souk_platform.webhooks.listen",
)


def load_all() -> None:
    for module in MODEL_MODULES:
        importlib.import_module(module)
