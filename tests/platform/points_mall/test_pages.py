"""The points-mall pages (docs/architecture.md §14): items created and edited with cash in yuan, on and off
sale, redemptions cancelled once, and the buyer's mall redeeming and paying through a member link."""

from __future__ import annotations

import re

import sqlalchemy as sa

from factories import form_key
from souk_platform.auth.services import create_user
from souk_platform.db import db
from souk_platform.points_mall.models import MallItem, MallRedemption
from souk_platform.shops.services import add_staff

from .conftest import ledger_exact


def _log_in_owner(client, session, mall):
    owner = create_user(session, email="owner@mall.example", name="Olive", password="correct horse")
    add_staff(session, shop_id=mall.id, user=owner, role="owner")
    session.commit()
    assert client.post("/login", data={"email": "owner@mall.example", "password": "correct horse"}).status_code == 302


def _item(title):
    db.session.expire_all()
    return db.session.scalar(sa.select(MallItem).where(MallItem.title == title))


def test_an_item_is_created_in_yuan_edited_and_taken_off_sale(client, session, mall):
    _log_in_owner(client, session, mall)
    page = client.get(f"/shops/{mall.id}/points-mall/items/new").get_data(as_text=True)
    assert mall.sku in page and mall.coupon in page
    form = {
        "kind": "goods",
        "sku_id": mall.sku,
        "title": "龙井 250g",
        "points": "500",
        "cash": "19.9",
        "limit_period": "lifetime",
        "min_level": "3",
        "status": "on_sale",
        "sort": "0",
    }
    r = client.post(f"/shops/{mall.id}/points-mall/items/new", data=form)
    assert r.status_code == 302, r.get_data(as_text=True)
    item = _item("龙井 250g")
    assert (item.points, item.cash, item.min_level, item.status) == (500, 1990, 3, "on_sale")
    listed = client.get(f"/shops/{mall.id}/points-mall/items").get_data(as_text=True)
    assert "¥19.90" in listed and "V3+" in listed
    # a bad form keeps its words beside the field and writes nothing
    r = client.post(
        f"/shops/{mall.id}/points-mall/items/new", data={**form, "title": "券", "kind": "coupon", "coupon_id": ""}
    )
    assert r.status_code == 200 and "Required for a coupon item" in r.get_data(as_text=True)
    assert _item("券") is None
    edit = client.get(f"/shops/{mall.id}/points-mall/items/{item.id}/edit").get_data(as_text=True)
    assert 'value="19.90"' in edit
    r = client.post(
        f"/shops/{mall.id}/points-mall/items/{item.id}/edit",
        data={**form, "cash": "", "points": "450", "version": str(item.version)},
    )
    assert r.status_code == 302
    assert (_item("龙井 250g").points, _item("龙井 250g").cash) == (450, 0)
    stale = client.post(
        f"/shops/{mall.id}/points-mall/items/{item.id}/edit", data={**form, "version": str(item.version)}
    )
    assert stale.status_code == 200 and _item("龙井 250g").points == 450  # a stale form changes nothing
    r = client.post(f"/shops/{mall.id}/points-mall/items/{item.id}/status", data={"status": "off_sale"})
    assert r.status_code == 302 and _item("龙井 250g").status == "off_sale"


def test_a_member_redeems_and_pays_on_the_mall_page_and_the_shop_cancels_once(client, session, mall, api):
    points_only = api.item(title="龙井 小包", points=100)
    with_cash = api.item(kind="coupon", coupon_id=mall.coupon, title="10 元券", points=50, cash=500)
    api.item(title="草稿", status="draft")
    public = client.get(f"/mall/{mall.id}").get_data(as_text=True)
    assert "龙井 小包" in public and "草稿" not in public and "redeem-form" not in public
    _log_in_owner(client, session, mall)
    r = client.get(f"/shops/{mall.id}/points-mall/member-link?customer_id={mall.customer_id}")
    assert r.status_code == 302
    link = r.headers["Location"]
    page = client.get(link).get_data(as_text=True)
    assert "王小明" in page and "1000" in page
    token = re.search(r"as=([^&\"]+)", link).group(1)
    assert client.get(f"/mall/{mall.id}?as={token[:-2]}xx").get_data(as_text=True).count("redeem-form") == 0
    redeem = f"/mall/{mall.id}/items/{points_only['id']}/redeem?as={token}"
    once = {"form_key": form_key()}
    assert client.post(redeem, data=once).status_code == 302
    assert client.post(redeem, data=once).status_code == 302  # sent twice: redeemed once
    assert api.points() == 900
    assert (
        client.post(
            f"/mall/{mall.id}/items/{with_cash['id']}/redeem?as={token}", data={"form_key": form_key()}
        ).status_code
        == 302
    )
    db.session.expire_all()
    owed = db.session.scalar(sa.select(MallRedemption).where(MallRedemption.item_id == with_cash["id"]))
    assert owed.status == "pending_payment" and api.points() == 850
    page = client.get(link).get_data(as_text=True)
    assert "¥5.00" in page and "pay-form" in page
    r = client.post(f"/mall/{mall.id}/redemptions/{owed.id}/pay?as={token}", data={"form_key": form_key()})
    assert r.status_code == 302
    db.session.expire_all()
    assert db.session.get(MallRedemption, owed.id).status == "fulfilled"
    # another shop's link does not reach this mall's forms
    assert (
        client.post(f"/mall/{mall.id}/items/{points_only['id']}/redeem", data={"form_key": form_key()}).status_code
        == 404
    )

    listed = client.get(f"/shops/{mall.id}/points-mall/redemptions").get_data(as_text=True)
    assert "王小明" in listed and "cancel-form" in listed
    goods = db.session.scalar(sa.select(MallRedemption).where(MallRedemption.item_id == points_only["id"]))
    cancel = {"form_key": form_key()}
    url = f"/shops/{mall.id}/points-mall/redemptions/{goods.id}/cancel"
    assert client.post(url, data=cancel).status_code == 302
    assert client.post(url, data=cancel).status_code == 302  # done once
    db.session.expire_all()
    assert db.session.get(MallRedemption, goods.id).status == "cancelled"
    assert api.points() == 1000 - 100 - 50 + 5 + 100 and api.stock() == (10, 0)  # ¥5 paid earns 5 points
    ledger_exact()
