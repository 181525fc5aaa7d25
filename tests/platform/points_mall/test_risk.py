"""Risk control on redemptions (docs/architecture.md §5.13, §5.14): a denial is recorded and writes nothing
else, a review holds the redemption, and a 羊毛党 script — one account, rotating IPs, dense redemptions — is
stopped while ordinary members redeem normally."""

from __future__ import annotations

import sqlalchemy as sa

from souk_platform.customers.services import create_customer
from souk_platform.db import db
from souk_platform.events.models import OutboxEvent
from souk_platform.orders.models import Order
from souk_platform.points.services import award_points
from souk_platform.risk.models import RiskDecision, RiskReview
from souk_platform.shops.services import update_shop

from .conftest import ledger_exact


def _settings(session, shop_id, **settings):
    update_shop(session, shop_id=shop_id, changes={"settings": settings}, expected_version=None)
    session.commit()


def _decisions(shop_id, **where):
    db.session.expire_all()
    stmt = sa.select(RiskDecision).where(RiskDecision.shop_id == shop_id, RiskDecision.action == "redemption")
    for name, value in where.items():
        stmt = stmt.where(getattr(RiskDecision, name) == value)
    return list(db.session.scalars(stmt.order_by(RiskDecision.id)))


def test_a_denied_redemption_keeps_its_decision_and_nothing_else(api, mall, session):
    _settings(session, mall.id, risk_customer_orders_max=1)
    item = api.item(points=100)
    first = api.redeem(item["id"], ip="10.0.0.1")
    assert first.status_code == 201
    before = api.snapshot()
    r = api.redeem(item["id"], ip="10.0.0.1")
    assert r.status_code == 422, r.get_json()
    body = r.get_json()
    assert body["type"].endswith("/redemption-rejected") and body["rule"] == "customer_dense_orders"
    assert api.snapshot() == before  # no order, redemption, stock, units or points moved
    allowed, denied = _decisions(mall.id)
    assert (allowed.outcome, allowed.subject_type, allowed.subject_id) == (
        "allow",
        "redemption",
        first.get_json()["id"],
    )
    assert denied.id == body["decision_id"] and denied.outcome == "deny" and denied.rules[0]["seen"] == 2
    assert denied.inputs["stats"]["customer_dense_orders"] == 2 and denied.ip == "10.0.0.1"
    events = db.session.scalars(
        sa.select(OutboxEvent.subject_id).where(OutboxEvent.shop_id == mall.id, OutboxEvent.type == "risk.decided")
    ).all()
    assert events == [denied.id]
    # the decisions API shows it under its action
    listed = api.get("/risk/decisions?action=redemption&outcome=deny").get_json()["items"]
    assert [d["id"] for d in listed] == [denied.id]


def test_a_reviewed_redemption_is_held_and_rejecting_it_gives_everything_back(api, mall, session):
    _settings(session, mall.id, risk_device_customers_max=1)  # the device rule reviews by default
    item = api.item(points=100)
    assert api.redeem(item["id"], customer_id=mall.vip_id, device_id="shared-phone").status_code == 201
    r = api.redeem(item["id"], device_id="shared-phone")
    assert r.status_code == 201, r.get_json()
    held = r.get_json()
    assert held["status"] == "in_review" and api.points() == 900 and api.stock() == (9, 1)
    order = db.session.get(Order, held["order_id"])
    assert order.status == "in_review" and order.channel == "points_mall"
    assert api.post(f"/orders/{held['order_id']}/payments", key="pay").status_code == 409  # not before approval
    review = db.session.scalar(sa.select(RiskReview).where(RiskReview.order_id == held["order_id"]))
    assert review.action == "redemption" and review.decision_id == held["risk_decision_id"]
    r = api.post(f"/risk/reviews/{review.id}/reject", {}, key="reject")
    assert r.status_code == 200, r.get_json()
    assert api.get(f"/points-mall/redemptions/{held['id']}").get_json()["status"] == "cancelled"
    assert api.points() == 1000 and api.stock() == (9, 0)
    db.session.expire_all()
    assert db.session.get(Order, held["order_id"]).status == "cancelled"
    ledger_exact()


