"""Journey engine benchmark: customers entering a segment-triggered journey with a wait and a split.

Run from the repository root:

    .venv/bin/python bench/journeys.py [--customers 100000] [--wait-seconds 2] [--batch 500]
                                       [--database-url URL] [--redis-url URL]

It seeds one shop (a fresh database of this run's own, dropped at the end, unless ``--database-url`` is
given) with ``--customers`` customers (``generate_series``), a segment of all of them, two issued coupons and
an active journey: segment entered → wait ``--wait-seconds`` → split 45 % A / 45 % B / 10 % holdout → A issues
coupon A, B issues coupon B, the holdout goes straight to the exit (docs/architecture.md §5.12). Then, in this
process and with the real clock, it does what the jobs do: the periodic trigger enrols every member (one
``INSERT … SELECT`` per batch), and the advance job moves enrolments in ``--batch``-sized transactions until
every one has completed. It prints the time to enrol everyone, the time from the start until every enrolment
has taken its first action (the holdout's "nothing" included) and the engine's cost per enrolment, time
spent waiting excluded.

The baseline, in the same run: a plain loop issuing the same number of coupons of a third coupon with
``issue_coupon`` to the same customers, ``--batch`` per transaction. The ratio engine / loop is the cost of
the journey (enrolment, steps, events, the split, the wait) on top of the coupon itself. Redis is leased
only for parity with the other benches. This is a benchmark, not a test: it asserts nothing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from typing import Any

from checkout import bench_app
from isolation import add_store_options, load_average_printed, own_stores


def seed(session: Any, *, customers: int) -> dict[str, str]:
    """The shop, its customers, the segment, three issued coupons and the journey; returns ids by name."""
    import sqlalchemy as sa

    from souk_platform.auth.services import create_user
    from souk_platform.coupons.services import create_coupon
    from souk_platform.shops.services import create_shop
    from souk_platform.tags.services import create_segment

    owner = create_user(session, email=f"jny-{time.time_ns()}@bench.souk.dev", name="bench", password="x" * 12)
    shop = create_shop(session, name="Journeys bench", owner=owner)
    session.flush()
    session.execute(
        sa.text(
            "INSERT INTO customers (id, shop_id, name, level, orders_count, total_spent, version, created_at)"
            " SELECT 'cus_' || lpad(n::text, 26, '0'), :shop, 'c' || n, 1, 0, 0, 1, now()"
            " FROM generate_series(1, :n) AS n"
        ),
        {"shop": shop.id, "n": customers},
    )
    ids = {"shop": shop.id}
    for key in ("a", "b", "loop"):
        coupon = create_coupon(
            session,
            shop_id=shop.id,
            fields={
                "code": f"JNY{key.upper()}",
                "name": f"券{key}",
                "kind": "fixed",
                "value": 500,
                "distribution": "issued",
            },
        )
        ids[f"coupon_{key}"] = coupon.id
    segment = create_segment(
        session,
        shop_id=shop.id,
        name="全部顾客",
        description=None,
        condition={"op": "and", "conditions": [{"field": "orders_count", "cmp": "gte", "value": 0}]},
    )
    session.flush()
    ids["segment"] = segment.id
    return ids


def journey_graph(ids: dict[str, str], wait_seconds: int) -> dict[str, Any]:
    def node(type: str, params: dict[str, Any], **next: str) -> dict[str, Any]:
        return {"type": type, "params": params, "next": next, "position": {"x": 0, "y": 0}}

    return {
        "entry": "start",
        "nodes": {
            "start": node("trigger", {"kind": "segment_entered", "segment_id": ids["segment"]}, default="wait"),
            "wait": node("wait", {"kind": "duration", "seconds": wait_seconds}, default="split"),
            "split": node(
                "split",
                {"variants": [{"key": "a", "weight": 1}, {"key": "b", "weight": 1}], "holdout_percent": 10},
                a="coupon_a",
                b="coupon_b",
                holdout="end",
            ),
            "coupon_a": node("action", {"action": "issue_coupon", "coupon_id": ids["coupon_a"]}, default="end"),
            "coupon_b": node("action", {"action": "issue_coupon", "coupon_id": ids["coupon_b"]}, default="end"),
            "end": node("exit", {}),
        },
        "goal": {"event": "order.paid", "within_days": 7},
        "exit": [],
        "settings": {"reentry": "never"},
    }


def activate(session: Any, ids: dict[str, str], graph: dict[str, Any]) -> str:
    from souk_platform.journeys.models import Journey, JourneyVersion

    journey = Journey(
        shop_id=ids["shop"], name="基准旅程", status="active", graph=graph, activated_at=dt.datetime.now(dt.UTC)
    )
    session.add(journey)
    session.flush()
    version = JourneyVersion(shop_id=ids["shop"], journey_id=journey.id, number=1, graph=graph)
    session.add(version)
    session.flush()
    journey.current_version_id = version.id
    return journey.id


def run_engine(app: Any, ids: dict[str, str], customers: int, wait_seconds: int, batch: int) -> dict[str, float]:
    import sqlalchemy as sa

    from souk_platform.db import db
    from souk_platform.journeys import engine
    from souk_platform.journeys.models import JourneyEnrollment

    now = lambda: dt.datetime.now(dt.UTC)  # noqa: E731  (the real clock: the wait is real)
    with app.app_context():
        session = db.session
        journey_id = activate(session, ids, journey_graph(ids, wait_seconds))
        session.commit()
        started = time.perf_counter()
        enrolled = 0
        while True:
            made = engine.run_periodic_triggers(session, now=now(), limit=batch)
            session.commit()
            enrolled += made
            if made == 0:
                break
        enrolled_in = time.perf_counter() - started
        busy = enrolled_in
        open_left = customers
        while open_left:
            tick = time.perf_counter()
            moved = engine.advance_batch(session, now=now(), batch=batch)
            session.commit()
            if moved:
                busy += time.perf_counter() - tick
                continue
            open_left = session.scalar(
                sa.select(sa.func.count())
                .select_from(JourneyEnrollment)
                .where(JourneyEnrollment.journey_id == journey_id, JourneyEnrollment.status.in_(("ready", "waiting")))
            )
            session.rollback()
            if open_left:
                time.sleep(0.05)  # asleep in the wait: not the engine's cost
        first_actions = time.perf_counter() - started
        variants = dict(
            session.execute(
                sa.select(JourneyEnrollment.variant, sa.func.count())
                .where(JourneyEnrollment.journey_id == journey_id)
                .group_by(JourneyEnrollment.variant)
            ).all()
        )
        session.remove()
    return {
        "enrolled": enrolled,
        "enrolled_in": enrolled_in,
        "first_actions": first_actions,
        "busy": busy,
        "variants": variants,
    }  # type: ignore[dict-item]


def run_loop(app: Any, ids: dict[str, str], count: int, batch: int) -> float:
    """The baseline: ``count`` coupons issued one by one with ``issue_coupon``, ``batch`` per transaction."""
    import sqlalchemy as sa

    from souk_platform.coupons.wallet import issue_coupon
    from souk_platform.customers.models import Customer
    from souk_platform.db import db

    with app.app_context():
        session = db.session
        customer_ids = list(
            session.scalars(
                sa.select(Customer.id).where(Customer.shop_id == ids["shop"]).order_by(Customer.id).limit(count)
            )
        )
        session.commit()
        started = time.perf_counter()
        for start in range(0, len(customer_ids), batch):
            now = dt.datetime.now(dt.UTC)
            for customer_id in customer_ids[start : start + batch]:
                issue_coupon(
                    session,
                    shop_id=ids["shop"],
                    coupon_id=ids["coupon_loop"],
                    customer_id=customer_id,
                    source="api",
                    source_id=f"bench:{customer_id}",
                    now=now,
                )
            session.commit()
        took = time.perf_counter() - started
        session.remove()
    return took


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--customers", type=int, default=100_000, help="customers entering (default 100000)")
    parser.add_argument("--wait-seconds", type=int, default=2, help="the journey's wait (default 2)")
    parser.add_argument("--batch", type=int, default=500, help="enrolments (and loop coupons) per transaction")
    add_store_options(parser)
    args = parser.parse_args(argv)
    if args.customers < 1 or args.batch < 1 or args.wait_seconds < 0:
        parser.error("--customers and --batch must be at least 1, --wait-seconds at least 0")

    with (
        load_average_printed(),
        own_stores("journeys", args) as stores,
        tempfile.TemporaryDirectory(prefix="souk-bench-journeys-") as folder,
    ):
        app = bench_app(stores.database_url, folder)
        import sqlalchemy as sa

        from souk_platform.db import db

        with app.app_context():
            started = time.perf_counter()
            ids = seed(db.session, customers=args.customers)
            db.session.commit()
            db.session.execute(sa.text("ANALYZE"))
            db.session.commit()
            print(f"Seeded {args.customers} customers in {time.perf_counter() - started:.1f} s", flush=True)
        engine_run = run_engine(app, ids, args.customers, args.wait_seconds, args.batch)
        actions = sum(n for variant, n in engine_run["variants"].items() if variant in ("a", "b"))  # type: ignore[union-attr]
        loop = run_loop(app, ids, actions, args.batch)
        n = args.customers
        print(
            f"Enrolled {engine_run['enrolled']:.0f} customers in {engine_run['enrolled_in']:.2f} s "
            f"({engine_run['enrolled_in'] / n * 1e6:.0f} µs each)"
        )
        print(f"Variants: {engine_run['variants']}")
        print(
            f"Every enrolment took its first action {engine_run['first_actions']:.2f} s after the start "
            f"(the wait is {args.wait_seconds} s)"
        )
        engine_per = engine_run["busy"] / n * 1e6
        loop_per = loop / max(actions, 1) * 1e6
        print(
            f"Engine: {engine_run['busy']:.2f} s of work, {engine_per:.0f} µs per enrolment "
            f"(enrol, wait, split, {actions} coupons, events)"
        )
        print(f"Plain loop: {actions} coupons in {loop:.2f} s, {loop_per:.0f} µs per coupon")
        print(f"Ratio engine per enrolment / loop per coupon: {engine_per / loop_per:.2f}×")
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
