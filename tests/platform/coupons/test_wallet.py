"""The coupon wallet's services: issuing (idempotent, within limits), expiry, revoking, and the wallet API."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from factories import ShopFactory, token_for
from souk_platform.coupons import services, wallet
from souk_platform.coupons.errors import CouponNotApplicable, CouponNotFound, CouponNotIssuable, InvalidCoupon
from souk_platform.coupons.models import Coupon, CustomerCoupon
from souk_platform.customers.models import Customer
from souk_platform.events.models import OutboxEvent
from souk_platform.points.errors import CustomerNotFound

NOW = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)


def _customer(session, shop, name="Li Na"):
    customer = Customer(shop_id=shop.id, name=name)
    session.add(customer)
    session.commit()
    return customer


def _issued(session, shop, **fields):
    base = {"code": "VIP20", "name": "VIP ¥20", "kind": "fixed", "value": 2000, "distribution": "issued"}
    coupon = services.create_coupon(session, shop_id=shop.id, fields={**base, **fields})
    session.commit()
    return coupon


def _issue(session, shop, coupon, customer, source_id="i1", now=NOW, source="api"):
    return wallet.issue_coupon(
        session,
        shop_id=shop.id,
        coupon_id=coupon.id,
        customer_id=customer.id,
        source=source,
        source_id=source_id,
        now=now,
    )


def _events(session, type):
    return session.scalars(sa.select(OutboxEvent).where(OutboxEvent.type == type)).all()


def test_issuing_is_idempotent_per_source_and_emits_coupon_issued(session):
    shop = ShopFactory()
    li = _customer(session, shop)
    coupon = _issued(session, shop, valid_days=7, ends_at=NOW + dt.timedelta(days=30))
    first = _issue(session, shop, coupon, li)
    again = _issue(session, shop, coupon, li)
    other = _issue(session, shop, coupon, li, source_id="i2")
    session.commit()
    assert again.id == first.id and other.id != first.id
    assert first.status == "issued" and first.expires_at == NOW + dt.timedelta(days=7)
    assert session.get(Coupon, coupon.id).issued_count == 2
    issued = _events(session, "coupon.issued")
    assert sorted(e.subject_id for e in issued) == sorted([first.id, other.id])
    assert issued[0].payload["customer_id"] == li.id and issued[0].payload["coupon_id"] == coupon.id


def test_expiry_is_the_earlier_of_valid_days_and_the_coupons_end(session):
    shop = ShopFactory()
    li = _customer(session, shop)
    coupon = _issued(session, shop, valid_days=30, ends_at=NOW + dt.timedelta(days=3))
    assert _issue(session, shop, coupon, li).expires_at == NOW + dt.timedelta(days=3)
    forever = _issued(session, shop, code="FOREVER")
    assert _issue(session, shop, forever, li).expires_at is None


def test_issuing_respects_the_per_customer_and_total_limits(session):
    shop = ShopFactory()
    li, wang, zhao = (_customer(session, shop, n) for n in ("Li", "Wang", "Zhao"))
    coupon = _issued(session, shop, per_customer_limit=1, total_limit=2)
    _issue(session, shop, coupon, li, "a")
    with pytest.raises(CouponNotIssuable, match="already holds 1"):
        _issue(session, shop, coupon, li, "b")
    _issue(session, shop, coupon, wang, "a")
    with pytest.raises(CouponNotIssuable, match="All 2"):
        _issue(session, shop, coupon, zhao, "a")
    assert _issue(session, shop, coupon, li, "a").status == "issued"  # a replay is not a new issue
    # A revoked entry stops counting: the total has room again.
    assert wallet.revoke_entries(session, shop_id=shop.id, source="api", source_id="a", now=NOW) == 2
    session.expire_all()
    assert session.get(Coupon, coupon.id).issued_count == 0
    assert _issue(session, shop, coupon, zhao, "a").status == "issued"
    assert [e.subject_id for e in _events(session, "coupon.revoked")]


def test_only_active_issued_coupons_of_the_shop_go_into_wallets(session):
    shop, other_shop = ShopFactory(), ShopFactory()
    li = _customer(session, shop)
    public = services.create_coupon(
        session, shop_id=shop.id, fields={"code": "PUB", "name": "public", "kind": "fixed", "value": 100}
    )
    off = _issued(session, shop, code="OFF", status="disabled")
    over = _issued(session, shop, code="OVER", ends_at=NOW)
    for coupon, words in ((public, "public code"), (off, "disabled"), (over, "ended")):
        with pytest.raises(CouponNotIssuable, match=words):
            _issue(session, shop, coupon, li)
    theirs = _issued(session, other_shop, code="THEIRS")
    with pytest.raises(CouponNotFound):
        _issue(session, shop, theirs, li)
    stranger = _customer(session, other_shop, "Stranger")
    with pytest.raises(CustomerNotFound):
        _issue(session, shop, _issued(session, shop, code="MINE"), stranger)
    in_either_shop = CustomerCoupon.shop_id.in_([shop.id, other_shop.id])
    assert session.scalar(sa.select(sa.func.count()).select_from(CustomerCoupon).where(in_either_shop)) == 0


def test_issued_coupon_settings_are_checked(session):
    shop = ShopFactory()
    with pytest.raises(InvalidCoupon) as err:
        _issued(session, shop, code=None, auto_apply=True)
    assert "auto_apply" in err.value.errors
    with pytest.raises(InvalidCoupon) as err:
        services.create_coupon(
            session,
            shop_id=shop.id,
            fields={"code": "P", "name": "p", "kind": "fixed", "value": 1, "valid_days": 3},
        )
    assert "valid_days" in err.value.errors


def test_an_issued_code_prices_only_for_a_holder(session):
    shop = ShopFactory()
    li, wang = _customer(session, shop, "Li"), _customer(session, shop, "Wang")
    coupon = _issued(session, shop, valid_days=1)
    _issue(session, shop, coupon, li)

    def price(customer_id, now=NOW):
        return services.price_discounts(
            session, shop_id=shop.id, customer_id=customer_id, subtotal=5000, codes=["vip20"], now=now
        )

    assert [(d.code, d.amount) for d in price(li.id)] == [("VIP20", 2000)]
    for customer_id, words in ((wang.id, "holds no unused one"), (None, "needs the customer")):
        with pytest.raises(CouponNotApplicable) as err:
            price(customer_id)
        assert words in err.value.errors["coupon_codes.0"][0]
    with pytest.raises(CouponNotApplicable):  # the entry expired a day after issue
        price(li.id, NOW + dt.timedelta(days=1))


def test_the_expiry_job_expires_issued_entries_once(session):
    shop = ShopFactory()
    li = _customer(session, shop)
    coupon = _issued(session, shop, valid_days=2)
    soon = _issue(session, shop, coupon, li, "a")
    later = _issue(session, shop, coupon, li, "b", now=NOW + dt.timedelta(days=1))
    session.commit()
    assert wallet.expire_entries(session, now=NOW + dt.timedelta(days=1)) == 0
    assert wallet.expire_entries(session, now=NOW + dt.timedelta(days=2)) == 1
    assert wallet.expire_entries(session, now=NOW + dt.timedelta(days=2)) == 0  # twice: nothing more
    session.commit()
    session.expire_all()
    assert (soon.status, later.status) == ("expired", "issued")
    assert soon.ended_at == NOW + dt.timedelta(days=2)
    assert [e.subject_id for e in _events(session, "coupon.expired")] == [soon.id]


def test_the_wallet_api_lists_a_customers_coupons_by_status(client, session):
    shop, other_shop = ShopFactory(), ShopFactory()
    li = _customer(session, shop)
    coupon = _issued(session, shop, valid_days=1)
    old = _issue(session, shop, coupon, li, "a")
    fresh = _issue(session, shop, coupon, li, "b", now=NOW + dt.timedelta(days=2))
    wallet.expire_entries(session, now=NOW + dt.timedelta(days=2))
    session.commit()
    headers = token_for(shop, ["read_coupons"])
    r = client.get(f"/api/v1/customers/{li.id}/coupons", headers=headers)
    assert r.status_code == 200, r.get_json()
    items = r.get_json()["items"]
    assert [(i["id"], i["status"]) for i in items] == [(fresh.id, "issued"), (old.id, "expired")]
    assert items[0]["coupon"] == {
        "id": coupon.id,
        "code": "VIP20",
        "name": "VIP ¥20",
        "kind": "fixed",
        "value": 2000,
        "min_spend": 0,
        "max_discount": None,
    }
    assert items[0]["source"] == "api" and items[0]["source_id"] == "b"
    r = client.get(f"/api/v1/customers/{li.id}/coupons?status=expired&limit=1", headers=headers)
    assert [i["id"] for i in r.get_json()["items"]] == [old.id]
    r = client.get(f"/api/v1/customers/{li.id}/coupons?status=lost", headers=headers)
    assert r.status_code == 422 and "query.status" in r.get_json()["errors"]
    r = client.get(f"/api/v1/customers/{li.id}/coupons", headers=token_for(other_shop))
    assert r.status_code == 404
    r = client.get(f"/api/v1/customers/{li.id}/coupons", headers=token_for(shop, ["read_customers"]))
    assert r.status_code == 403


def test_issuing_many_at_once_keeps_the_rules_of_issuing_one_by_one_in_order(session):
    """``issue_coupons`` gives, grant by grant, what ``issue_coupon`` would have given or refused in that order."""
    shop, other_shop = ShopFactory(), ShopFactory()
    li, wang, zhao = (_customer(session, shop, n) for n in ("Li", "Wang", "Zhao"))
    stranger = _customer(session, other_shop, "Stranger")
    grants = [(li, "a"), (li, "b"), (wang, "a"), (zhao, "a"), (li, "a"), (stranger, "a")]
    one_by_one = _issued(session, shop, code="ONE", per_customer_limit=1, total_limit=2)
    expected = []
    for customer, key in grants:
        try:
            expected.append(_issue(session, shop, one_by_one, customer, key).customer_id)
        except (CouponNotIssuable, CustomerNotFound) as refusal:
            expected.append(type(refusal).__name__ + ":" + refusal.detail)
    batch = _issued(session, shop, code="MANY", per_customer_limit=1, total_limit=2)
    results = wallet.issue_coupons(
        session,
        shop_id=shop.id,
        coupon_id=batch.id,
        grants=[wallet.CouponGrant(customer.id, key) for customer, key in grants],
        source="api",
        now=NOW,
    )
    session.commit()
    got = [r.customer_id if isinstance(r, CustomerCoupon) else type(r).__name__ + ":" + r.detail for r in results]
    assert got == expected
    assert got[1].startswith("CouponNotIssuable:") and "already holds 1" in got[1]
    assert got[3].startswith("CouponNotIssuable:") and "All 2" in got[3]
    assert got[5].startswith("CustomerNotFound:")
    assert results[4] is results[0]  # the same key twice: one entry
    assert session.get(Coupon, batch.id).issued_count == 2
    entries = session.scalars(sa.select(CustomerCoupon).where(CustomerCoupon.coupon_id == batch.id)).all()
    assert sorted(e.customer_id for e in entries) == sorted([li.id, wang.id])
    issued = [e for e in _events(session, "coupon.issued") if e.payload["coupon_id"] == batch.id]
    assert sorted(e.subject_id for e in issued) == sorted(e.id for e in entries)
    # A replay of the whole batch issues nothing new.
    again = wallet.issue_coupons(
        session,
        shop_id=shop.id,
        coupon_id=batch.id,
        grants=[wallet.CouponGrant(li.id, "a"), wallet.CouponGrant(wang.id, "a")],
        source="api",
        now=NOW,
    )
    assert [e.id for e in again] == [results[0].id, results[2].id]
    assert session.get(Coupon, batch.id).issued_count == 2
