"""Refunds: partial and full, cash before stored value, points and cashback in proportion, restock."""

from __future__ import annotations

import sqlalchemy as sa

from souk_platform.db import db
from souk_platform.ledger.services import Leg, check_invariants, get_account, post_transfer
from souk_platform.shops.services import update_shop
from souk_platform.stored_value.models import CashbackSchedule


def _refund(flow, order_id, headers=None, **body):
    return flow.post(f"/orders/{order_id}/refunds", {"reason": "damaged", **body}, headers=headers)


def test_partial_line_refunds_then_the_rest(flow, world):
    order = flow.place([(world.tea, 2), (world.cup, 1)])  # 12000 cash
    flow.pay(order["id"])
    tea_line = next(line for line in order["lines"] if line["sku_id"] == world.tea)
    before = flow.balances()

    r = _refund(flow, order["id"], lines=[{"line_id": tea_line["id"], "quantity": 1}], restock=True)
    refund = r.get_json()
    assert r.status_code == 201, refund
    assert (refund["amount"], refund["stored_value_amount"]) == (5000, 0)
    assert refund["points_revoked"] == 50  # 5000 of 12000 refunded: 120 earned × 5/12
    assert flow.stock(world.tea) == (9, 0)  # 8 after the sale, one back
    detail = flow.get(f"/orders/{order['id']}").get_json()
    assert detail["refunded_total"] == 5000 and detail["status"] == "paid"
    assert next(line for line in detail["lines"] if line["id"] == tea_line["id"])["refunded_quantity"] == 1

    # the same line cannot be refunded beyond what is left of it
    r = _refund(flow, order["id"], lines=[{"line_id": tea_line["id"], "quantity": 2}])
    assert r.status_code == 422 and "lines.0.quantity" in r.get_json()["errors"]

    r = _refund(flow, order["id"])  # everything left
    assert r.status_code == 201 and r.get_json()["amount"] == 7000
    after = flow.balances()
    assert before["shop_balance"] - after["shop_balance"] == 12000
    assert before["points"] - after["points"] == 120
    detail = flow.get(f"/orders/{order['id']}").get_json()
    assert detail["refunded_total"] == 12000
    assert all(line["refunded_quantity"] == line["quantity"] for line in detail["lines"])
    assert len(detail["refunds"]) == 2
    assert flow.stock(world.cup) == (4, 0)  # not restocked: restock was not asked for
    assert check_invariants(db.session) == []


def test_over_refund_is_422_and_changes_nothing(flow, world):
    order = flow.place([(world.tea, 1)])
    flow.pay(order["id"])
    assert _refund(flow, order["id"], amount=3000).status_code == 201
    before = flow.snapshot()
    r = _refund(flow, order["id"], amount=2001)
    assert r.status_code == 422 and r.get_json()["type"].endswith("/over-refund")
    assert r.get_json()["refundable"] == 2000
    for body in ({"amount": 0}, {"amount": -5}, {"lines": []}, {"lines": [{"line_id": "oln_x", "quantity": 1}]}, {}):
        r = flow.post(f"/orders/{order['id']}/refunds", body)
        assert r.status_code == 422, (body, r.get_json())
    assert flow.snapshot() == before
    assert _refund(flow, order["id"], amount=2000).status_code == 201
    r = _refund(flow, order["id"], amount=1)
    assert r.status_code == 422 and r.get_json()["type"].endswith("/over-refund")


def test_refund_on_an_unpaid_order_is_409(flow, world):
    order = flow.place([(world.tea, 1)])
    before = flow.snapshot()
    r = _refund(flow, order["id"], amount=100)
    assert r.status_code == 409 and r.get_json()["type"].endswith("/invalid-state-transition")
    assert flow.snapshot() == before


def test_cash_first_then_stored_value_and_spent_points_back(flow, world):
    # 7000: 2000 stored value, 500 points, 4500 cash
    order = flow.place([(world.tea, 1), (world.cup, 1)], stored_value=2000, points=500)
    assert order["total"] == 4500
    flow.pay(order["id"])
    before = flow.balances()
    r = _refund(flow, order["id"], amount=5000)
    refund = r.get_json()
    assert r.status_code == 201
    assert (refund["amount"], refund["stored_value_amount"]) == (4500, 500)
    # 5000 of the 6500 paid in money: 500 × 50/65 of the spent points come back
    assert refund["points_returned"] == 384
    after = flow.balances()
    assert after["stored_value"] - before["stored_value"] == 500
    assert before["shop_balance"] - after["shop_balance"] == 4500
    r = _refund(flow, order["id"])
    assert (r.get_json()["amount"], r.get_json()["stored_value_amount"]) == (0, 1500)
    assert r.get_json()["points_returned"] == 116  # the rest of the 500
    assert check_invariants(db.session) == []


def test_idempotent_refund_replay(flow, world):
    order = flow.place([(world.tea, 1)])
    flow.pay(order["id"])
    key = {"Idempotency-Key": "refund-1"}
    first = _refund(flow, order["id"], headers=key, amount=1000)
    again = _refund(flow, order["id"], headers=key, amount=1000)
    assert first.get_json()["id"] == again.get_json()["id"]
    assert flow.get(f"/orders/{order['id']}").get_json()["refunded_total"] == 1000


def test_cashback_shrinks_with_refunds(flow, world, session):
    update_shop(session, shop_id=world.shop_id, changes={"settings": {"cashback_bp": 1000}}, expected_version=None)
    session.commit()
    order = flow.place([(world.tea, 2)])  # 10000 cash → 1000 cashback
    flow.pay(order["id"])
    assert flow.get(f"/orders/{order['id']}").get_json()["cashback_amount"] == 1000
    _refund(flow, order["id"], amount=2500)
    assert _cashback(order["id"]) == (750, "pending")
    _refund(flow, order["id"])
    assert _cashback(order["id"]) == (0, "cancelled")


def _cashback(order_id):
    db.session.expire_all()
    schedule = db.session.scalar(sa.select(CashbackSchedule).where(CashbackSchedule.order_id == order_id))
    return schedule.amount, schedule.status


def test_shop_balance_too_low_is_409_and_changes_nothing(flow, world, session):
    order = flow.place([(world.tea, 1)])
    flow.pay(order["id"])
    # the merchant has withdrawn almost everything
    balance = get_account(session, shop_id=world.shop_id, kind="shop.balance", owner_id=world.shop_id, unit="CNY")
    clearing = get_account(
        session, shop_id=world.shop_id, kind="platform.payments_clearing", owner_id="test-psp", unit="CNY"
    )
    post_transfer(
        session,
        shop_id=world.shop_id,
        kind="test.withdrawal",
        legs=[Leg(balance, -(balance.balance - 100)), Leg(clearing, balance.balance - 100)],
    )
    session.commit()
    before = flow.snapshot()
    r = _refund(flow, order["id"], amount=1000)
    assert r.status_code == 409 and r.get_json()["type"].endswith("/insufficient-shop-balance")
    assert flow.snapshot() == before
    assert flow.get(f"/orders/{order['id']}").get_json()["refunded_total"] == 0
