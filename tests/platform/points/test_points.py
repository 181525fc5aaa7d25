from __future__ import annotations

import datetime as dt
from functools import partial

import pytest
import sqlalchemy as sa
from races import race

from factories import ShopFactory, token_for
from souk_platform.core.errors import InsufficientFunds
from souk_platform.customers.models import Customer
from souk_platform.db import db
from souk_platform.events.models import OutboxEvent
from souk_platform.ledger.models import LedgerTransfer
from souk_platform.ledger.services import check_invariants
from souk_platform.points import services
from souk_platform.points.errors import CustomerNotFound, InvalidPoints, NothingToRefund
from souk_platform.points.models import PointsLot
from souk_platform.points.tasks import expire_points


def _customer(session, shop, name="Li Lei"):
    customer = Customer(shop_id=shop.id, name=name)
    session.add(customer)
    session.commit()
    return customer


def _award(session, shop, customer, points, key, now, **kw):
    return services.award_points(
        session,
        shop_id=shop.id,
        customer_id=customer.id,
        points=points,
        reason="test",
        reference=kw.pop("reference", None),
        dedupe_key=key,
        now=now,
        **kw,
    )


def _balance(session, shop, customer):
    return services.points_balance(session, shop_id=shop.id, customer_id=customer.id)


def _lots(session, customer):
    return session.scalars(
        sa.select(PointsLot).where(PointsLot.customer_id == customer.id).order_by(PointsLot.id)
    ).all()


def _lots_match_ledger(session, shop, customer):
    return sum(lot.remaining for lot in _lots(session, customer)) == _balance(session, shop, customer)


def _events(session, shop, type):
    return session.scalars(sa.select(OutboxEvent).where(OutboxEvent.shop_id == shop.id, OutboxEvent.type == type)).all()


def test_rules_read_shop_settings():
    shop = ShopFactory.build(
        settings={"points_per_yuan": 2, "points_value_fen": 5, "points_max_ratio_bp": 2000, "points_expiry_days": 30}
    )
    assert services.default_points_for_order(shop, 12_345) == 246  # 123 whole yuan × 2
    assert services.default_points_for_order(shop, 99) == 0
    assert services.points_value(shop, 100) == 500
    assert services.max_points_for(shop, 10_000) == 400  # 20 % of ¥100 = 2000 fen = 400 points of 5 fen
    assert services.max_points_for(shop, 10_004) == 400  # never above the cap


def test_award_creates_a_lot_that_expires_after_the_shop_setting_and_is_idempotent(session, clock):
    shop = ShopFactory(settings={"points_expiry_days": 90})
    alice = _customer(session, shop)
    assert _award(session, shop, alice, 300, "order:o1:earn", clock.now(), reference="o1") == 300
    assert _award(session, shop, alice, 300, "order:o1:earn", clock.now(), reference="o1") == 300
    session.commit()
    (lot,) = _lots(session, alice)
    assert (lot.points, lot.remaining, lot.reference) == (300, 300, "o1")
    assert lot.expires_at == clock.now() + dt.timedelta(days=90)
    assert _balance(session, shop, alice) == 300
    (event,) = _events(session, shop, "points.awarded")
    assert event.payload["points"] == 300 and event.payload["balance"] == 300
    assert check_invariants(session) == []


def test_award_refuses_bad_points_and_foreign_customers(session, clock):
    shop, other = ShopFactory(), ShopFactory()
    theirs = _customer(session, other)
    mine = _customer(session, shop)
    with pytest.raises(CustomerNotFound):
        _award(session, shop, theirs, 10, "k1", clock.now())
    for bad in (0, -5, True, 10**12):
        with pytest.raises(InvalidPoints):
            _award(session, shop, mine, bad, "k2", clock.now())
    assert _lots(session, theirs) == [] and _lots(session, mine) == []


def test_spend_takes_the_soonest_expiring_lot_first_and_is_idempotent_per_order(session, clock):
    shop = ShopFactory(settings={"points_expiry_days": 365})
    bob = _customer(session, shop)
    _award(session, shop, bob, 100, "long", clock.now())
    shop.settings = {**shop.settings, "points_expiry_days": 30}
    session.commit()
    _award(session, shop, bob, 80, "short", clock.now())
    services.spend_points(session, shop_id=shop.id, customer_id=bob.id, points=120, order_id="ord_1", now=clock.now())
    services.spend_points(session, shop_id=shop.id, customer_id=bob.id, points=120, order_id="ord_1", now=clock.now())
    session.commit()
    long_lot, short_lot = _lots(session, bob)
    assert (short_lot.remaining, long_lot.remaining) == (0, 60)
    assert _balance(session, shop, bob) == 60
    assert len(_events(session, shop, "points.spent")) == 1
    assert _lots_match_ledger(session, shop, bob)


