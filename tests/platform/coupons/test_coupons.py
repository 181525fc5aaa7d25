from __future__ import annotations

import datetime as dt
import threading

import pytest
import sqlalchemy as sa

from factories import ShopFactory, token_for
from souk_platform.coupons import services
from souk_platform.coupons.errors import CouponNotApplicable, InvalidCoupon
from souk_platform.coupons.models import Coupon, CouponRedemption
from souk_platform.customers.models import Customer
from souk_platform.db import db
from souk_platform.events.models import OutboxEvent

NOW = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)


def _customer(session, shop, name="Zhang Wei"):
    customer = Customer(shop_id=shop.id, name=name)
    session.add(customer)
    session.commit()
    return customer


def _coupon(session, shop, **fields):
    base = {"code": "SAVE10", "name": "¥10 off", "kind": "fixed", "value": 1000}
    coupon = services.create_coupon(session, shop_id=shop.id, fields={**base, **fields})
    session.commit()
    return coupon


def _price(session, shop, subtotal, codes=(), customer_id=None, now=NOW):
    return services.price_discounts(
        session, shop_id=shop.id, customer_id=customer_id, subtotal=subtotal, codes=list(codes), now=now
    )


def _amounts(applied):
    return [(d.code, d.amount) for d in applied]


def test_each_kind_prices_as_its_name_says(session):
    shop = ShopFactory()
    _coupon(session, shop, code="FIXED", kind="fixed", value=1500)
    _coupon(session, shop, code="nine", name="9折", kind="percent", value=1000, max_discount=2000)
    _coupon(session, shop, code="MJ", name="满100减15", kind="threshold", value=1500, min_spend=10000)
    assert _amounts(_price(session, shop, 5000, ["fixed"])) == [("FIXED", 1500)]
    assert _amounts(_price(session, shop, 1000, ["FIXED"])) == [("FIXED", 1000)]  # never above the subtotal
    assert _amounts(_price(session, shop, 5000, [" Nine "])) == [("NINE", 500)]  # codes are case-insensitive
    assert _amounts(_price(session, shop, 50000, ["NINE"])) == [("NINE", 2000)]  # capped by max_discount
    assert _amounts(_price(session, shop, 10000, ["MJ"])) == [("MJ", 1500)]


def test_unusable_codes_are_422_naming_each_code_and_reason(session):
    shop = ShopFactory()
    _coupon(session, shop, code="MJ", kind="threshold", value=1500, min_spend=10000)
    _coupon(session, shop, code="OFF", status="disabled")
    _coupon(session, shop, code="OLD", ends_at=NOW)
    _coupon(session, shop, code="SOON", starts_at=NOW + dt.timedelta(days=1))
    _coupon(session, shop, code="OK")
    with pytest.raises(CouponNotApplicable) as err:
        _price(session, shop, 9999, ["OK", "NOPE", "MJ", "OFF", "OLD", "SOON", "ok"])
    errors = err.value.errors
    assert set(errors) == {f"coupon_codes.{i}" for i in range(1, 7)}
    assert "no coupon" in errors["coupon_codes.1"][0]
    assert "Spend at least 10000" in errors["coupon_codes.2"][0]
    assert "disabled" in errors["coupon_codes.3"][0]
    assert "expired" in errors["coupon_codes.4"][0]
    assert "valid from" in errors["coupon_codes.5"][0]
    assert "already applied" in errors["coupon_codes.6"][0]


def test_promotions_apply_automatically_and_stackable_discounts_add_up(session):
    shop = ShopFactory()
    _coupon(session, shop, code=None, name="满300减30", kind="threshold", value=3000, min_spend=30000, auto_apply=True)
    _coupon(session, shop, code="TEN", kind="fixed", value=1000)
    applied = _price(session, shop, 30000, ["TEN"])
    assert _amounts(applied) == [("TEN", 1000), (None, 3000)]
    assert applied[1].label == "满300减30"
    assert _amounts(_price(session, shop, 29999, ["TEN"])) == [("TEN", 1000)]  # promotion not eligible: silent


def test_a_non_stackable_coupon_is_used_alone_only_when_it_beats_the_stack(session):
    shop = ShopFactory()
    _coupon(session, shop, code="A", value=1000)
    _coupon(session, shop, code="B", value=1500)
    _coupon(session, shop, code="BIG", kind="percent", value=3000, stackable=False)  # 30 % off, alone
    assert _amounts(_price(session, shop, 10000, ["A", "B", "BIG"])) == [("BIG", 3000)]
    assert _amounts(_price(session, shop, 5000, ["A", "B", "BIG"])) == [("A", 1000), ("B", 1500)]
    assert _amounts(_price(session, shop, 1800, ["A", "B"])) == [("A", 1000), ("B", 800)]  # total ≤ subtotal


