"""Approve and reject of one review at the same moment, on PostgreSQL with real commits: one wins, the other
gets 409 ``risk-review-closed``; never a 5xx, and the order ends as the winner says (docs/architecture.md §5.13)."""

from __future__ import annotations

import sqlalchemy as sa
from races import race

from souk_platform.catalog.models import Sku
from souk_platform.db import db
from souk_platform.orders.models import Order
from souk_platform.risk.models import RiskReview

from .conftest import Buyer, build_shop

PAIRS = 6


def test_approve_racing_reject_one_wins(app):
    with app.app_context():
        shop = build_shop(db.session, app.extensions["souk.clock"], risk_new_account_order_min=5_000)
        client = app.test_client()
        buyer = Buyer(client, shop)
        reviews = []
        for _ in range(PAIRS):
            r = buyer.checkout(1, points=10)
            assert r.get_json()["status"] == "in_review", r.get_json()
            reviews.append(db.session.scalar(sa.select(RiskReview.id).where(RiskReview.order_id == r.get_json()["id"])))
        db.session.remove()

    def decide(review_id: str, verb: str) -> int:
        r = app.test_client().post(f"/api/v1/risk/reviews/{review_id}/{verb}", json={}, headers=shop.headers)
        assert r.status_code in (200, 409), r.get_json()
        return int(r.status_code)

    for review_id in reviews:
        codes = race(lambda rid=review_id: decide(rid, "approve"), lambda rid=review_id: decide(rid, "reject"))
        assert sorted(codes) == [200, 409]

    with app.app_context():
        statuses = {}
        for review_id in reviews:
            review = db.session.get(RiskReview, review_id)
            order = db.session.get(Order, review.order_id)
            expected = {"approved": "pending_payment", "rejected": "cancelled"}[review.status]
            assert order.status == expected
            statuses[review.status] = statuses.get(review.status, 0) + 1
        sku = db.session.get(Sku, shop.sku)
        assert sku.reserved == statuses.get("approved", 0)  # rejected orders gave their stock back
        assert Buyer(client, shop).points() == 1000 - 10 * statuses.get("approved", 0)
        db.session.remove()
