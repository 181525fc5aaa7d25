"""Fixtures for service-market tests: a funded buyer shop with a token, and a provider's offer."""

from __future__ import annotations

from typing import Any

import pytest
from marketplace.service_market.builders import FUNDS, Offer, fund, make_offer

from factories import ShopFactory, token_for
from souk_platform.shops.models import Shop


@pytest.fixture
def shop(session: Any) -> Shop:
    made = ShopFactory(name="Tea House")
    fund(session, made, FUNDS)
    return made


@pytest.fixture
def headers(shop: Shop) -> dict[str, str]:
    return token_for(shop)


@pytest.fixture
def offer(session: Any, clock: Any) -> Offer:
    return make_offer(session, clock.now())
