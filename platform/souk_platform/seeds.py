"""The ordered demo seed steps of each domain (each domain's ``demo.py`` provides ``seed``)."""

from __future__ import annotations

from collections.abc import Callable

from souk_platform.db import DbSession
from souk_platform.shops.models import Shop

STEPS: list[tuple[str, Callable[[DbSession, Shop], None]]] = []
