"""Carts over HTTP: lines, the priced preview, validation, versions and tenancy."""

from __future__ import annotations

import sqlalchemy as sa

from factories import ShopFactory, token_for
from souk_platform.catalog.services import NewSku, archive_product, create_product
from souk_platform.checkout.models import Cart, CartLine
from souk_platform.coupons.services import create_coupon
from souk_platform.db import db


def _post(client, store, path, body, headers=None):
    return client.post("/api/v1" + path, json=body, headers={**store.headers, **(headers or {})})


def _new_cart(client, store, lines=(), **extra):
    body = {"lines": [{"sku_id": s, "quantity": q} for s, q in lines], **extra}
    r = _post(client, store, "/carts", body)
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def _counts(shop_id):
    db.session.expire_all()
    carts = db.session.scalar(sa.select(sa.func.count()).select_from(Cart).where(Cart.shop_id == shop_id))
    lines = db.session.scalar(sa.select(sa.func.count()).select_from(CartLine).where(CartLine.shop_id == shop_id))
    return carts, lines


def test_cart_lines_and_preview(client, store):
    cart = _new_cart(client, store, [(store.tea, 1), (store.tea, 1), (store.cup, 3)], customer_id=store.customer_id)
    assert cart["status"] == "open" and cart["customer_id"] == store.customer_id
    assert [(line["sku_id"], line["quantity"]) for line in cart["lines"]] == [(store.tea, 2), (store.cup, 3)]
    preview = cart["preview"]
    assert (preview["currency"], preview["subtotal"], preview["total"], preview["purchasable"]) == (
        "CNY",
        16000,
        16000,
        True,
    )
    assert preview["lines"][0]["title"] == "Longjing / 250g" and preview["lines"][0]["available"] == 10

    r = _post(client, store, f"/carts/{cart['id']}/lines", {"sku_id": store.cup, "quantity": 1})
    assert r.status_code == 201 and r.get_json()["lines"][1]["quantity"] == 4
    cup_line = r.get_json()["lines"][1]["id"]
    r = client.patch(f"/api/v1/carts/{cart['id']}/lines/{cup_line}", json={"quantity": 9}, headers=store.headers)
    body = r.get_json()
    assert r.status_code == 200 and body["lines"][1]["quantity"] == 9
    # more than is in stock: shown in the preview, refused only at checkout
    assert body["preview"]["purchasable"] is False and body["preview"]["lines"][1]["problem"] == "Only 5 available."
    r = client.delete(f"/api/v1/carts/{cart['id']}/lines/{cup_line}", headers=store.headers)
    assert r.status_code == 200 and [line["sku_id"] for line in r.get_json()["lines"]] == [store.tea]
    assert r.get_json()["version"] == 4 and r.headers["ETag"] == '"4"'


def test_preview_applies_automatic_promotions(client, store, session):
    create_coupon(
        session,
        shop_id=store.shop_id,
        fields={"name": "满100减15", "kind": "threshold", "value": 1500, "min_spend": 10000, "auto_apply": True},
    )
    session.commit()
    preview = _new_cart(client, store, [(store.tea, 2)])["preview"]
    assert (preview["subtotal"], preview["discount_total"], preview["total"]) == (10000, 1500, 8500)
    assert preview["discounts"][0]["label"]


