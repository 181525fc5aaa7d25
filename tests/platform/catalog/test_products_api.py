"""Products and SKUs over HTTP: create, read, list, change, archive; bad input; tenancy; If-Match."""

from __future__ import annotations

import sqlalchemy as sa

from factories import ShopFactory, token_for
from souk_platform.catalog.models import Product, Sku
from souk_platform.events.models import OutboxEvent

TEA = {
    "title": "西湖龙井 Longjing",
    "description": "Green tea",
    "status": "active",
    "skus": [
        {"code": "LJ-100G", "title": "100g", "price": 16800, "on_hand": 40},
        {"code": "LJ-250G", "title": "250g", "price": 38800},
    ],
}


def _events(session, subject_id, type=None):
    stmt = sa.select(OutboxEvent).where(OutboxEvent.subject_id == subject_id).order_by(OutboxEvent.id)
    if type:
        stmt = stmt.where(OutboxEvent.type == type)
    return list(session.scalars(stmt))


def test_create_product_with_skus_and_read_it_back(client, session):
    shop = ShopFactory(currency="CNY")
    headers = token_for(shop, ["write_products"])
    r = client.post("/api/v1/products", headers=headers, json=TEA)
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["id"].startswith("prd_") and body["status"] == "active" and body["version"] == 1
    assert r.headers["ETag"] == '"1"' and r.headers["Location"].endswith(f"/api/v1/products/{body['id']}")
    assert [(s["code"], s["price"], s["currency"], s["on_hand"], s["available"]) for s in body["skus"]] == [
        ("LJ-100G", 16800, "CNY", 40, 40),
        ("LJ-250G", 38800, "CNY", 0, 0),
    ]
    fetched = client.get(f"/api/v1/products/{body['id']}", headers=headers)
    assert fetched.status_code == 200 and fetched.get_json() == body
    event = _events(session, body["id"], "product.created")[0]
    assert event.payload["version"] == 1 and len(event.payload["skus"]) == 2
    sku_id = body["skus"][0]["id"]
    assert [e.type for e in _events(session, sku_id)] == ["sku.created", "inventory.adjusted"]


def test_list_filters_by_status_and_title_and_paginates(client, session, make_product):
    shop = ShopFactory()
    make_product(shop, title="Longjing 250g", status="active")
    make_product(shop, title="Tieguanyin", status="active")
    make_product(shop, title="LONGJING gift", status="draft")
    make_product(shop, title="100% pure", status="draft")
    headers = token_for(shop, ["read_products"])

    def titles(query):
        r = client.get(f"/api/v1/products{query}", headers=headers)
        assert r.status_code == 200, r.get_json()
        return sorted(p["title"] for p in r.get_json()["items"])

    assert titles("?status=active") == ["Longjing 250g", "Tieguanyin"]
    assert titles("?q=longjing") == ["LONGJING gift", "Longjing 250g"]
    assert titles("?q=longjing&status=draft") == ["LONGJING gift"]
    assert titles("?q=%25") == ["100% pure"]  # a literal %, not a wildcard
    first = client.get("/api/v1/products?limit=3", headers=headers).get_json()
    assert len(first["items"]) == 3 and first["items"][0]["skus"]
    rest = client.get(f"/api/v1/products?limit=3&cursor={first['next_cursor']}", headers=headers).get_json()
    assert len(rest["items"]) == 1 and rest["next_cursor"] is None
    bad = client.get("/api/v1/products?status=sold", headers=headers)
    assert bad.status_code == 422 and "query.status" in bad.get_json()["errors"]


def test_bad_product_bodies_are_422_naming_fields_and_change_nothing(client, session):
    shop = ShopFactory()
    shop_id = shop.id
    headers = token_for(shop, ["write_products"])
    sku = {"code": "A-1", "title": "x", "price": 100}
    cases = [
        ({"description": "no title"}, "title"),
        ({"title": "   "}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"title": "ok", "status": "sold"}, "status"),
        ({"title": "ok", "surprise": True}, "surprise"),
        ({"title": "ok", "skus": [{**sku, "price": 12.5}]}, "skus.0.price"),
        ({"title": "ok", "skus": [{**sku, "price": "100"}]}, "skus.0.price"),
        ({"title": "ok", "skus": [{**sku, "price": -1}]}, "skus.0.price"),
        ({"title": "ok", "skus": [{**sku, "on_hand": -3}]}, "skus.0.on_hand"),
        ({"title": "ok", "skus": [{**sku, "code": "has space"}]}, "skus.0.code"),
        ({"title": "ok", "skus": [{**sku, "colour": "red"}]}, "skus.0.colour"),
        ({"title": "ok", "skus": [{"code": "A-1", "price": 1}]}, "skus.0.title"),
        ({"title": "ok", "skus": [sku, {**sku, "title": "y"}]}, "skus.1.code"),
    ]
    for body, field in cases:
        r = client.post("/api/v1/products", headers=headers, json=body)
        assert r.status_code == 422, (body, r.get_json())
        problem = r.get_json()
        assert r.content_type == "application/problem+json"
        assert field in problem["errors"], (body, problem)
    assert session.scalar(sa.select(sa.func.count()).select_from(Product).where(Product.shop_id == shop_id)) == 0


