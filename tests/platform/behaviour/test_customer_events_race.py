"""Two batches with overlapping event ids posted at once on PostgreSQL, with real commits: each event is
stored once and the accepted counts add up (docs/architecture.md §5.4). Rows go in event-id order, so
batches listing the shared ids in opposite orders do not deadlock either."""

from __future__ import annotations

import datetime as dt
from functools import partial
from typing import Any

import pytest
import sqlalchemy as sa
from races import race

from souk_platform.auth.scopes import all_scopes
from souk_platform.auth.services import create_access_token
from souk_platform.behaviour.models import CustomerEvent
from souk_platform.customers.services import create_customer
from souk_platform.db import db
from souk_platform.shops.models import Shop

ROUNDS = 5


@pytest.mark.concurrency
def test_overlapping_batches_at_once_store_each_event_once(own_database):
    app, _ = own_database
    with app.app_context():
        shop = Shop(name="Race shop", currency="CNY", settings={})
        db.session.add(shop)
        db.session.flush()
        customer_id = create_customer(db.session, shop_id=shop.id, name="ann", email="ann@example.cn").id
        _, token = create_access_token(db.session, shop_id=shop.id, name="t", scopes=all_scopes(), created_by=None)
        db.session.commit()
        shop_id = shop.id
    headers = {"Authorization": f"Bearer {token}"}
    when = dt.datetime.now(dt.UTC).isoformat()

    def batch(ids: list[str]) -> dict[str, Any]:
        return {
            "events": [
                {
                    "event_id": i,
                    "customer_id": customer_id,
                    "type": "searched",
                    "occurred_at": when,
                    "properties": {"query": "tea"},
                }
                for i in ids
            ]
        }

    for round_ in range(ROUNDS):
        shared = [f"r{round_}-s{i:03d}" for i in range(200)]
        left = batch([f"r{round_}-l{i}" for i in range(50)] + shared)
        right = batch(list(reversed(shared)) + [f"r{round_}-r{i}" for i in range(50)])
        results = race(
            *(
                partial(app.test_client().post, "/api/v1/customer-events", json=b, headers=headers)
                for b in (left, right)
            )
        )
        assert [r.status_code for r in results] == [200, 200], [r.get_json() for r in results]
        bodies = [r.get_json() for r in results]
        assert bodies[0]["accepted"] + bodies[1]["accepted"] == 300
        # Each shared id was stored by exactly one side and skipped as a duplicate by the other.
        assert set(bodies[0]["duplicates"]) | set(bodies[1]["duplicates"]) == set(shared)
        assert not set(bodies[0]["duplicates"]) & set(bodies[1]["duplicates"])

    with app.app_context():
        rows = db.session.execute(
            sa.select(CustomerEvent.event_id, sa.func.count())
            .where(CustomerEvent.shop_id == shop_id)
            .group_by(CustomerEvent.event_id)
        ).all()
        assert len(rows) == 300 * ROUNDS and {n for _, n in rows} == {1}