def test_spending_more_than_the_balance_is_refused_and_changes_nothing(session, clock):
    shop = ShopFactory()
    carol = _customer(session, shop)
    _award(session, shop, carol, 50, "k", clock.now())
    session.commit()
    with pytest.raises(InsufficientFunds) as err:
        services.spend_points(
            session, shop_id=shop.id, customer_id=carol.id, points=51, order_id="ord_2", now=clock.now()
        )
    session.rollback()
    assert err.value.extra["balance"] == 50
    assert _balance(session, shop, carol) == 50 and _lots(session, carol)[0].remaining == 50
    assert _events(session, shop, "points.spent") == []


def test_expired_points_cannot_be_spent(session, clock):
    shop = ShopFactory(settings={"points_expiry_days": 10})
    dave = _customer(session, shop)
    _award(session, shop, dave, 40, "k", clock.now())
    session.commit()
    clock.advance(days=11)
    with pytest.raises(InsufficientFunds):
        services.spend_points(
            session, shop_id=shop.id, customer_id=dave.id, points=40, order_id="ord_3", now=clock.now()
        )


def test_refund_spent_points_gives_back_all_or_part_as_a_new_lot(session, clock):
    shop = ShopFactory()
    erin = _customer(session, shop)
    _award(session, shop, erin, 500, "k", clock.now())
    services.spend_points(session, shop_id=shop.id, customer_id=erin.id, points=300, order_id="ord_4", now=clock.now())
    assert services.refund_spent_points(session, shop_id=shop.id, order_id="ord_4", points=100, now=clock.now()) == 100
    with pytest.raises(NothingToRefund) as err:
        services.refund_spent_points(session, shop_id=shop.id, order_id="ord_4", points=201, now=clock.now())
    assert err.value.errors == {"points": ["At most 200."]}
    assert services.refund_spent_points(session, shop_id=shop.id, order_id="ord_4", now=clock.now()) == 200
    assert services.refund_spent_points(session, shop_id=shop.id, order_id="ord_4", now=clock.now()) == 0
    assert services.refund_spent_points(session, shop_id=shop.id, order_id="ord_none", now=clock.now()) == 0
    session.commit()
    assert _balance(session, shop, erin) == 500
    assert [lot.points for lot in _lots(session, erin)] == [500, 100, 200]
    assert len(_events(session, shop, "points.refunded")) == 2
    assert _lots_match_ledger(session, shop, erin)


def test_revoke_takes_at_most_the_balance_and_is_idempotent(session, clock):
    shop = ShopFactory()
    fay = _customer(session, shop)
    _award(session, shop, fay, 100, "k", clock.now())
    services.spend_points(session, shop_id=shop.id, customer_id=fay.id, points=70, order_id="ord_5", now=clock.now())
    kwargs = dict(shop_id=shop.id, customer_id=fay.id, points=50, reference="rfd_1", dedupe_key="rfd_1:revoke")
    assert services.revoke_points(session, **kwargs, now=clock.now()) == 30
    assert services.revoke_points(session, **kwargs, now=clock.now()) == 30
    session.commit()
    assert _balance(session, shop, fay) == 0
    assert len(_events(session, shop, "points.revoked")) == 1
    assert _lots_match_ledger(session, shop, fay)


def test_expiry_job_returns_expired_points_to_the_shop_and_is_safe_twice(session, clock):
    shop = ShopFactory(settings={"points_expiry_days": 30})
    gus = _customer(session, shop)
    _award(session, shop, gus, 100, "old", clock.now())
    clock.advance(days=20)
    _award(session, shop, gus, 60, "new", clock.now())
    services.spend_points(session, shop_id=shop.id, customer_id=gus.id, points=30, order_id="ord_6", now=clock.now())
    session.commit()
    clock.advance(days=11)  # the first lot (70 left) is now past its expiry, the second is not
    assert expire_points() == 70
    assert expire_points() == 0
    assert _balance(session, shop, gus) == 60
    (event,) = _events(session, shop, "points.expired")
    assert event.payload["points"] == 70 and event.payload["balance"] == 60
    kinds = session.scalars(sa.select(LedgerTransfer.kind).where(LedgerTransfer.shop_id == shop.id)).all()
    assert kinds.count("points.expire") == 1
    assert _lots_match_ledger(session, shop, gus)
    assert check_invariants(session) == []


# --- HTTP ------------------------------------------------------------------------------------------


def test_balance_history_and_expiring_soon_over_http(client, session, clock):
    shop = ShopFactory(settings={"points_expiry_days": 20})
    hal = _customer(session, shop)
    _award(session, shop, hal, 120, "k", clock.now())
    services.spend_points(session, shop_id=shop.id, customer_id=hal.id, points=20, order_id="ord_7", now=clock.now())
    session.commit()
    headers = token_for(shop, ["read_points"])
    body = client.get(f"/api/v1/customers/{hal.id}/points", headers=headers).get_json()
    assert body["balance"] == 100 and body["value"] == 100 and body["currency"] == "CNY"
    assert body["expiring_soon_total"] == 100 and body["expiring_soon"][0]["remaining"] == 100
    history = client.get(f"/api/v1/customers/{hal.id}/points/history?limit=1", headers=headers)
    assert history.status_code == 200 and "Link" in history.headers
    assert [(e["kind"], e["amount"]) for e in history.get_json()["items"]] == [("points.spend", -20)]


