"""Parallel redemptions on PostgreSQL with real commits (docs/architecture.md §5.14): with a balance enough
for one and stock enough for one, exactly one wins; never a 5xx, and the ledger stays exact."""

from __future__ import annotations

from functools import partial

import sqlalchemy as sa
from races import race

from souk_platform.catalog.models import Sku
from souk_platform.customers.services import create_customer
from souk_platform.db import db
from souk_platform.ledger.services import balance_of, check_invariants
from souk_platform.points.models import PointsLot
from souk_platform.points.services import award_points
from souk_platform.points_mall.models import MallItem, MallRedemption

from .conftest import build_mall

ROUNDS = 4


def _item(client, mall, **fields):
    body = {"kind": "goods", "sku_id": mall.sku, "title": "龙井", "points": 100, "status": "on_sale", **fields}
    r = client.post("/api/v1/points-mall/items", json=body, headers=mall.headers)
    assert r.status_code == 201, r.get_json()
    return r.get_json()["id"]


def _redeem(app, mall, item_id, customer_id, key):
    r = app.test_client().post(
        "/api/v1/points-mall/redemptions",
        json={"item_id": item_id, "customer_id": customer_id},
        headers={**mall.headers, "Idempotency-Key": key},
    )
    assert r.status_code in (201, 409, 422), r.get_json()
    return r.status_code


def _race(app, mall, item_id, buyers):
    """Two redemptions of ``item_id`` at the same moment, one per (customer, key) in ``buyers``."""
    return race(*(partial(_redeem, app, mall, item_id, customer_id, key) for customer_id, key in buyers), app=app)


def _points(shop_id, customer_id):
    return balance_of(db.session, shop_id=shop_id, kind="customer.points", owner_id=customer_id, unit="PTS")


def _lots_match_ledger(shop_id, customer_id):
    remaining = db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(PointsLot.remaining), 0)).where(
            PointsLot.shop_id == shop_id, PointsLot.customer_id == customer_id
        )
    )
    assert remaining == _points(shop_id, customer_id)


def test_one_customers_parallel_redemptions_spend_their_points_once(app):
    for round_ in range(ROUNDS):
        with app.app_context():
            mall = build_mall(db.session, app.extensions["souk.clock"], points=100, on_hand=5)
            item_id = _item(app.test_client(), mall)
            db.session.remove()
        codes = _race(app, mall, item_id, [(mall.customer_id, f"a-{round_}"), (mall.customer_id, f"b-{round_}")])
        assert sorted(codes) == [201, 422]  # the loser is short of points
        with app.app_context():
            assert _points(mall.id, mall.customer_id) == 0
            _lots_match_ledger(mall.id, mall.customer_id)
            assert db.session.get(Sku, mall.sku).on_hand == 4
            assert check_invariants(db.session) == []
            db.session.remove()


def test_the_last_unit_goes_to_one_of_two_members(app):
    for _ in range(ROUNDS):
        with app.app_context():
            mall = build_mall(db.session, app.extensions["souk.clock"], points=100, on_hand=1)
            goods = _item(app.test_client(), mall)
            coupon = _item(app.test_client(), mall, kind="coupon", sku_id=None, coupon_id=mall.coupon, stock=1)
            other = create_customer(db.session, shop_id=mall.id, name="张三", phone="13700000009")
            db.session.flush()
            award_points(
                db.session,
                shop_id=mall.id,
                customer_id=other.id,
                points=300,
                reason="welcome",
                reference=None,
                dedupe_key=f"welcome:{other.id}",
                now=app.extensions["souk.clock"].now(),
            )
            db.session.commit()
            other_id = other.id
            db.session.remove()
        for item_id in (goods, coupon):
            codes = _race(app, mall, item_id, [(mall.vip_id, f"v-{item_id}"), (other_id, f"o-{item_id}")])
            assert sorted(codes) == [201, 409]  # the loser finds it sold out
        with app.app_context():
            sku = db.session.get(Sku, mall.sku)
            assert (sku.on_hand, sku.reserved) == (0, 0)
            assert db.session.get(MallItem, coupon).redeemed == 1
            won = db.session.scalars(sa.select(MallRedemption).where(MallRedemption.shop_id == mall.id)).all()
            assert len(won) == 2
            spent = {c: 0 for c in (mall.vip_id, other_id)}
            for redemption in won:
                spent[redemption.customer_id] += redemption.points
            assert _points(mall.id, mall.vip_id) == 5000 - spent[mall.vip_id]
            assert _points(mall.id, other_id) == 300 - spent[other_id]
            for customer_id in spent:
                _lots_match_ledger(mall.id, customer_id)
            assert check_invariants(db.session) == []
            db.session.remove()
