"""Parallel approvals and usage records on PostgreSQL, committing for real (on a database of their own):
a cap is never exceeded and nothing is charged twice."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from marketplace.billing.builders import PASSWORD, RETURN, TERMS, build_world, shop_balance

from souk_marketplace.billing import services
from souk_marketplace.billing.models import AppCharge, AppSubscription
from souk_platform.db import db, utcnow
from souk_platform.ledger.models import LedgerTransfer
from souk_platform.ledger.services import check_invariants


def _in_parallel(app: Any, count: int, work: Callable[[int], int]) -> list[int]:
    statuses: list[int] = []
    crashed: list[str] = []
    start = threading.Barrier(count)

    def run(index: int) -> None:
        with app.app_context():
            try:
                start.wait()
                statuses.append(work(index))
            except Exception as exc:  # surfaced below: a crashed thread must fail the test
                crashed.append(repr(exc))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert crashed == []
    return sorted(statuses)


@pytest.mark.concurrency
def test_parallel_usage_records_never_exceed_the_cap_or_charge_twice(isolated_app):
    app = isolated_app
    with app.app_context():
        world = build_world(db.session, tag=uuid.uuid4().hex[:8])
        sub = services.create_subscription(
            db.session,
            shop_id=world.shop_id,
            installation_id=world.installation_id,
            plan_id="metered",  # ¥10 a month plus usage up to ¥500
            return_url=RETURN,
            terms=TERMS,
            now=utcnow(),
        )
        services.approve(
            db.session,
            shop_id=world.shop_id,
            object_id=sub.id,
            user_id=world.owner_id,
            terms=TERMS,
            now=utcnow(),
        )
        sub_id = sub.id
        db.session.commit()
        db.session.remove()

    def record(index: int) -> int:
        key = "same-batch" if index >= 12 else f"batch-{index}"  # the last four retry one key
        body = {"description": "SMS", "amount": 5000, "idempotency": key}
        response = app.test_client().post("/api/v1/billing/usage-records", json=body, headers=world.headers)
        if response.status_code == 409:
            assert response.get_json()["type"].endswith("/usage-cap-exceeded"), response.get_json()
        return int(response.status_code)

    statuses = _in_parallel(app, 16, record)
    assert statuses.count(201) == 10 and statuses.count(409) + statuses.count(200) == 6
    with app.app_context():
        usage = db.session.scalars(
            sa.select(AppCharge).where(AppCharge.subscription_id == sub_id, AppCharge.kind == "usage")
        )
        assert sum(c.amount for c in usage) == 50_000
        assert db.session.get(AppSubscription, sub_id).usage_used == 50_000
        assert shop_balance(db.session, world.shop_id) == 100_000 - 1000 - 50_000
        assert check_invariants(db.session) == []
        db.session.remove()


@pytest.mark.concurrency
def test_parallel_approvals_of_one_subscription_charge_once(isolated_app):
    app = isolated_app
    with app.app_context():
        tag = uuid.uuid4().hex[:8]
        world = build_world(db.session, tag=tag)
        sub = services.create_subscription(
            db.session,
            shop_id=world.shop_id,
            installation_id=world.installation_id,
            plan_id="pro",
            return_url=RETURN,
            terms=TERMS,
            now=utcnow(),
        )
        sub_id = sub.id
        db.session.commit()
        db.session.remove()
    clients = []
    for _ in range(6):
        client = app.test_client()
        assert client.post("/login", data={"email": f"owner{tag}@example.com", "password": PASSWORD}).status_code == 302
        clients.append(client)

    def approve(index: int) -> int:
        path = f"/shops/{world.shop_id}/billing/approve/{sub_id}"
        return int(clients[index].post(path, data={"approve": "Approve"}).status_code)

    statuses = _in_parallel(app, len(clients), approve)
    assert statuses == [200] * 5 + [302]  # one approval redirects to the app; the others see it decided
    with app.app_context():
        charges = list(db.session.scalars(sa.select(AppCharge).where(AppCharge.subscription_id == sub_id)))
        assert [c.amount for c in charges] == [19_900]
        transfers = db.session.scalar(
            sa.select(sa.func.count()).select_from(LedgerTransfer).where(LedgerTransfer.reference == charges[0].id)
        )
        assert transfers == 1
        assert shop_balance(db.session, world.shop_id) == 100_000 - 19_900
        assert check_invariants(db.session) == []
        db.session.remove()
