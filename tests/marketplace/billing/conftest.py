"""Fixtures for billing tests (the builders live in builders.py); the ledger is checked after each test."""

from __future__ import annotations

import pytest
from marketplace.billing.builders import NOW, World, build_world

from souk_platform.ledger.services import check_invariants


@pytest.fixture
def world(session, clock) -> World:
    assert clock.now() == NOW
    return build_world(session)


@pytest.fixture(autouse=True)
def ledger_stays_sound(request):
    """After every billing test the ledger's invariant holds (entries balance, caches match, no negatives)."""
    # Asked for at setup, so the session outlives this check (concurrency tests have none: they commit).
    session = request.getfixturevalue("session") if "session" in request.fixturenames else None
    yield
    if session is not None:
        assert check_invariants(session) == []