def test_limits_count_reserved_and_redeemed_redemptions(session):
    shop = ShopFactory()
    kim, lee = _customer(session, shop, "Kim"), _customer(session, shop, "Lee")
    once = _coupon(session, shop, code="ONCE", per_customer_limit=1)
    two = _coupon(session, shop, code="TWO", total_limit=2)
    for n, customer in enumerate((kim, lee)):
        applied = _price(session, shop, 5000, ["ONCE", "TWO"], customer_id=customer.id)
        services.reserve_redemptions(
            session, shop_id=shop.id, customer_id=customer.id, order_id=f"ord_{n}", applied=applied, now=NOW
        )
    session.commit()
    with pytest.raises(CouponNotApplicable) as err:
        _price(session, shop, 5000, ["ONCE", "TWO"], customer_id=kim.id)
    assert set(err.value.errors) == {"coupon_codes.0", "coupon_codes.1"}
    with pytest.raises(CouponNotApplicable) as err:
        _price(session, shop, 5000, ["ONCE"])  # a per-customer coupon needs a customer
    assert "needs a customer" in err.value.errors["coupon_codes.0"][0]
    # releasing an order's reservation frees its uses again
    assert services.release_redemptions(session, shop_id=shop.id, order_id="ord_0") == 2
    assert services.release_redemptions(session, shop_id=shop.id, order_id="ord_0") == 0
    assert _amounts(_price(session, shop, 5000, ["ONCE", "TWO"], customer_id=kim.id)) == [("ONCE", 1000), ("TWO", 1000)]
    assert (once.redeemed_count, two.redeemed_count) == (0, 0)


def test_reserve_is_idempotent_and_refuses_a_used_up_coupon(session):
    shop = ShopFactory()
    one = _coupon(session, shop, code="ONE", total_limit=1)
    applied = _price(session, shop, 5000, ["ONE"])
    services.reserve_redemptions(session, shop_id=shop.id, customer_id=None, order_id="ord_a", applied=applied, now=NOW)
    services.reserve_redemptions(session, shop_id=shop.id, customer_id=None, order_id="ord_a", applied=applied, now=NOW)
    with pytest.raises(CouponNotApplicable) as err:  # priced before the other checkout took the last use
        services.reserve_redemptions(
            session, shop_id=shop.id, customer_id=None, order_id="ord_b", applied=applied, now=NOW
        )
    assert "fully redeemed" in err.value.errors["coupon_codes"][0]
    count = sa.select(sa.func.count()).select_from(CouponRedemption).where(CouponRedemption.coupon_id == one.id)
    assert session.scalar(count) == 1


def test_confirm_redeems_once_and_emits_coupon_redeemed(session):
    shop = ShopFactory()
    kim = _customer(session, shop)
    coupon = _coupon(session, shop, code="PAY")
    applied = _price(session, shop, 5000, ["PAY"], customer_id=kim.id)
    services.reserve_redemptions(
        session, shop_id=shop.id, customer_id=kim.id, order_id="ord_p", applied=applied, now=NOW
    )
    assert services.confirm_redemptions(session, shop_id=shop.id, order_id="ord_p") == 1
    assert services.confirm_redemptions(session, shop_id=shop.id, order_id="ord_p") == 0
    assert services.release_redemptions(session, shop_id=shop.id, order_id="ord_p") == 0  # paid stays redeemed
    session.commit()
    assert coupon.redeemed_count == 1
    (redemption,) = session.scalars(sa.select(CouponRedemption).where(CouponRedemption.order_id == "ord_p"))
    assert redemption.status == "redeemed" and redemption.amount == 1000
    (event,) = session.scalars(
        sa.select(OutboxEvent).where(OutboxEvent.type == "coupon.redeemed", OutboxEvent.subject_id == coupon.id)
    )
    assert event.payload["redemption"]["order_id"] == "ord_p" and event.payload["redeemed_count"] == 1


def test_inconsistent_coupons_are_refused(session):
    shop = ShopFactory()
    cases = [
        ({"kind": "percent", "value": 10001}, "value"),
        ({"kind": "fixed", "max_discount": 100}, "max_discount"),
        ({"kind": "threshold", "value": 1500, "min_spend": 1000}, "min_spend"),
        ({"code": None}, "code"),
        ({"starts_at": NOW, "ends_at": NOW}, "ends_at"),
    ]
    for fields, field in cases:
        with pytest.raises(InvalidCoupon) as err:
            _coupon(session, shop, **fields)
        assert field in err.value.errors, fields
    assert session.scalar(sa.select(Coupon.id).where(Coupon.shop_id == shop.id)) is None


