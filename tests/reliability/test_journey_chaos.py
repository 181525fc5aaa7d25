"""Chaos for the journey engine: real ``souk worker`` processes carry many customers through a journey with two
action steps (a wallet coupon, then points after a wait); every worker is SIGKILLed in the middle of the run,
Redis is flushed, and new workers start. Afterwards every enrolment took every step exactly once: one wallet
coupon and one points award per customer, none missing and none twice (docs/architecture.md §5.12).

Nothing is mocked and no clock is frozen. The queued jobs die with the flush; only the database (the journey
inbox, the enrolments' status and ``wake_at``) and the periodic tick bring the work back.
"""

from __future__ import annotations

import os
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis as redis_lib
import sqlalchemy as sa
from flask import Flask

from factories import ShopFactory
from souk_platform.coupons.models import CustomerCoupon
from souk_platform.coupons.services import create_coupon
from souk_platform.customers.models import Customer
from souk_platform.db import db
from souk_platform.events.services import emit
from souk_platform.journeys.engine.models import JourneyInboxEvent
from souk_platform.journeys.models import Journey, JourneyEnrollment, JourneyStep, JourneyVersion
from souk_platform.points.models import PointsLot

sys.path.insert(0, str(Path(__file__).parent))
from test_webhook_chaos import Workers

pytestmark = pytest.mark.concurrency

CUSTOMERS = 600
BATCH = 50
POINTS = 10
RECOVERY_SECONDS = 150


def _node(type: str, params: dict | None = None, **next: str) -> dict:
    return {"type": type, "params": params or {}, "next": next, "position": {"x": 0, "y": 0}}


def _graph(coupon_id: str) -> dict:
    return {
        "entry": "start",
        "nodes": {
            "start": _node("trigger", {"kind": "event", "event": "order.paid"}, default="gift"),
            "gift": _node("action", {"action": "issue_coupon", "coupon_id": coupon_id}, default="wait"),
            "wait": _node("wait", {"kind": "duration", "seconds": 2}, default="points"),
            "points": _node("action", {"action": "award_points", "points": POINTS}, default="end"),
            "end": _node("exit"),
        },
        "goal": None,
        "exit": [],
        "settings": {"reentry": "never"},
    }


@pytest.fixture
def workers(own_database: tuple[Flask, str], redis_url: str, tmp_path: Path) -> Iterator[Workers]:
    app, database_url = own_database  # the workers commit for real: none of it may reach the tests after this one
    env = {
        **os.environ,
        "SOUK_DATABASE_URL": database_url,
        "SOUK_REDIS_URL": redis_url,
        "SOUK_JOBS": "rq",
        "SOUK_SECRET_KEY": str(app.config["SECRET_KEY"]),
        "SOUK_INSTANCE_PATH": str(tmp_path),
        "SOUK_LOG_FORMAT": "console",
    }
    pool = Workers(env, tmp_path)
    try:
        yield pool
    finally:
        pool.kill_all()


def _count(app: Flask, stmt: sa.Executable) -> int:
    with app.app_context():
        value = db.session.scalar(stmt)
        db.session.remove()
    return int(value or 0)


def _wait_for(condition: Callable[[], bool], *, seconds: float, what: str, explain: Callable[[], str] = str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}{explain()}")
        time.sleep(0.1)


