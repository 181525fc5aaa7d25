"""Claiming a public coupon (领券): window, limits, risk (review refuses like deny), replays, tenancy."""

from __future__ import annotations

import sqlalchemy as sa

from factories import ShopFactory, token_for
from souk_platform.coupons.models import CouponClaim, CustomerCoupon
from souk_platform.coupons.services import create_coupon
from souk_platform.db import db
from souk_platform.events.models import OutboxEvent
from souk_platform.shops.services import update_shop


def _coupon(session, shop_id, **fields):
    coupon = create_coupon(
        session,
        shop_id=shop_id,
        fields={"code": fields.pop("code", "GRAB5"), "name": "5 off", "kind": "fixed", "value": 500, **fields},
    )
    session.commit()
    return coupon.id


def _claim(api, coupon_id, customer=None, key="auto", **body):
    return api.post(f"/customers/{customer or api.customer}/coupons", {"coupon_id": coupon_id, **body}, key=key)


def _entries(shop_id):
    db.session.expire_all()
    return db.session.scalars(sa.select(CustomerCoupon).where(CustomerCoupon.shop_id == shop_id)).all()


def test_a_claim_puts_the_coupon_in_the_wallet_up_to_the_limit(api, session, clock):
    coupon_id = _coupon(session, api.shop_id, per_customer_limit=2, ends_at=clock.now().replace(day=9))
    r = _claim(api, coupon_id, ip="10.0.0.3")
    assert r.status_code == 201, r.get_json()
    entry = r.get_json()
    assert (entry["coupon_id"], entry["source"], entry["status"]) == (coupon_id, "claim", "issued")
    assert entry["expires_at"].startswith("2026-03-09")
    assert _claim(api, coupon_id).status_code == 201
    third = _claim(api, coupon_id)
    assert third.status_code == 409 and third.get_json()["reason"] == "per_customer_limit"
    wallet = api.get(f"/customers/{api.customer}/coupons").get_json()["items"]
    assert len(wallet) == 2
    claims = db.session.scalars(sa.select(CouponClaim).where(CouponClaim.shop_id == api.shop_id)).all()
    assert len(claims) == 2 and {c.entry_id for c in claims} == {e["id"] for e in wallet}
    issued = db.session.scalars(
        sa.select(OutboxEvent).where(OutboxEvent.shop_id == api.shop_id, OutboxEvent.type == "coupon.issued")
    ).all()
    assert len(issued) == 2
    assert {d.action for d in api.decisions()} == {"coupon_claim"}


def test_only_public_coupons_in_their_window_can_be_claimed(api, session, clock):
    issued = _coupon(session, api.shop_id, code="VIP", distribution="issued")
    later = _coupon(session, api.shop_id, code="LATER", starts_at=clock.now().replace(month=4))
    off = _coupon(session, api.shop_id, code="OFF", status="disabled")
    for coupon_id, reason in ((issued, "issued"), (later, "not_started"), (off, "disabled")):
        r = _claim(api, coupon_id)
        assert r.status_code == 409 and r.get_json()["reason"] == reason, r.get_json()
        assert r.get_json()["type"].endswith("/coupon-not-claimable")
    assert _claim(api, "cpn_nothing").status_code == 404
    assert _claim(api, issued, customer="cus_nobody").status_code == 404
    assert _claim(api, issued, key=None).status_code == 400
    assert _entries(api.shop_id) == [] and api.decisions() == []


def test_a_replayed_claim_returns_the_first_entry_once(api, session):
    coupon_id = _coupon(session, api.shop_id)
    first = _claim(api, coupon_id, key="claim-1")
    again = _claim(api, coupon_id, key="claim-1")
    assert again.status_code == 201 and again.get_json() == first.get_json()
    assert len(_entries(api.shop_id)) == 1


def test_risk_review_refuses_a_claim_and_keeps_the_decision(api, session):
    update_shop(
        session,
        shop_id=api.shop_id,
        changes={"settings": {"risk_device_customers_max": 1, "risk_device_customers_outcome": "review"}},
        expected_version=None,
    )
    session.commit()
    coupon_id = _coupon(session, api.shop_id)
    assert _claim(api, coupon_id, device_id="phone-1").status_code == 201
    r = _claim(api, coupon_id, customer=api.friend, device_id="phone-1")
    assert r.status_code == 422 and r.get_json()["rule"] == "device_many_customers"
    _allowed, refused = api.decisions()
    assert (refused.id, refused.outcome, refused.subject_type) == (r.get_json()["decision_id"], "deny", "coupon_claim")
    assert [e.customer_id for e in _entries(api.shop_id)] == [api.customer]


def test_another_shops_coupon_cannot_be_claimed(api, session, client):
    other = ShopFactory()
    headers = {**token_for(other), "Idempotency-Key": "x"}
    theirs = _coupon(session, other.id, code="THEIRS")
    assert _claim(api, theirs).status_code == 404
    r = client.post(f"/api/v1/customers/{api.customer}/coupons", json={"coupon_id": theirs}, headers=headers)
    assert r.status_code == 404
    assert _entries(api.shop_id) == []


def test_replaying_yesterdays_claims_keeps_a_review_as_a_refusal(api, session, clock):
    from souk_platform.risk.services import replay_thresholds
    from souk_platform.shops.services import get_shop

    update_shop(
        session,
        shop_id=api.shop_id,
        changes={"settings": {"risk_device_customers_max": 1, "risk_device_customers_outcome": "review"}},
        expected_version=None,
    )
    session.commit()
    coupon_id = _coupon(session, api.shop_id)
    _claim(api, coupon_id, device_id="phone-1")
    assert _claim(api, coupon_id, customer=api.friend, device_id="phone-1").status_code == 422
    start, end = clock.now().replace(hour=0), clock.now().replace(hour=23)
    same = replay_thresholds(
        session, shop=get_shop(session, api.shop_id), thresholds={"rules": []}, start=start, end=end
    )
    assert same["changed"] == 0  # the refused claim is still refused, not "now held"
    looser = {"rules": [{"rule": "device_many_customers", "threshold": 2}]}
    replayed = replay_thresholds(session, shop=get_shop(session, api.shop_id), thresholds=looser, start=start, end=end)
    assert replayed["changes"] == [{"before": "deny", "after": "allow", "count": 1}]
