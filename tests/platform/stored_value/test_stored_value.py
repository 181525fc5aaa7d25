from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from factories import ShopFactory, token_for
from souk_platform.core.errors import InsufficientFunds
from souk_platform.customers.models import Customer
from souk_platform.events.models import OutboxEvent
from souk_platform.ledger.models import LedgerTransfer
from souk_platform.ledger.services import balance_of, check_invariants
from souk_platform.points.errors import CustomerNotFound
from souk_platform.stored_value import services
from souk_platform.stored_value.errors import InvalidAmount, RefundExceedsSpent
from souk_platform.stored_value.models import CashbackSchedule
from souk_platform.stored_value.tasks import credit_due_cashback


def _customer(session, shop, name="Han Meimei"):
    customer = Customer(shop_id=shop.id, name=name)
    session.add(customer)
    session.commit()
    return customer


def _balance(session, shop, customer):
    return services.stored_value_balance(session, shop_id=shop.id, customer_id=customer.id)


def _events(session, shop, type):
    return session.scalars(sa.select(OutboxEvent).where(OutboxEvent.shop_id == shop.id, OutboxEvent.type == type)).all()


def _top_up(session, shop, customer, amount, key="t1"):
    return services.top_up(
        session, shop_id=shop.id, customer_id=customer.id, amount=amount, reference="till-1", dedupe_key=key
    )


def test_top_up_credits_the_customer_and_the_shops_takings_once(session):
    shop = ShopFactory()
    amy = _customer(session, shop)
    first = _top_up(session, shop, amy, 50_000)
    again = _top_up(session, shop, amy, 50_000)
    session.commit()
    assert first.id == again.id
    assert _balance(session, shop, amy) == 50_000
    takings = balance_of(session, shop_id=shop.id, kind="shop.balance", owner_id=shop.id, unit="CNY")
    assert takings == 50_000
    (event,) = _events(session, shop, "stored_value.topped_up")
    assert event.payload["balance"] == 50_000 and event.payload["amount"] == 50_000
    assert check_invariants(session) == []


def test_top_up_refuses_bad_amounts_and_foreign_customers(session):
    shop, other = ShopFactory(), ShopFactory()
    amy = _customer(session, shop)
    for bad in (0, -1, 10_000_001, True):
        with pytest.raises(InvalidAmount):
            _top_up(session, shop, amy, bad, key=f"bad{bad}")
    with pytest.raises(CustomerNotFound):
        _top_up(session, other, amy, 100)
    assert _balance(session, shop, amy) == 0


def test_spend_is_idempotent_per_order_and_refuses_overdrafts(session):
    shop = ShopFactory()
    ben = _customer(session, shop)
    _top_up(session, shop, ben, 10_000)
    kwargs = dict(shop_id=shop.id, customer_id=ben.id, amount=6_000, order_id="ord_1")
    services.spend_stored_value(session, **kwargs)
    services.spend_stored_value(session, **kwargs)
    session.commit()
    assert _balance(session, shop, ben) == 4_000
    with pytest.raises(InsufficientFunds):
        services.spend_stored_value(session, shop_id=shop.id, customer_id=ben.id, amount=4_001, order_id="ord_2")
    session.rollback()
    assert _balance(session, shop, ben) == 4_000
    assert len(_events(session, shop, "stored_value.spent")) == 1


def test_refunds_never_exceed_what_the_order_spent(session):
    shop = ShopFactory()
    cai = _customer(session, shop)
    _top_up(session, shop, cai, 10_000)
    services.spend_stored_value(session, shop_id=shop.id, customer_id=cai.id, amount=8_000, order_id="ord_3")
    refund = dict(shop_id=shop.id, customer_id=cai.id, order_id="ord_3")
    first = services.refund_stored_value(session, **refund, amount=5_000, refund_id="rfd_1")
    assert services.refund_stored_value(session, **refund, amount=5_000, refund_id="rfd_1").id == first.id
    with pytest.raises(RefundExceedsSpent) as err:
        services.refund_stored_value(session, **refund, amount=3_001, refund_id="rfd_2")
    assert err.value.errors == {"amount": ["At most 3000."]}
    services.refund_stored_value(session, **refund, amount=3_000, refund_id="rfd_2")
    session.commit()
    assert _balance(session, shop, cai) == 10_000
    assert len(_events(session, shop, "stored_value.refunded")) == 2
    assert check_invariants(session) == []


# --- cashback --------------------------------------------------------------------------------------


def test_default_cashback_is_the_shops_share_of_the_paid_amount():
    assert services.default_cashback_for_order(ShopFactory.build(settings={"cashback_bp": 250}), 10_000) == 250
    assert services.default_cashback_for_order(ShopFactory.build(settings={"cashback_bp": 0}), 10_000) == 0


def test_cashback_is_credited_after_the_refund_window_once(session, clock):
    shop = ShopFactory()
    dan = _customer(session, shop)
    due = clock.now() + dt.timedelta(days=7)
    kwargs = dict(shop_id=shop.id, customer_id=dan.id, order_id="ord_c1", amount=500, due_at=due)
    first = services.schedule_cashback(session, **kwargs)
    assert services.schedule_cashback(session, **kwargs).id == first.id
    assert services.schedule_cashback(session, **{**kwargs, "order_id": "ord_c2", "amount": 0}) is None
    session.commit()
    assert credit_due_cashback() == 0  # not due yet
    clock.advance(days=7)
    assert credit_due_cashback() == 1
    assert credit_due_cashback() == 0
    session.refresh(first)
    assert first.status == "credited" and first.credited_at == clock.now()
    assert _balance(session, shop, dan) == 500
    (event,) = _events(session, shop, "cashback.credited")
    assert event.payload["amount"] == 500 and event.payload["version"] == first.version
    kinds = session.scalars(sa.select(LedgerTransfer.kind).where(LedgerTransfer.shop_id == shop.id)).all()
    assert kinds == ["cashback.credit"]
    assert check_invariants(session) == []


