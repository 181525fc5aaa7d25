"""Every marketplace model module, imported once when the extension registers (Alembic sees them)."""

from __future__ import annotations

import importlib

MODEL_MODULES: tuple[str, ...] = (
    "souk_marketplace.listings.models",
    "souk_marketplace.ratings.models",
    "souk_marketplace.billing.models",
    "souk_marketplace.requirements.models",
    "souk_marketplace.service_market.models",
)


def load_all() -> None:
    for module in MODEL_MODULES:
        importlib.import_module(module)