def test_bad_cart_input_is_refused_and_changes_nothing(client, store):
    cart = _new_cart(client, store, [(store.tea, 1)])
    before = _counts(store.shop_id)
    cases = [
        ("/carts", {"lines": [{"sku_id": store.tea, "quantity": 0}]}, 422, "lines.0.quantity"),
        ("/carts", {"lines": [{"sku_id": store.tea, "quantity": 1000}]}, 422, "lines.0.quantity"),
        (
            "/carts",
            {"lines": [{"sku_id": store.tea, "quantity": 600}, {"sku_id": store.tea, "quantity": 600}]},
            422,
            "lines.1.quantity",
        ),
        ("/carts", {"lines": [{"sku_id": store.tea, "quantity": "2"}]}, 422, "lines.0.quantity"),
        ("/carts", {"colour": "red"}, 422, "colour"),
        ("/carts", {"lines": [{"sku_id": "sku_nope", "quantity": 1}]}, 404, None),
        ("/carts", {"customer_id": "cus_nope"}, 404, None),
        (f"/carts/{cart['id']}/lines", {"sku_id": store.tea, "quantity": 999}, 422, "quantity"),
        (f"/carts/{cart['id']}/lines", {"sku_id": "sku_nope", "quantity": 1}, 404, None),
        ("/carts/crt_nope/lines", {"sku_id": store.tea, "quantity": 1}, 404, None),
    ]
    for path, body, status, field in cases:
        r = _post(client, store, path, body)
        assert r.status_code == status, (path, body, r.get_json())
        assert r.content_type == "application/problem+json"
        if field:
            assert field in r.get_json()["errors"], (body, r.get_json())
    assert _counts(store.shop_id) == before
    line = cart["lines"][0]["id"]
    r = client.patch(f"/api/v1/carts/{cart['id']}/lines/{line}", json={"quantity": 0}, headers=store.headers)
    assert r.status_code == 422
    r = client.patch(f"/api/v1/carts/{cart['id']}/lines/cln_nope", json={"quantity": 2}, headers=store.headers)
    assert r.status_code == 404 and r.get_json()["type"].endswith("/cart-line-not-found")
    assert client.get(f"/api/v1/carts/{cart['id']}", headers=store.headers).get_json()["lines"][0]["quantity"] == 1


def test_stale_if_match_is_412(client, store):
    cart = _new_cart(client, store, [(store.tea, 1)])
    r = _post(client, store, f"/carts/{cart['id']}/lines", {"sku_id": store.cup, "quantity": 1}, {"If-Match": '"1"'})
    assert r.status_code == 201
    r = _post(client, store, f"/carts/{cart['id']}/lines", {"sku_id": store.cup, "quantity": 1}, {"If-Match": '"1"'})
    assert r.status_code == 412
    assert client.get(f"/api/v1/carts/{cart['id']}", headers=store.headers).get_json()["lines"][1]["quantity"] == 1


def test_another_shops_cart_and_skus_are_404(client, store, session):
    other = ShopFactory()
    theirs = create_product(
        session,
        shop_id=other.id,
        title="Theirs",
        status="active",
        skus=[NewSku(code="X", title="x", price=1, on_hand=1)],
    )
    their_sku = theirs.skus[0].id
    session.commit()
    intruder = token_for(other)
    assert _post(client, store, "/carts", {"lines": [{"sku_id": their_sku, "quantity": 1}]}).status_code == 404
    cart = _new_cart(client, store, [(store.tea, 1)])
    assert client.get(f"/api/v1/carts/{cart['id']}", headers=intruder).status_code == 404
    r = client.post(f"/api/v1/carts/{cart['id']}/lines", json={"sku_id": store.cup, "quantity": 1}, headers=intruder)
    assert r.status_code == 404
    line = cart["lines"][0]["id"]
    assert client.delete(f"/api/v1/carts/{cart['id']}/lines/{line}", headers=intruder).status_code == 404
    assert len(client.get(f"/api/v1/carts/{cart['id']}", headers=store.headers).get_json()["lines"]) == 1


def test_a_checked_out_cart_cannot_change(client, store):
    cart = _new_cart(client, store, [(store.tea, 1)])
    assert _post(client, store, f"/carts/{cart['id']}/checkout", {}).status_code == 201
    r = _post(client, store, f"/carts/{cart['id']}/lines", {"sku_id": store.cup, "quantity": 1})
    assert r.status_code == 409 and r.get_json()["type"].endswith("/cart-not-open")
    line = cart["lines"][0]["id"]
    assert client.delete(f"/api/v1/carts/{cart['id']}/lines/{line}", headers=store.headers).status_code == 409


def test_preview_flags_lines_no_longer_for_sale(client, store, session):
    cart = _new_cart(client, store, [(store.tea, 1)])
    archive_product(session, shop_id=store.shop_id, product_id=store.product_id, expected_version=None)
    session.commit()
    r = client.get(f"/api/v1/carts/{cart['id']}", headers=store.headers)
    preview = r.get_json()["preview"]
    assert r.status_code == 200
    assert preview["purchasable"] is False and preview["lines"][0]["problem"] == "This SKU is no longer for sale."
    assert preview["subtotal"] == 0