def test_every_step_acts_once_through_killed_workers_and_a_flushed_redis(
    own_database: tuple[Flask, str], redis_url: str, workers: Workers
) -> None:
    app = own_database[0]
    redis = redis_lib.Redis.from_url(redis_url)
    redis.flushdb()
    with app.app_context():
        shop = ShopFactory()
        shop_id = shop.id
        coupon = create_coupon(
            db.session,
            shop_id=shop_id,
            fields={"code": "CHAOS", "name": "混沌券", "kind": "fixed", "value": 500, "distribution": "issued"},
        )
        coupon_id = coupon.id
        customers = [Customer(shop_id=shop_id, name=f"c{i}") for i in range(CUSTOMERS)]
        db.session.add_all(customers)
        db.session.flush()
        customer_ids = [c.id for c in customers]
        graph = _graph(coupon_id)
        journey = Journey(shop_id=shop_id, name="混沌", status="active", graph=graph)
        db.session.add(journey)
        db.session.flush()
        version = JourneyVersion(shop_id=shop_id, journey_id=journey.id, number=1, graph=graph)
        db.session.add(version)
        db.session.flush()
        journey.current_version_id = version.id
        journey_id = journey.id
        db.session.commit()
        for start in range(0, CUSTOMERS, BATCH):  # committed: each commit asks for a delivery (dispatch) run
            for customer_id in customer_ids[start : start + BATCH]:
                emit(
                    db.session,
                    shop_id=shop_id,
                    type="order.paid",
                    subject_type="order",
                    subject_id=f"ord_{customer_id}",
                    payload={"id": f"ord_{customer_id}", "customer_id": customer_id, "total": 100, "version": 2},
                )
            db.session.commit()
        db.session.remove()

    wallet = sa.select(sa.func.count()).select_from(CustomerCoupon).where(CustomerCoupon.coupon_id == coupon_id)
    workers.start()
    workers.start()
    _wait_for(lambda: _count(app, wallet) >= CUSTOMERS // 6, seconds=90, what="the first coupons")
    # Mid-run: as soon as a worker holds enrolments locked in an open transaction (an advance batch, its steps
    # and coupons not committed yet), every worker dies at once and the queue is lost.
    in_flight = sa.text(
        "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation"
        " WHERE c.relname = 'journey_enrollments' AND l.mode = 'RowShareLock' AND l.pid <> pg_backend_pid()"
    )
    _wait_for(lambda: _count(app, in_flight) > 0, seconds=30, what="a worker in the middle of an advance batch")
    workers.kill_all()
    issued_at_kill = _count(app, wallet)
    redis.flushdb()
    workers.start()
    workers.start()

    completed = (
        sa.select(sa.func.count())
        .select_from(JourneyEnrollment)
        .where(JourneyEnrollment.journey_id == journey_id, JourneyEnrollment.status == "completed")
    )

    def explain() -> str:
        with app.app_context():
            statuses = Counter(
                db.session.scalars(
                    sa.select(JourneyEnrollment.status).where(JourneyEnrollment.journey_id == journey_id)
                )
            )
            inbox = db.session.scalar(sa.select(sa.func.count()).select_from(JourneyInboxEvent))
            db.session.remove()
        return f": enrolments {dict(statuses)}, inbox {inbox}"

    _wait_for(
        lambda: _count(app, completed) == CUSTOMERS, seconds=RECOVERY_SECONDS, what="every enrolment", explain=explain
    )

    with app.app_context():
        session = db.session
        coupons_by_customer = Counter(
            session.scalars(sa.select(CustomerCoupon.customer_id).where(CustomerCoupon.coupon_id == coupon_id))
        )
        lots_by_customer = Counter(
            session.scalars(sa.select(PointsLot.customer_id).where(PointsLot.shop_id == shop_id))
        )
        steps = session.execute(
            sa.select(JourneyStep.enrollment_id, JourneyStep.seq, JourneyStep.node_id, JourneyStep.status).where(
                JourneyStep.journey_id == journey_id
            )
        ).all()
        enrolled = Counter(
            session.scalars(sa.select(JourneyEnrollment.customer_id).where(JourneyEnrollment.journey_id == journey_id))
        )
        db.session.remove()
    print(
        f"\njourney chaos: {CUSTOMERS} customers, {issued_at_kill} coupons issued when every worker was killed, "
        f"{sum(coupons_by_customer.values())} coupons and {sum(lots_by_customer.values())} points awards after"
    )
    assert enrolled == Counter({cid: 1 for cid in customer_ids})
    assert coupons_by_customer == Counter({cid: 1 for cid in customer_ids})  # none twice, none missing
    assert lots_by_customer == Counter({cid: 1 for cid in customer_ids})
    per_enrollment = Counter(enrollment_id for enrollment_id, *_ in steps)
    assert set(per_enrollment.values()) == {5}
    assert Counter(node for _, _, node, _ in steps) == Counter(
        {"start": CUSTOMERS, "gift": CUSTOMERS, "wait": CUSTOMERS, "points": CUSTOMERS, "end": CUSTOMERS}
    )
    assert {status for *_, status in steps} == {"done"}
