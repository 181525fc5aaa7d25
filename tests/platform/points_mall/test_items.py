"""Points-mall items (docs/architecture.md §5.14): each kind, bad input refused with nothing written, cursor
lists with filters, If-Match edits, the item_updated event and tenancy."""

from __future__ import annotations

import sqlalchemy as sa

from factories import ShopFactory, token_for
from souk_platform.coupons.services import create_coupon
from souk_platform.db import db
from souk_platform.events.models import OutboxEvent
from souk_platform.points_mall.models import MallItem


def _items(shop_id):
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count()).select_from(MallItem).where(MallItem.shop_id == shop_id))


def test_each_kind_of_item_is_created_with_what_it_gives(api, mall):
    goods = api.item(cash=1990)
    assert (goods["kind"], goods["sku_id"], goods["cash"], goods["stock"], goods["currency"]) == (
        "goods",
        mall.sku,
        1990,
        None,
        "CNY",
    )
    coupon = api.item(kind="coupon", coupon_id=mall.coupon, title="10 元券", points=50, stock=100)
    package = api.item(kind="benefit_package", package_id=mall.package, title="兑换礼", points=20)
    assert coupon["stock"] == 100 and coupon["redeemed"] == 0 and package["package_id"] == mall.package
    assert goods["status"] == "on_sale" and goods["limit_period"] == "lifetime" and goods["version"] == 1
    events = db.session.scalars(
        sa.select(OutboxEvent.subject_id).where(
            OutboxEvent.shop_id == mall.id, OutboxEvent.type == "points_mall.item_updated"
        )
    ).all()
    assert sorted(events) == sorted([goods["id"], coupon["id"], package["id"]])


def test_bad_items_are_refused_naming_the_field_and_nothing_is_written(api, mall, session):
    public = create_coupon(
        session,
        shop_id=mall.id,
        fields={"code": "OPEN5", "name": "5 off", "kind": "fixed", "value": 500},
    )
    session.commit()
    good_sku = api.item()["sku_id"]
    before = _items(mall.id)
    cases = [
        ({"sku_id": "sku_nothing"}, 422, "sku_id"),
        ({"kind": "coupon", "coupon_id": public.id}, 422, "coupon_id"),
        ({"kind": "coupon"}, 422, "coupon_id"),
        ({"kind": "benefit_package", "package_id": "bpk_nothing"}, 422, "package_id"),
        ({"kind": "app", "installation_id": "ins_nothing", "app_item_code": "VIP"}, 422, "installation_id"),
        ({"stock": 5}, 422, "stock"),  # goods use the SKU's stock
        ({"coupon_id": mall.coupon}, 422, "coupon_id"),  # not for goods
        ({"points": 0}, 422, "points"),
        ({"cash": -1}, 422, "cash"),
        ({"min_level": 6}, 422, "min_level"),
        ({"limit_period": "year"}, 422, "limit_period"),
        ({"starts_at": "2026-12-10T00:00:00Z", "ends_at": "2026-12-09T00:00:00Z"}, 422, "ends_at"),
        ({"kind": "lottery"}, 422, "kind"),
        ({"colour": "red"}, 422, "colour"),
    ]
    for fields, status, field in cases:
        body = {"sku_id": good_sku, **fields} if "kind" not in fields else fields
        problem = api.item(status, **body)
        assert problem["type"].endswith(("/invalid-points-mall-item", "/validation-failed")), problem
        assert field in str(problem.get("errors")), (fields, problem)
    assert _items(mall.id) == before
    r = api.client.post(
        "/api/v1/points-mall/items", data="{", headers={**mall.headers, "Content-Type": "application/json"}
    )
    assert r.status_code == 400


