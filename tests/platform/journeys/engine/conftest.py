"""Journeys for the engine's tests: a Journey (active) and its frozen version, inserted directly (the
definitions' own services are tested elsewhere)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from souk_platform.customers.models import Customer
from souk_platform.journeys.models import Journey, JourneyVersion

NOW = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)


@pytest.fixture
def make_journey(session: Any) -> Callable[..., Journey]:
    def make(shop_id: str, graph: dict[str, Any], *, status: str = "active", name: str = "旅程") -> Journey:
        journey = Journey(shop_id=shop_id, name=name, status=status, graph=graph, activated_at=NOW)
        session.add(journey)
        session.flush()
        version = JourneyVersion(shop_id=shop_id, journey_id=journey.id, number=1, graph=graph)
        session.add(version)
        session.flush()
        journey.current_version_id = version.id
        session.commit()
        return journey

    return make


@pytest.fixture
def make_customers(session: Any) -> Callable[..., list[Customer]]:
    def make(shop_id: str, n: int, **fields: Any) -> list[Customer]:
        customers = [Customer(shop_id=shop_id, name=f"c{i}", **fields) for i in range(n)]
        session.add_all(customers)
        session.commit()
        return customers

    return make
