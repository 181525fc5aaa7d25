"""``events.services.emit``: events are written with the transaction that caused them, in one batch."""

from __future__ import annotations

import sqlalchemy as sa

from souk_platform.db import db
from souk_platform.events.models import OutboxEvent
from souk_platform.events.services import emit


def _emit(session, subject_id: str) -> OutboxEvent:
    return emit(
        session,
        shop_id="shp_emit_test",
        type="order.paid",
        subject_type="order",
        subject_id=subject_id,
        payload={"id": subject_id, "version": 2},
    )


def _subjects(session) -> list[str]:
    return list(session.scalars(sa.select(OutboxEvent.subject_id).where(OutboxEvent.shop_id == "shp_emit_test")))


def test_many_events_in_one_transaction_are_written_by_one_statement(app, session):
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    session.execute(sa.select(1))  # the transaction (and its savepoint) is open before counting starts
    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        for n in range(50):
            _emit(session, f"ord_batch_{n}")
        assert statements == []  # emitting alone sends nothing
        session.flush()
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)
    assert len(statements) == 1 and statements[0].lstrip().upper().startswith("INSERT INTO OUTBOX_EVENTS")
    assert sorted(_subjects(session)) == sorted(f"ord_batch_{n}" for n in range(50))


def test_a_query_in_the_same_transaction_sees_the_events_emitted_before_it(app, session):
    event = _emit(session, "ord_seen")
    found = session.scalar(sa.select(OutboxEvent).where(OutboxEvent.id == event.id))  # autoflush writes it
    assert found is not None and found.payload == {"id": "ord_seen", "version": 2}
    assert found.created_at == event.created_at


def test_a_rolled_back_savepoint_takes_its_events_and_leaves_the_others(app, session):
    _emit(session, "ord_before")
    savepoint = session.begin_nested()
    _emit(session, "ord_inside")
    savepoint.rollback()
    _emit(session, "ord_after")
    session.commit()
    assert sorted(_subjects(session)) == ["ord_after", "ord_before"]


def test_a_rolled_back_transaction_writes_none_of_its_events(app, session):
    _emit(session, "ord_never")
    session.rollback()
    session.commit()
    assert _subjects(session) == []


def test_an_event_can_carry_the_time_the_caller_gives(app, session, clock):
    event = emit(
        session,
        shop_id="shp_emit_test",
        type="plugin.failing",
        subject_type="plugin",
        subject_id="plg_x",
        payload={"version": 1},
        created_at=clock.now(),
    )
    session.flush()
    assert session.scalar(sa.select(OutboxEvent.created_at).where(OutboxEvent.id == event.id)) == clock.now()
