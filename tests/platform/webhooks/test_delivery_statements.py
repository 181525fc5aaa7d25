"""A delivery round's SQL statements do not grow with the number of deliveries it serves: dispatch, claim
and log cost the same few statements for 4 deliveries or 60 (docs/architecture.md §8)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import sqlalchemy as sa

from factories import ShopFactory
from souk_platform.events.models import OutboxEvent
from souk_platform.events.services import emit
from souk_platform.webhooks import services
from souk_platform.webhooks.models import WebhookAttempt, WebhookDelivery
from souk_platform.webhooks.runtime import runtime_for


@pytest.fixture(autouse=True)
def _outbox_of_this_test_only(session) -> None:
    """Set aside what tests that commit for real left in this process's database (inside the test's
    transaction, so it is all rolled back after): the round must see only this test's rows."""
    session.execute(sa.delete(WebhookAttempt))
    session.execute(sa.delete(WebhookDelivery))
    session.execute(
        sa.update(OutboxEvent).where(OutboxEvent.dispatched_at.is_(None)).values(dispatched_at=sa.func.now())
    )
    session.commit()


@contextmanager
def _statements(session: Any) -> Iterator[list[str]]:
    """Every statement sent on the session's connection inside the block (an executemany counts once)."""
    seen: list[str] = []
    connection = session.connection()

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    sa.event.listen(connection, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(connection, "before_cursor_execute", record)


def _round(app, session, clock, count: int, answer: services.AttemptResult) -> tuple[list[str], int]:
    """Emit ``count`` events to a new endpoint, then one delivery round: dispatch, claim, log ``answer`` for
    each. Returns the round's statements and how many attempts it logged."""
    shop = ShopFactory()
    services.create_subscription(
        session,
        shop_id=shop.id,
        url="https://hooks.example.com/in",
        topics=["order.*"],
        installation_id=None,
        granted_scopes=None,
        box=runtime_for(app).box,
        clock=clock,
    )
    for n in range(count):
        emit(session, shop_id=shop.id, type="order.paid", subject_type="order", subject_id=f"ord_{n}", payload={})
    session.commit()
    runtime = runtime_for(app)
    with _statements(session) as seen:
        services.dispatch_outbox(session, clock=clock)
        requests = services.claim_requests(
            session, now=clock.now(), limit=100, box=runtime.box, per_endpoint=64, per_failing_endpoint=8
        )
        recorded = services.record_attempts(session, [(r, answer) for r in requests], clock=clock, rng=runtime.rng)
    session.commit()
    return seen, len(recorded)


@pytest.mark.parametrize(
    "answer",
    [services.AttemptResult(200, "ok", 3), services.AttemptResult(500, "oops", 3)],
    ids=["succeeded", "failed"],
)
def test_a_delivery_round_costs_the_same_statements_for_few_or_many_deliveries(app, session, now_clock, answer):
    few, few_logged = _round(app, session, now_clock, 4, answer)
    many, many_logged = _round(app, session, now_clock, 60, answer)

    assert (few_logged, many_logged) == (4, 60)
    assert len(many) == len(few) <= 10, many
    assert session.scalar(sa.select(sa.func.count()).select_from(WebhookAttempt)) == 64
    statuses = set(session.scalars(sa.select(WebhookDelivery.status)))
    assert statuses == ({"succeeded"} if answer.succeeded else {"pending"})