def test_duplicate_sku_code_in_the_shop_is_409(client, session, make_product):
    shop = ShopFactory()
    existing = make_product(shop, skus=[("TGY-125", 9800, 5)])
    headers = token_for(shop, ["write_products"])
    body = {
        "title": "Another",
        "skus": [{"code": "NEW-1", "title": "a", "price": 1}, {"code": "TGY-125", "title": "b", "price": 1}],
    }
    r = client.post("/api/v1/products", headers=headers, json=body)
    assert r.status_code == 409
    problem = r.get_json()
    assert problem["type"].endswith("/sku-code-taken") and existing.sku_ids[0] in problem["errors"]["skus.1.code"][0]
    assert (
        session.scalar(sa.select(sa.func.count()).select_from(Product).where(Product.shop_id == existing.shop_id)) == 1
    )
    r = client.post(
        f"/api/v1/products/{existing.id}/skus", headers=headers, json={"code": "TGY-125", "title": "c", "price": 5}
    )
    assert r.status_code == 409 and "code" in r.get_json()["errors"]
    # Another shop may use the same code.
    other = ShopFactory()
    assert client.post("/api/v1/products", headers=token_for(other), json=body).status_code == 201


def test_patch_product_with_if_match(client, session, make_product):
    shop = ShopFactory()
    product = make_product(shop, status="draft")
    headers = token_for(shop, ["write_products"])
    etag = client.get(f"/api/v1/products/{product.id}", headers=headers).headers["ETag"]
    r = client.patch(
        f"/api/v1/products/{product.id}",
        headers={**headers, "If-Match": etag},
        json={"title": "Renamed", "status": "active"},
    )
    assert r.status_code == 200 and r.get_json()["version"] == 2 and r.headers["ETag"] == '"2"'
    stale = client.patch(
        f"/api/v1/products/{product.id}", headers={**headers, "If-Match": etag}, json={"title": "Stale"}
    )
    assert stale.status_code == 412 and stale.get_json()["current_version"] == 2
    current = client.get(f"/api/v1/products/{product.id}", headers=headers).get_json()
    assert (current["title"], current["status"], current["version"]) == ("Renamed", "active", 2)
    assert [e.payload["version"] for e in _events(session, product.id, "product.updated")] == [2]
    # Sending the same values is not a change: no new version, no event.
    same = client.patch(f"/api/v1/products/{product.id}", headers=headers, json={"title": "Renamed"})
    assert same.get_json()["version"] == 2 and len(_events(session, product.id, "product.updated")) == 1
    bad = client.patch(f"/api/v1/products/{product.id}", headers=headers, json={"status": "gone", "price": 1})
    assert bad.status_code == 422 and set(bad.get_json()["errors"]) == {"status", "price"}


def test_delete_archives_and_archived_products_are_not_for_sale(client, session, make_product):
    from souk_platform.catalog.services import skus_for_sale

    shop = ShopFactory()
    product = make_product(shop)
    sku_id = product.sku_ids[0]
    headers = token_for(shop, ["write_products"])
    stale = client.delete(f"/api/v1/products/{product.id}", headers={**headers, "If-Match": '"9"'})
    assert stale.status_code == 412
    r = client.delete(f"/api/v1/products/{product.id}", headers=headers)
    assert r.status_code == 200 and r.get_json()["status"] == "archived"
    again = client.delete(f"/api/v1/products/{product.id}", headers=headers)
    assert again.status_code == 200 and again.get_json()["version"] == r.get_json()["version"]
    assert len(_events(session, product.id, "product.archived")) == 1
    # Still readable for order history, but not sellable.
    assert client.get(f"/api/v1/products/{product.id}", headers=headers).status_code == 200
    import pytest

    from souk_platform.catalog.errors import SkusNotForSale

    with pytest.raises(SkusNotForSale) as err:
        skus_for_sale(session, shop_id=product.shop_id, sku_ids=[sku_id])
    assert "archived" in err.value.errors[sku_id][0]


