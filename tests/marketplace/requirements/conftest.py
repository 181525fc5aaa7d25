"""Fixtures for crowdfunding tests (the builders live in builders.py)."""

from __future__ import annotations

from typing import Any

import pytest
from marketplace.requirements.builders import Developer, fund, make_developer

from factories import ShopFactory
from souk_platform.shops.models import Shop


@pytest.fixture
def shops(session: Any) -> dict[str, Shop]:
    """An owner and two other merchants, each with ¥10,000 of takings."""
    made = {name: ShopFactory(name=name) for name in ("owner", "tea", "noodles")}
    for shop in made.values():
        fund(session, shop, 1_000_000)
    return made


@pytest.fixture
def developer(session: Any, clock: Any) -> Developer:
    return make_developer(session, clock.now())