def test_adjustments_award_deduct_and_refuse_overdrafts(client, session):
    shop = ShopFactory()
    ivy = _customer(session, shop)
    headers = token_for(shop, ["write_points"])
    url = f"/api/v1/customers/{ivy.id}/points/adjustments"
    r = client.post(url, headers=headers, json={"points": 100, "reason": "Birthday gift"})
    assert r.status_code == 201 and r.get_json()["balance"] == 100
    r = client.post(url, headers=headers, json={"points": -40, "reason": "Correction"})
    assert r.status_code == 201 and r.get_json()["balance"] == 60
    events_before = session.scalar(sa.select(sa.func.count()).select_from(OutboxEvent))
    r = client.post(url, headers=headers, json={"points": -61, "reason": "Too much"})
    assert r.status_code == 422 and r.get_json()["type"].endswith("/insufficient-balance")
    for bad, field in [
        ({"points": 0, "reason": "x"}, "points"),
        ({"points": 1.5, "reason": "x"}, "points"),
        ({"points": 5}, "reason"),
        ({"points": 5, "reason": ""}, "reason"),
        ({"points": 5, "reason": "x", "extra": 1}, "extra"),
    ]:
        r = client.post(url, headers=headers, json=bad)
        assert r.status_code == 422 and field in r.get_json()["errors"], bad
    assert session.scalar(sa.select(sa.func.count()).select_from(OutboxEvent)) == events_before
    assert _balance(session, shop, ivy) == 60
    assert len(_lots(session, ivy)) == 1 and _lots_match_ledger(session, shop, ivy)


def test_adjustment_replayed_with_an_idempotency_key_applies_once(client, session):
    shop = ShopFactory()
    jo = _customer(session, shop)
    headers = {**token_for(shop, ["write_points"]), "Idempotency-Key": "adj-1"}
    url = f"/api/v1/customers/{jo.id}/points/adjustments"
    first = client.post(url, headers=headers, json={"points": 25, "reason": "Welcome"})
    again = client.post(url, headers=headers, json={"points": 25, "reason": "Welcome"})
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true" and again.get_json() == first.get_json()
    assert _balance(session, shop, jo) == 25


def test_another_shops_customer_is_not_found(client, session):
    shop, other = ShopFactory(), ShopFactory()
    theirs = _customer(session, other)
    headers = token_for(shop)
    for url in (f"/api/v1/customers/{theirs.id}/points", f"/api/v1/customers/{theirs.id}/points/history"):
        assert client.get(url, headers=headers).status_code == 404
    r = client.post(
        f"/api/v1/customers/{theirs.id}/points/adjustments", headers=headers, json={"points": 5, "reason": "x"}
    )
    assert r.status_code == 404 and r.get_json()["type"].endswith("/customer-not-found")
    assert _lots(session, theirs) == []
    assert (
        client.get(f"/api/v1/customers/{theirs.id}/points", headers=token_for(shop, ["read_shop"])).status_code == 403
    )


# --- concurrency -----------------------------------------------------------------------------------


@pytest.mark.concurrency
def test_parallel_spends_never_overdraw(app):
    """Ten checkouts spend 150 points each from one customer holding 1000: exactly six succeed."""
    now = dt.datetime(2026, 3, 2, tzinfo=dt.UTC)
    with app.app_context():
        shop = ShopFactory()
        customer = _customer(db.session, shop)
        _award(db.session, shop, customer, 600, "a", now)
        _award(db.session, shop, customer, 400, "b", now + dt.timedelta(days=1))
        db.session.commit()
        shop_id, customer_id = shop.id, customer.id
    spent, refused = [], []

    def checkout(n):
        try:
            services.spend_points(
                db.session, shop_id=shop_id, customer_id=customer_id, points=150, order_id=f"ord_p{n}", now=now
            )
            db.session.commit()
            spent.append(n)
        except InsufficientFunds:
            db.session.rollback()
            refused.append(n)

    race(*(partial(checkout, n) for n in range(10)), app=app)
    assert (len(spent), len(refused)) == (6, 4)
    with app.app_context():
        assert services.points_balance(db.session, shop_id=shop_id, customer_id=customer_id) == 100
        remaining = db.session.scalars(sa.select(PointsLot.remaining).where(PointsLot.customer_id == customer_id)).all()
        assert sum(remaining) == 100
        assert check_invariants(db.session) == []
        db.session.remove()