# --- HTTP ------------------------------------------------------------------------------------------


def test_coupon_crud_over_http(client, session):
    shop = ShopFactory()
    headers = token_for(shop, ["write_coupons"])
    r = client.post(
        "/api/v1/coupons",
        headers=headers,
        json={"code": "man100", "name": "满100减15", "kind": "threshold", "value": 1500, "min_spend": 10000},
    )
    assert r.status_code == 201, r.get_json()
    coupon = r.get_json()
    assert coupon["code"] == "MAN100" and coupon["status"] == "active" and coupon["version"] == 1
    dup = client.post(
        "/api/v1/coupons", headers=headers, json={"code": "MAN100", "name": "x", "kind": "fixed", "value": 1}
    )
    assert dup.status_code == 409 and dup.get_json()["errors"] == {"code": ["Taken."]}

    url = f"/api/v1/coupons/{coupon['id']}"
    etag = client.get(url, headers=headers).headers["ETag"]
    r = client.patch(url, headers={**headers, "If-Match": etag}, json={"status": "disabled"})
    assert r.status_code == 200 and r.get_json()["status"] == "disabled" and r.get_json()["version"] == 2
    stale = client.patch(url, headers={**headers, "If-Match": etag}, json={"name": "Stale"})
    assert stale.status_code == 412
    listed = client.get("/api/v1/coupons?status=disabled", headers=headers).get_json()["items"]
    assert [c["id"] for c in listed] == [coupon["id"]]
    types = session.scalars(sa.select(OutboxEvent.type).where(OutboxEvent.subject_id == coupon["id"])).all()
    assert sorted(types) == ["coupon.created", "coupon.updated"]

    assert client.delete(url, headers=headers).status_code == 204
    assert client.get(url, headers=headers).status_code == 404


def test_bad_coupon_bodies_are_422_and_change_nothing(client, session):
    shop = ShopFactory()
    shop_id = shop.id
    headers = token_for(shop, ["write_coupons"])
    good = {"code": "OK1", "name": "n", "kind": "fixed", "value": 100}
    cases = [
        ({**good, "kind": "bogo"}, "kind"),
        ({**good, "value": 0}, "value"),
        ({**good, "value": "100"}, "value"),
        ({**good, "code": "has space"}, "code"),
        ({**good, "name": ""}, "name"),
        ({**good, "starts_at": "2026-13-01T00:00:00Z"}, "starts_at"),
        ({**good, "total_limit": 0}, "total_limit"),
        ({**good, "surprise": 1}, "surprise"),
        ({**good, "kind": "percent", "value": 20000}, "value"),
        ({**good, "max_discount": 50}, "max_discount"),
    ]
    for body, field in cases:
        r = client.post("/api/v1/coupons", headers=headers, json=body)
        assert r.status_code == 422 and field in r.get_json()["errors"], (body, r.get_json())
    coupon = client.post("/api/v1/coupons", headers=headers, json=good).get_json()
    url = f"/api/v1/coupons/{coupon['id']}"
    for body, field in [({"code": "NEW"}, "code"), ({"kind": "percent"}, "kind"), ({"min_spend": -1}, "min_spend")]:
        r = client.patch(url, headers=headers, json=body)
        assert r.status_code == 422 and field in r.get_json()["errors"], body
    assert client.get(url, headers=headers).get_json()["version"] == 1
    assert session.scalar(sa.select(sa.func.count()).select_from(Coupon).where(Coupon.shop_id == shop_id)) == 1


