"""Every marketplace model module, imported once when the extension registers (Alembic sees them)."""

from __future__ import annotations

import importlib

MODEL_MODULES: tuple[str, ...] = ()


def load_all() -> None:
    for module in MODEL_MODULES:
        importlib.import_module(module)
