"""The merchant's coupon pages: create with amounts in yuan, issue to a segment or a list, follow the
issue's progress and results, and see a customer's wallet."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from factories import ShopFactory, form_key
from souk_platform.auth.services import create_user
from souk_platform.coupons import issues
from souk_platform.coupons.models import Coupon, CouponIssue
from souk_platform.customers.models import Customer
from souk_platform.tags.services import create_segment, create_tag, tag_customers

NOW = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)


def _shop_with_owner(client, session):
    owner = create_user(session, email="owner@gift.example", name="Olive", password="correct horse")
    shop = ShopFactory(name="Gift Corner", owner=owner)
    session.commit()
    assert client.post("/login", data={"email": "owner@gift.example", "password": "correct horse"}).status_code == 302
    return shop


def _coupon_form(**fields):
    base = {
        "name": "会员专享 ¥15",
        "code": "vip15",
        "kind": "threshold",
        "value": "15",
        "min_spend": "99.5",
        "distribution": "issued",
        "valid_days": "30",
    }
    return {**base, **fields}


def test_a_coupon_is_created_with_amounts_typed_in_yuan(client, session):
    shop = _shop_with_owner(client, session)
    r = client.post(f"/shops/{shop.id}/coupons/new", data=_coupon_form())
    assert r.status_code == 302, r.get_data(as_text=True)
    coupon = session.scalars(sa.select(Coupon).where(Coupon.shop_id == shop.id)).one()
    assert (coupon.code, coupon.kind, coupon.value, coupon.min_spend) == ("VIP15", "threshold", 1500, 9950)
    assert (coupon.distribution, coupon.valid_days) == ("issued", 30)
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "Coupon created." in page and "¥15.00 off orders of ¥99.50 or more" in page
    listing = client.get(f"/shops/{shop.id}/coupons").get_data(as_text=True)
    assert "会员专享 ¥15" in listing and "Issued to customers" in listing
    r = client.post(f"/shops/{shop.id}/coupons/new", data=_coupon_form(kind="percent", value="10", code="NINE"))
    nine = session.scalars(sa.select(Coupon).where(Coupon.code == "NINE")).one()
    assert nine.value == 1000  # 10 % off, in basis points
    assert "10% off" in client.get(r.headers["Location"]).get_data(as_text=True)


def test_bad_coupon_forms_say_why_and_create_nothing(client, session):
    shop = _shop_with_owner(client, session)
    for bad, words in (
        ({"value": "1.234"}, "at most two decimals"),
        ({"value": "0"}, "more than 0"),
        ({"min_spend": "10"}, "minimum spend of at least its value"),
        ({"code": "no spaces"}, "Letters, digits"),
    ):
        r = client.post(f"/shops/{shop.id}/coupons/new", data=_coupon_form(**bad))
        assert r.status_code == 200 and words in r.get_data(as_text=True), (bad, r.get_data(as_text=True)[-3000:])
    assert session.scalar(sa.select(sa.func.count()).select_from(Coupon).where(Coupon.shop_id == shop.id)) == 0


def test_issuing_to_a_segment_shows_progress_results_and_wallets(client, session):
    shop = _shop_with_owner(client, session)
    li, wang, zhao = (Customer(shop_id=shop.id, name=n) for n in ("李娜", "王芳", "赵强"))
    session.add_all([li, wang, zhao])
    session.flush()
    tag = create_tag(session, shop_id=shop.id, name="VIP", now=NOW)
    tag_customers(session, shop_id=shop.id, tag_id=tag.id, customer_ids=[li.id, wang.id])
    segment = create_segment(
        session,
        shop_id=shop.id,
        name="VIP 会员",
        description=None,
        condition={"op": "and", "conditions": [{"field": "tag", "cmp": "has", "value": tag.id}]},
    )
    session.commit()
    r = client.post(f"/shops/{shop.id}/coupons/new", data=_coupon_form())
    coupon_page = r.headers["Location"]
    assert "VIP 会员" in client.get(coupon_page).get_data(as_text=True)  # the segment is offered
    r = client.post(coupon_page, data={"segment_id": "", "customer_ids": "", "form_key": form_key()})
    assert "Choose a segment or a snapshot, or list customer ids" in r.get_data(as_text=True)
    key = form_key()
    r = client.post(coupon_page, data={"segment_id": segment.id, "customer_ids": "", "form_key": key})
    assert r.status_code == 302
    again = client.post(coupon_page, data={"segment_id": segment.id, "customer_ids": "", "form_key": key})
    assert again.headers["Location"] == r.headers["Location"]  # a double click issues once
    issue = session.scalars(sa.select(CouponIssue).where(CouponIssue.shop_id == shop.id)).one()
    waiting = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "Waiting" in waiting and 'http-equiv="refresh"' in waiting
    issues.run_issue(session, issue_id=issue.id, now=NOW)
    done = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "2 / 2" in done and "issued 2" in done and "李娜" in done and 'http-equiv="refresh"' not in done
    wallet = client.get(f"/shops/{shop.id}/coupon-wallets/{li.id}").get_data(as_text=True)
    assert "会员专享 ¥15" in wallet and "Usable" in wallet
    empty = client.get(f"/shops/{shop.id}/coupon-wallets/{zhao.id}").get_data(as_text=True)
    assert "No coupons in this wallet yet." in empty
    other = ShopFactory()
    session.commit()
    assert client.get(f"/shops/{other.id}/coupons").status_code in (403, 404)
    assert client.get(f"/shops/{shop.id}/coupon-wallets/cus_nobody").status_code == 404
