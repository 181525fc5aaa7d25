"""An advance batch costs a fixed number of SQL statements, whatever its number of enrolments: the bench's journey
(segment entered → wait → split 45/45/10 → a coupon for A, another for B → exit) moves 20 and 100 customers with
the same statements (docs/architecture.md §5.12)."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import sqlalchemy as sa

from factories import ShopFactory
from souk_platform.coupons import services as coupons
from souk_platform.coupons.models import Coupon, CustomerCoupon
from souk_platform.events.models import OutboxEvent
from souk_platform.journeys import engine
from souk_platform.journeys.engine.split import plugin_picker
from souk_platform.journeys.models import JourneyEnrollment, JourneyStep
from souk_platform.tags.services import create_segment

NOW = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)
WAIT = 3600


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


def _node(type: str, params: dict[str, Any], **next: str) -> dict[str, Any]:
    return {"type": type, "params": params, "next": next, "position": {"x": 0, "y": 0}}


def _bench_journey(session: Any, make_journey: Any, make_customers: Any, customers: int) -> tuple[Any, list[str]]:
    shop = ShopFactory()
    make_customers(shop.id, customers)
    coupon_ids = []
    for key in ("A", "B"):
        fields = {"code": f"JNY{key}", "name": key, "kind": "fixed", "value": 500, "distribution": "issued"}
        coupon_ids.append(coupons.create_coupon(session, shop_id=shop.id, fields=fields).id)
    everyone = {"op": "and", "conditions": [{"field": "orders_count", "cmp": "gte", "value": 0}]}
    segment = create_segment(session, shop_id=shop.id, name="全部", description=None, condition=everyone)
    session.commit()
    split = {"variants": [{"key": "a", "weight": 1}, {"key": "b", "weight": 1}], "holdout_percent": 10}
    graph = {
        "entry": "start",
        "nodes": {
            "start": _node("trigger", {"kind": "segment_entered", "segment_id": segment.id}, default="wait"),
            "wait": _node("wait", {"kind": "duration", "seconds": WAIT}, default="split"),
            "split": _node("split", split, a="coupon_a", b="coupon_b", holdout="end"),
            "coupon_a": _node("action", {"action": "issue_coupon", "coupon_id": coupon_ids[0]}, default="end"),
            "coupon_b": _node("action", {"action": "issue_coupon", "coupon_id": coupon_ids[1]}, default="end"),
            "end": _node("exit", {}),
        },
        "goal": None,
        "exit": [],
        "settings": {"reentry": "never"},
    }
    journey = make_journey(shop.id, graph)
    assert engine.run_periodic_triggers(session, now=NOW) == customers
    session.commit()
    return journey, coupon_ids


def _advance(session: Any, now: dt.datetime, pick_branch: Any = None) -> tuple[int, list[str]]:
    with _statements(session) as sent:
        moved = engine.advance_batch(session, now=now, batch=500, pick_branch=pick_branch)
        session.commit()
    return moved, sent


def _shape(sent: list[str]) -> Counter[str]:
    """What was sent, by kind (the first words; savepoint names numbered by the session left out)."""
    return Counter(re.sub(r"_\d+", "", " ".join(statement.split()[:3])) for statement in sent)


@pytest.mark.parametrize("pick_branch", [None, plugin_picker], ids=["bench", "with the split plugin point"])
def test_an_advance_batch_sends_the_same_statements_for_20_and_for_100_enrolments(
    session, make_journey, make_customers, pick_branch
):
    batches: dict[int, tuple[list[str], list[str]]] = {}
    for customers in (20, 100):
        journey, coupon_ids = _bench_journey(session, make_journey, make_customers, customers)
        moved_in, into_wait = _advance(session, NOW, pick_branch)  # the trigger step, then asleep in the wait
        # Then the wait, the split, the coupon and the exit.
        moved_out, out_of_wait = _advance(session, NOW + dt.timedelta(seconds=WAIT), pick_branch)
        assert moved_in == moved_out == customers
        batches[customers] = (into_wait, out_of_wait)

        enrollments = session.scalars(sa.select(JourneyEnrollment).where(JourneyEnrollment.journey_id == journey.id))
        variants = Counter(e.variant for e in enrollments if e.status == "completed")
        assert sum(variants.values()) == customers and variants["a"] and variants["b"]
        steps = session.scalar(
            sa.select(sa.func.count()).select_from(JourneyStep).where(JourneyStep.journey_id == journey.id)
        )
        assert steps == 4 * variants["holdout"] + 5 * (variants["a"] + variants["b"])
        for coupon_id, variant in zip(coupon_ids, ("a", "b"), strict=True):
            holders = session.scalar(
                sa.select(sa.func.count()).select_from(CustomerCoupon).where(CustomerCoupon.coupon_id == coupon_id)
            )
            assert holders == variants[variant] == session.get(Coupon, coupon_id).issued_count
        exited = session.scalar(
            sa.select(sa.func.count())
            .select_from(OutboxEvent)
            .where(OutboxEvent.type == "journey.exited", OutboxEvent.payload["journey_id"].as_string() == journey.id)
        )
        assert exited == customers

    for small, large in zip(batches[20], batches[100], strict=True):
        assert len(small) == len(large), (_shape(small), _shape(large))
        assert _shape(small) == _shape(large)
    # Out of the wait (21 statements when written): claim, load, journeys, graphs, the shops; the enrolments and
    # steps so far; per coupon its lock, the customers and their earlier entries, then its entries and issued
    # count; then the enrolments, the steps and the outbox events (10.3 per enrolment before §5.12's batch).
    assert len(batches[100][1]) <= 25


def test_coupons_issued_together_keep_the_limits_in_enrolment_order_across_rounds(
    session, make_journey, make_customers
):
    """One batch of five: a coupon of total limit 3 (the first three enrolments by id get it, the others' steps
    are skipped for the total), then another of one per customer given at two nodes in a row (everyone gets it
    at the first, and the second round sees the first's entries: every second step is skipped)."""
    shop = ShopFactory()
    make_customers(shop.id, 5)
    base = {"kind": "fixed", "value": 500, "distribution": "issued"}
    total = coupons.create_coupon(session, shop_id=shop.id, fields={**base, "code": "T", "name": "T", "total_limit": 3})
    once = coupons.create_coupon(
        session, shop_id=shop.id, fields={**base, "code": "P", "name": "P", "per_customer_limit": 1}
    )
    everyone = {"op": "and", "conditions": [{"field": "orders_count", "cmp": "gte", "value": 0}]}
    segment = create_segment(session, shop_id=shop.id, name="全部", description=None, condition=everyone)
    session.commit()
    journey = make_journey(
        shop.id,
        {
            "entry": "start",
            "nodes": {
                "start": _node("trigger", {"kind": "segment_entered", "segment_id": segment.id}, default="limited"),
                "limited": _node("action", {"action": "issue_coupon", "coupon_id": total.id}, default="once"),
                "once": _node("action", {"action": "issue_coupon", "coupon_id": once.id}, default="again"),
                "again": _node("action", {"action": "issue_coupon", "coupon_id": once.id}, default="end"),
                "end": _node("exit", {}),
            },
            "goal": None,
            "exit": [],
            "settings": {"reentry": "never"},
        },
    )
    assert engine.run_periodic_triggers(session, now=NOW) == 5
    session.commit()
    assert engine.advance_batch(session, now=NOW, batch=500) == 5
    session.commit()

    enrollments = list(
        session.scalars(
            sa.select(JourneyEnrollment)
            .where(JourneyEnrollment.journey_id == journey.id)
            .order_by(JourneyEnrollment.id)
            .execution_options(populate_existing=True)
        )
    )
    assert [e.status for e in enrollments] == ["completed"] * 5
    rows = session.execute(
        sa.select(JourneyStep.enrollment_id, JourneyStep.node_id, JourneyStep.status, JourneyStep.outcome).where(
            JourneyStep.journey_id == journey.id, JourneyStep.node_type == "action"
        )
    ).all()
    steps = {(enrollment_id, node): (status, outcome) for enrollment_id, node, status, outcome in rows}
    limited = [steps[(e.id, "limited")] for e in enrollments]
    assert [status for status, _ in limited] == ["done"] * 3 + ["skipped"] * 2
    assert all(
        outcome["reason"] == "coupon-not-issuable" and "All 3" in outcome["detail"] for _, outcome in limited[3:]
    )
    assert [steps[(e.id, "once")][0] for e in enrollments] == ["done"] * 5
    again = [steps[(e.id, "again")] for e in enrollments]
    assert [status for status, _ in again] == ["skipped"] * 5
    assert all("already holds 1" in outcome["detail"] for _, outcome in again)

    def holders(coupon_id: str) -> list[str]:
        keys = session.scalars(sa.select(CustomerCoupon.source_id).where(CustomerCoupon.coupon_id == coupon_id))
        return sorted(keys)

    assert holders(total.id) == sorted(f"journey:{e.id}:2" for e in enrollments[:3])
    assert holders(once.id) == sorted(f"journey:{e.id}:3" for e in enrollments)
    assert session.get(Coupon, total.id).issued_count == 3 and session.get(Coupon, once.id).issued_count == 5