def test_add_and_patch_skus(client, session, make_product):
    shop = ShopFactory(currency="USD")
    product = make_product(shop, skus=[])
    headers = token_for(shop, ["write_products"])
    r = client.post(
        f"/api/v1/products/{product.id}/skus", headers=headers, json={"code": "X-1", "title": "One", "price": 250}
    )
    assert r.status_code == 201
    sku = r.get_json()
    assert sku["currency"] == "USD" and sku["on_hand"] == 0 and sku["product_id"] == product.id
    etag = r.headers["ETag"]
    r = client.patch(
        f"/api/v1/skus/{sku['id']}", headers={**headers, "If-Match": etag}, json={"price": 300, "code": "X-2"}
    )
    assert r.status_code == 200 and (r.get_json()["price"], r.get_json()["code"], r.get_json()["version"]) == (
        300,
        "X-2",
        2,
    )
    stale = client.patch(f"/api/v1/skus/{sku['id']}", headers={**headers, "If-Match": etag}, json={"price": 1})
    assert stale.status_code == 412
    for body, field in [({"on_hand": 5}, "on_hand"), ({"price": 1.5}, "price"), ({"currency": "EUR"}, "currency")]:
        bad = client.patch(f"/api/v1/skus/{sku['id']}", headers=headers, json=body)
        assert bad.status_code == 422 and field in bad.get_json()["errors"]
    got = client.get(f"/api/v1/skus/{sku['id']}", headers=headers).get_json()
    assert (got["price"], got["on_hand"], got["currency"]) == (300, 0, "USD")
    assert [e.payload["version"] for e in _events(session, sku["id"], "sku.updated")] == [2]
    detail = client.get(f"/api/v1/products/{product.id}", headers=headers).get_json()
    assert [s["code"] for s in detail["skus"]] == ["X-2"]


def test_another_shops_products_and_skus_are_404(client, session, make_product):
    mine, theirs = ShopFactory(), ShopFactory()
    product = make_product(theirs)
    sku_id = product.sku_ids[0]
    headers = token_for(mine)
    checks = [
        client.get(f"/api/v1/products/{product.id}", headers=headers),
        client.patch(f"/api/v1/products/{product.id}", headers=headers, json={"title": "Mine now"}),
        client.delete(f"/api/v1/products/{product.id}", headers=headers),
        client.post(
            f"/api/v1/products/{product.id}/skus", headers=headers, json={"code": "Z", "title": "z", "price": 1}
        ),
        client.get(f"/api/v1/skus/{sku_id}", headers=headers),
        client.patch(f"/api/v1/skus/{sku_id}", headers=headers, json={"price": 1}),
        client.get(f"/api/v1/skus/{sku_id}/inventory-adjustments", headers=headers),
        client.post(f"/api/v1/skus/{sku_id}/inventory-adjustments", headers=headers, json={"delta": -1, "reason": "x"}),
    ]
    assert [r.status_code for r in checks] == [404] * len(checks)
    assert client.get("/api/v1/products", headers=headers).get_json()["items"] == []
    session.expire_all()
    fresh = session.get(Product, product.id)
    assert (fresh.title, fresh.status, fresh.version) == (product.title, "active", 1)
    assert session.get(Sku, sku_id).on_hand == 10 and len(fresh.skus) == 1


def test_scopes_are_enforced(client, make_product):
    shop = ShopFactory()
    product = make_product(shop)
    read_only = token_for(shop, ["read_products"])
    assert client.get(f"/api/v1/products/{product.id}", headers=read_only).status_code == 200
    r = client.post("/api/v1/products", headers=read_only, json={"title": "x"})
    assert r.status_code == 403 and r.get_json()["required_scope"] == "write_products"
    assert client.get("/api/v1/products", headers=token_for(shop, ["read_orders"])).status_code == 403


def test_openapi_documents_catalog_scopes(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["paths"]["/api/v1/products"]["post"]["security"] == [{"bearerAuth": ["write_products"]}]
    assert spec["paths"]["/api/v1/skus/{sku_id}/inventory-adjustments"]["get"]["security"] == [
        {"bearerAuth": ["read_products"]}
    ]


def test_text_no_database_can_store_is_a_422_or_404_never_a_crash(client, session):
    shop = ShopFactory()
    shop_id = shop.id
    headers = token_for(shop)
    cases = [
        (client.post("/api/v1/products", headers=headers, json={"title": "a\u0000b"}), 422, "title"),
        (
            client.post("/api/v1/products", headers=headers, json={"title": "ok", "description": "x\u0000"}),
            422,
            "description",
        ),
        (client.post("/api/v1/products", headers=headers, json={"title": "\ud800"}), 422, "title"),
        (
            client.post(
                "/api/v1/products",
                headers=headers,
                json={"title": "ok", "skus": [{"code": "A-1\n", "title": "x", "price": 1}]},
            ),
            422,
            "skus.0.code",
        ),
        (client.get("/api/v1/products?q=a%00b", headers=headers), 422, "query.q"),
        (client.get("/api/v1/products/prd_%00", headers=headers), 404, None),
        (client.patch("/api/v1/skus/sku_%00", headers=headers, json={"price": 1}), 404, None),
        (
            client.post("/api/v1/skus/%00/inventory-adjustments", headers=headers, json={"delta": 1, "reason": "x"}),
            404,
            None,
        ),
    ]
    for r, status, field in cases:
        assert r.status_code == status, r.get_json()
        if field:
            assert field in r.get_json()["errors"]
    assert session.scalar(sa.select(sa.func.count()).select_from(Product).where(Product.shop_id == shop_id)) == 0