def test_partial_refunds_reduce_and_full_refunds_cancel_pending_cashback(session, clock):
    shop = ShopFactory()
    eve = _customer(session, shop)
    due = clock.now() + dt.timedelta(days=7)
    schedule = services.schedule_cashback(
        session, shop_id=shop.id, customer_id=eve.id, order_id="ord_c3", amount=1_000, due_at=due
    )
    services.reduce_cashback(session, shop_id=shop.id, order_id="ord_c3", refunded_ratio_bp=2_500)
    assert schedule.amount == 750
    services.reduce_cashback(session, shop_id=shop.id, order_id="ord_c3", refunded_ratio_bp=2_500)
    assert schedule.amount == 750  # the ratio is the order's total refunded share: a repeat changes nothing
    services.reduce_cashback(session, shop_id=shop.id, order_id="ord_c3", new_amount=900)
    assert schedule.amount == 750  # cashback only shrinks
    services.cancel_cashback(session, shop_id=shop.id, order_id="ord_c3")
    services.cancel_cashback(session, shop_id=shop.id, order_id="ord_c3")
    assert services.reduce_cashback(session, shop_id=shop.id, order_id="ord_none", new_amount=0) is None
    session.commit()
    assert schedule.status == "cancelled"
    assert [e.type for e in _events(session, shop, "cashback.reduced")] == ["cashback.reduced"]
    assert len(_events(session, shop, "cashback.cancelled")) == 1
    clock.advance(days=8)
    assert credit_due_cashback() == 0
    assert _balance(session, shop, eve) == 0


# --- HTTP ------------------------------------------------------------------------------------------


def test_top_up_and_balance_over_http(client, session):
    shop = ShopFactory()
    fei = _customer(session, shop)
    headers = {**token_for(shop, ["write_stored_value"]), "Idempotency-Key": "till-42"}
    url = f"/api/v1/customers/{fei.id}/stored-value/top-ups"
    r = client.post(url, headers=headers, json={"amount": 20_000, "reference": "till-42"})
    assert r.status_code == 201 and r.get_json()["balance"] == 20_000
    replay = client.post(url, headers=headers, json={"amount": 20_000, "reference": "till-42"})
    assert replay.status_code == 201 and replay.headers["Idempotent-Replayed"] == "true"
    body = client.get(f"/api/v1/customers/{fei.id}/stored-value", headers=headers).get_json()
    assert body["balance"] == 20_000 and body["currency"] == "CNY"
    assert [(e["kind"], e["amount"]) for e in body["recent_entries"]] == [("stored_value.top_up", 20_000)]


def test_bad_top_ups_are_422_and_change_nothing(client, session):
    shop = ShopFactory()
    gao = _customer(session, shop)
    shop_id, customer_id = shop.id, gao.id  # the failing requests roll back and detach the objects
    headers = token_for(shop, ["write_stored_value"])
    url = f"/api/v1/customers/{customer_id}/stored-value/top-ups"
    for bad, field in [
        ({"amount": 0}, "amount"),
        ({"amount": 10_000_001}, "amount"),
        ({"amount": "100"}, "amount"),
        ({"amount": 12.5}, "amount"),
        ({}, "amount"),
        ({"amount": 100, "reference": ""}, "reference"),
        ({"amount": 100, "currency": "USD"}, "currency"),
    ]:
        r = client.post(url, headers=headers, json=bad)
        assert r.status_code == 422 and field in r.get_json()["errors"], bad
    assert services.stored_value_balance(session, shop_id=shop_id, customer_id=customer_id) == 0
    assert session.scalar(sa.select(OutboxEvent.id).where(OutboxEvent.shop_id == shop_id)) is None


def test_another_shops_customer_is_not_found_and_scopes_are_enforced(client, session, clock):
    shop, other = ShopFactory(), ShopFactory()
    theirs = _customer(session, other)
    mine = _customer(session, shop)
    other_id, theirs_id, mine_id = other.id, theirs.id, mine.id
    headers = token_for(shop)
    read_only = token_for(shop, ["read_stored_value"])
    assert client.get(f"/api/v1/customers/{theirs.id}/stored-value", headers=headers).status_code == 404
    assert client.get(f"/api/v1/customers/{theirs.id}/cashback", headers=headers).status_code == 404
    r = client.post(f"/api/v1/customers/{theirs.id}/stored-value/top-ups", headers=headers, json={"amount": 100})
    assert r.status_code == 404
    r = client.post(f"/api/v1/customers/{mine_id}/stored-value/top-ups", headers=read_only, json={"amount": 100})
    assert r.status_code == 403
    assert services.stored_value_balance(session, shop_id=other_id, customer_id=theirs_id) == 0


def test_cashback_list_over_http(client, session, clock):
    shop = ShopFactory()
    hu = _customer(session, shop)
    for n in range(3):
        services.schedule_cashback(
            session, shop_id=shop.id, customer_id=hu.id, order_id=f"ord_l{n}", amount=100 + n, due_at=clock.now()
        )
    session.commit()
    r = client.get(f"/api/v1/customers/{hu.id}/cashback?limit=2", headers=token_for(shop, ["read_stored_value"]))
    body = r.get_json()
    assert r.status_code == 200 and [c["amount"] for c in body["items"]] == [102, 101] and body["next_cursor"]
    assert session.scalar(sa.select(sa.func.count()).select_from(CashbackSchedule)) >= 3