def test_preview_shows_discounts_without_side_effects(client, session):
    shop = ShopFactory()
    kim = _customer(session, shop)
    _coupon(session, shop, code="NINE", name="9折", kind="percent", value=1000)
    _coupon(session, shop, code=None, name="Auto", kind="fixed", value=500, auto_apply=True)
    shop_id, kim_id = shop.id, kim.id
    headers = token_for(shop, ["read_coupons"])
    r = client.post(
        "/api/v1/coupons/preview", headers=headers, json={"customer_id": kim_id, "subtotal": 10000, "codes": ["nine"]}
    )
    assert r.status_code == 200
    body = r.get_json()
    assert [(d["label"], d["amount"]) for d in body["discounts"]] == [("9折", 1000), ("Auto", 500)]
    assert (body["total_discount"], body["payable"]) == (1500, 8500)
    bad = client.post("/api/v1/coupons/preview", headers=headers, json={"subtotal": 10000, "codes": ["NINE", "X"]})
    assert bad.status_code == 422 and list(bad.get_json()["errors"]) == ["coupon_codes.1"]
    assert bad.get_json()["type"].endswith("/coupon-not-applicable")
    for body, field in [({"subtotal": -1}, "subtotal"), ({"subtotal": 1, "codes": [""]}, "codes.0"), ({}, "subtotal")]:
        r = client.post("/api/v1/coupons/preview", headers=headers, json=body)
        assert r.status_code == 422 and field in r.get_json()["errors"], body
    r = client.post("/api/v1/coupons/preview", headers=headers, json={"customer_id": "cus_nope", "subtotal": 1})
    assert r.status_code == 404
    assert session.scalar(sa.select(CouponRedemption.id).where(CouponRedemption.shop_id == shop_id)) is None


def test_another_shops_coupons_are_invisible(client, session):
    shop, other = ShopFactory(), ShopFactory()
    theirs = _coupon(session, other, code="SECRET")
    theirs_id = theirs.id
    headers = token_for(shop)
    assert client.get(f"/api/v1/coupons/{theirs_id}", headers=headers).status_code == 404
    assert client.get(f"/api/v1/coupons/{theirs_id}/redemptions", headers=headers).status_code == 404
    assert client.patch(f"/api/v1/coupons/{theirs_id}", headers=headers, json={"name": "x"}).status_code == 404
    assert client.delete(f"/api/v1/coupons/{theirs_id}", headers=headers).status_code == 404
    assert client.get("/api/v1/coupons", headers=headers).get_json()["items"] == []
    r = client.post("/api/v1/coupons/preview", headers=headers, json={"subtotal": 5000, "codes": ["SECRET"]})
    assert r.status_code == 422
    assert session.get(Coupon, theirs_id).name == "¥10 off"


def test_a_used_coupon_cannot_be_deleted_and_lists_its_redemptions(client, session):
    shop = ShopFactory()
    coupon = _coupon(session, shop, code="USED")
    applied = _price(session, shop, 5000, ["USED"])
    services.reserve_redemptions(session, shop_id=shop.id, customer_id=None, order_id="ord_u", applied=applied, now=NOW)
    session.commit()
    coupon_id = coupon.id
    headers = token_for(shop)
    r = client.delete(f"/api/v1/coupons/{coupon_id}", headers=headers)
    assert r.status_code == 409 and r.get_json()["type"].endswith("/coupon-in-use")
    items = client.get(f"/api/v1/coupons/{coupon_id}/redemptions", headers=headers).get_json()["items"]
    assert [(i["order_id"], i["status"], i["amount"]) for i in items] == [("ord_u", "reserved", 1000)]


# --- concurrency -----------------------------------------------------------------------------------


@pytest.mark.concurrency
def test_parallel_reservations_never_exceed_the_total_limit(app):
    """Fifteen checkouts priced a coupon with total_limit 5 at the same time: exactly five get it."""
    with app.app_context():
        shop = ShopFactory()
        customers = [_customer(db.session, shop, f"c{n}") for n in range(15)]
        coupon = _coupon(db.session, shop, code="FIVE", total_limit=5)
        applied = _price(db.session, shop, 5000, ["FIVE"])
        shop_id, coupon_id, customer_ids = shop.id, coupon.id, [c.id for c in customers]
        db.session.remove()
    barrier = threading.Barrier(15)
    reserved, refused, crashed = [], [], []

    def checkout(n):
        with app.app_context():
            try:
                barrier.wait()
                services.reserve_redemptions(
                    db.session,
                    shop_id=shop_id,
                    customer_id=customer_ids[n],
                    order_id=f"ord_c{n}",
                    applied=applied,
                    now=NOW,
                )
                db.session.commit()
                reserved.append(n)
            except CouponNotApplicable:
                db.session.rollback()
                refused.append(n)
            except Exception as exc:  # surfaced below: a crashed thread must fail the test
                crashed.append(repr(exc))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=checkout, args=(n,)) for n in range(15)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert crashed == []
    assert (len(reserved), len(refused)) == (5, 10)
    with app.app_context():
        count = sa.select(sa.func.count()).select_from(CouponRedemption).where(CouponRedemption.coupon_id == coupon_id)
        assert db.session.scalar(count) == 5
        db.session.remove()