def test_an_approved_redemption_without_cash_is_paid_and_fulfilled_at_once(api, mall, session):
    _settings(session, mall.id, risk_device_customers_max=1)
    item = api.item(kind="coupon", coupon_id=mall.coupon, title="券", points=50)
    api.redeem(item["id"], customer_id=mall.vip_id, device_id="shared-phone")
    held = api.redeem(item["id"], device_id="shared-phone").get_json()
    assert held["status"] == "in_review" and held["fulfilment"] == {}
    review_id = db.session.scalar(sa.select(RiskReview.id).where(RiskReview.order_id == held["order_id"]))
    assert api.post(f"/risk/reviews/{review_id}/approve", {}, key="approve").status_code == 200
    after = api.get(f"/points-mall/redemptions/{held['id']}").get_json()
    assert after["status"] == "fulfilled" and len(after["fulfilment"]["wallet_coupon_ids"]) == 1
    assert db.session.get(Order, held["order_id"]).status == "paid"
    third = api.redeem(item["id"], customer_id=mall.vip_id, device_id="other-phone")
    assert third.status_code == 201 and third.get_json()["status"] == "fulfilled"
    ledger_exact()


def test_cancelling_a_held_redemption_closes_its_review(api, mall, session):
    _settings(session, mall.id, risk_device_customers_max=1)
    item = api.item(points=100)
    api.redeem(item["id"], customer_id=mall.vip_id, device_id="shared-phone")
    held = api.redeem(item["id"], device_id="shared-phone").get_json()
    r = api.post(f"/points-mall/redemptions/{held['id']}/cancel", {"reason": "customer asked"}, key="cancel")
    assert r.status_code == 200 and r.get_json()["status"] == "cancelled", r.get_json()
    review = db.session.scalar(sa.select(RiskReview).where(RiskReview.order_id == held["order_id"]))
    assert review.status == "rejected" and review.note == "customer asked"
    assert api.points() == 1000
    ledger_exact()


def test_the_wool_party_script_is_stopped_while_members_redeem_normally(api, mall, session, clock):
    """羊毛党: one account, a new IP for every try, a redemption a minute. The shop's default rules (more than
    10 IPs for one customer within an hour is denied) stop it at the 11th; five ordinary members, each on
    their own phone and IP, redeem meanwhile as usual."""
    item = api.item(kind="coupon", coupon_id=mall.coupon, title="10 元券", points=20, stock=500)
    wool = create_customer(session, shop_id=mall.id, name="羊毛", phone="13900009999")
    members = [create_customer(session, shop_id=mall.id, name=f"会员{i}", phone=f"1370000000{i}") for i in range(5)]
    session.flush()
    for who in (wool, *members):
        award_points(
            session,
            shop_id=mall.id,
            customer_id=who.id,
            points=2000,
            reason="campaign",
            reference=None,
            dedupe_key=f"campaign:{who.id}",
            now=clock.now(),
        )
    session.commit()
    codes: dict[str, list[int]] = {"wool": [], "members": []}
    for attempt in range(30):
        r = api.redeem(
            item["id"], wool.id, ip=f"10.66.{attempt // 250}.{attempt % 250 + 1}", device_id=f"emu-{attempt}"
        )
        codes["wool"].append(r.status_code)
        if r.status_code == 422:
            assert r.get_json()["rule"] == "customer_many_ips", r.get_json()
        if attempt % 6 == 0:
            member = members[attempt // 6]
            r = api.redeem(item["id"], member.id, ip=f"192.168.1.{attempt + 1}", device_id=f"phone-{member.id}")
            codes["members"].append(r.status_code)
        clock.advance(minutes=1)
    assert codes["wool"] == [201] * 10 + [422] * 20
    assert codes["members"] == [201] * 5
    denied = _decisions(mall.id, customer_id=wool.id, outcome="deny")
    assert len(denied) == 20 and {d.rules[0]["rule"] for d in denied} == {"customer_many_ips"}
    assert api.points(wool.id) == 2000 - 10 * 20
    assert all(api.points(m.id) == 2000 - 20 for m in members)
    assert api.get(f"/points-mall/items/{item['id']}").get_json()["redeemed"] == 15
    ledger_exact()