def test_items_list_by_cursor_and_filter_by_status_and_kind(api, mall):
    made = [api.item(title=f"茶 {i}", status="on_sale" if i % 2 else "draft") for i in range(5)]
    api.item(kind="coupon", coupon_id=mall.coupon, title="券")
    page = api.get("/points-mall/items?limit=2").get_json()
    assert len(page["items"]) == 2 and page["next_cursor"]
    rest = api.get(f"/points-mall/items?limit=10&cursor={page['next_cursor']}").get_json()
    assert len(page["items"]) + len(rest["items"]) == 6
    drafts = api.get("/points-mall/items?status=draft").get_json()["items"]
    assert sorted(i["id"] for i in drafts) == sorted(m["id"] for m in made if m["status"] == "draft")
    assert [i["kind"] for i in api.get("/points-mall/items?kind=coupon").get_json()["items"]] == ["coupon"]
    assert api.get("/points-mall/items?kind=lottery").status_code == 422


def test_edits_need_the_current_version_and_keep_what_the_item_gives(api, mall):
    item = api.item()
    url = f"/api/v1/points-mall/items/{item['id']}"
    r = api.client.patch(url, json={"points": 80, "status": "off_sale"}, headers={**mall.headers, "If-Match": '"1"'})
    assert r.status_code == 200, r.get_json()
    assert (r.get_json()["points"], r.get_json()["status"], r.get_json()["version"]) == (80, "off_sale", 2)
    stale = api.client.patch(url, json={"points": 70}, headers={**mall.headers, "If-Match": '"1"'})
    assert stale.status_code == 412
    fixed = api.client.patch(url, json={"sku_id": "sku_other"}, headers={**mall.headers, "If-Match": '"2"'})
    assert fixed.status_code == 422  # the kind and what it gives are fixed
    assert api.get(f"/points-mall/items/{item['id']}").get_json()["points"] == 80


def test_another_shops_items_are_not_found(api, client, mall):
    item = api.item()
    other = token_for(ShopFactory())
    assert client.get(f"/api/v1/points-mall/items/{item['id']}", headers=other).status_code == 404
    patched = client.patch(
        f"/api/v1/points-mall/items/{item['id']}", json={"points": 1}, headers={**other, "If-Match": '"1"'}
    )
    assert patched.status_code == 404
    assert client.get("/api/v1/points-mall/items", headers=other).get_json()["items"] == []
    assert api.get(f"/points-mall/items/{item['id']}").get_json()["points"] == 100


def test_scopes_are_needed(client, mall, api):
    item = api.item()
    reader = token_for(ShopFactory(), ["read_points_mall"])
    assert client.post("/api/v1/points-mall/items", json={}, headers=reader).status_code == 403
    own_reader = {**token_for_shop(mall, ["read_points_mall"])}
    assert client.get(f"/api/v1/points-mall/items/{item['id']}", headers=own_reader).status_code == 200
    r = client.post("/api/v1/points-mall/items", json={}, headers=token_for_shop(mall, ["read_orders"]))
    assert r.status_code == 403 and "write_points_mall" in r.get_json()["detail"]


def token_for_shop(mall, scopes):
    from souk_platform.shops.models import Shop

    return token_for(db.session.get(Shop, mall.id), scopes)


def test_an_item_nobody_redeemed_is_deleted_and_one_with_redemptions_is_kept(api, mall):
    unused, used = api.item(title="未兑换"), api.item(title="已兑换")
    assert api.redeem(used["id"]).status_code == 201
    url = "/api/v1/points-mall/items/{}"
    r = api.client.delete(url.format(used["id"]), headers={**mall.headers, "If-Match": '"1"'})
    assert r.status_code == 409 and r.get_json()["type"].endswith("/points-mall-item-in-use")
    assert api.client.delete(url.format(unused["id"]), headers={**mall.headers, "If-Match": '"2"'}).status_code == 412
    assert api.client.delete(url.format(unused["id"]), headers={**mall.headers, "If-Match": '"1"'}).status_code == 204
    assert api.get(f"/points-mall/items/{unused['id']}").status_code == 404
    deleted = db.session.scalars(
        sa.select(OutboxEvent.subject_id).where(
            OutboxEvent.shop_id == mall.id, OutboxEvent.type == "points_mall.item_deleted"
        )
    ).all()
    assert deleted == [unused["id"]]
