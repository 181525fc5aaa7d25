"""Races on PostgreSQL with real threads and commits: one award per day, per reference, per claim limit."""

from __future__ import annotations

import datetime as dt
from functools import partial

import pytest
import sqlalchemy as sa
from races import race

from factories import ShopFactory
from souk_platform.core.errors import SoukError
from souk_platform.coupons.claims import claim_coupon
from souk_platform.coupons.models import CustomerCoupon
from souk_platform.coupons.services import create_coupon
from souk_platform.customers.services import create_customer
from souk_platform.db import db
from souk_platform.ledger.services import balance_of, check_invariants
from souk_platform.points_tasks import completions, services
from souk_platform.points_tasks.models import PointsTaskCompletion
from souk_platform.shops.services import get_shop

NOW = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)


def _world(app, *tasks):
    with app.app_context():
        shop = ShopFactory()
        a = create_customer(db.session, shop_id=shop.id, name="甲")
        b = create_customer(db.session, shop_id=shop.id, name="乙")
        ids = [services.create_task(db.session, shop_id=shop.id, fields=t).id for t in tasks]
        db.session.commit()
        return shop.id, a.id, b.id, ids


def _attempt(work):
    """Run ``work`` in the thread's session and commit; return "ok" or the refusal's code."""
    try:
        work()
        db.session.commit()
        return "ok"
    except SoukError as refusal:
        db.session.rollback()
        return refusal.code


def _points(shop_id, customer_id):
    return balance_of(db.session, shop_id=shop_id, kind="customer.points", owner_id=customer_id, unit="PTS")


@pytest.mark.concurrency
def test_parallel_sign_ins_of_one_customer_award_once(app):
    shop_id, a, _, _ = _world(app, {"name": "签到", "kind": "daily_sign_in", "points": 5})

    def sign_in():
        shop = get_shop(db.session, shop_id)
        completions.sign_in(db.session, shop=shop, customer_id=a, ip="10.0.0.1", device_id=None, now=NOW)

    results = race(*(partial(_attempt, sign_in) for _ in range(4)), app=app)
    assert sorted(results) == ["already-signed-in"] * 3 + ["ok"]
    with app.app_context():
        assert _points(shop_id, a) == 5
        assert check_invariants(db.session) == []
        db.session.remove()


@pytest.mark.concurrency
def test_parallel_completions_with_one_reference_pay_once(app):
    shop_id, a, b, (task_id,) = _world(app, {"name": "邀请", "kind": "post_review", "points": 20})

    def complete(customer_id):
        shop = get_shop(db.session, shop_id)
        completions.complete_task(
            db.session,
            shop=shop,
            task_id=task_id,
            customer_id=customer_id,
            reference="review-42",
            ip=None,
            device_id=None,
            now=NOW,
        )

    # two customers and the same customer twice, all naming one review
    results = race(partial(_attempt, partial(complete, a)), partial(_attempt, partial(complete, a)),
                   partial(_attempt, partial(complete, b)), app=app)  # fmt: skip
    assert sorted(results) == ["ok", "points-task-reference-used", "points-task-reference-used"]
    with app.app_context():
        rows = db.session.scalars(sa.select(PointsTaskCompletion).where(PointsTaskCompletion.task_id == task_id)).all()
        assert len(rows) == 1
        assert _points(shop_id, a) + _points(shop_id, b) == 20
        assert check_invariants(db.session) == []
        db.session.remove()


@pytest.mark.concurrency
def test_parallel_claims_at_a_limit_of_one_put_one_coupon_in_the_wallet(app):
    shop_id, a, _, _ = _world(app)
    with app.app_context():
        coupon = create_coupon(
            db.session,
            shop_id=shop_id,
            fields={"code": "GRAB5", "name": "5 off", "kind": "fixed", "value": 500, "per_customer_limit": 1},
        )
        db.session.commit()
        coupon_id = coupon.id

    def claim():
        shop = get_shop(db.session, shop_id)
        claim_coupon(db.session, shop=shop, coupon_id=coupon_id, customer_id=a, ip="10.0.0.2", device_id=None, now=NOW)

    results = race(*(partial(_attempt, claim) for _ in range(4)), app=app)
    assert sorted(results) == ["coupon-not-claimable"] * 3 + ["ok"]
    with app.app_context():
        entries = db.session.scalars(sa.select(CustomerCoupon).where(CustomerCoupon.coupon_id == coupon_id)).all()
        assert [(e.customer_id, e.source) for e in entries] == [(a, "claim")]
        db.session.remove()
