"""The API conventions (docs/architecture.md §4), exercised through real endpoints."""

from __future__ import annotations

import json

from openapi_spec_validator import validate

from factories import ShopFactory, token_for


def test_openapi_is_valid_31_and_names_scopes(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    validate(spec)
    assert spec["openapi"].startswith("3.1")
    assert spec["paths"]["/api/v1/shop"]["patch"]["security"] == [{"bearerAuth": ["write_shop"]}]
    assert client.get("/api/v1/docs").status_code == 200


def test_missing_and_bad_tokens_are_401_problems(client):
    r = client.get("/api/v1/shop")
    assert r.status_code == 401
    assert r.content_type == "application/problem+json"
    assert r.headers["WWW-Authenticate"].startswith("Bearer")
    r = client.get("/api/v1/shop", headers={"Authorization": "Bearer souk_at_nope"})
    assert r.status_code == 401 and r.get_json()["type"].endswith("/invalid-token")


def test_missing_scope_is_403_naming_the_scope(client):
    shop = ShopFactory()
    r = client.get("/api/v1/events", headers=token_for(shop, ["read_shop"]))
    assert r.status_code == 403
    body = r.get_json()
    assert body["required_scope"] == "read_events"
    assert "read_events" in body["detail"]


def test_write_scope_implies_read(client):
    shop = ShopFactory()
    assert client.get("/api/v1/shop", headers=token_for(shop, ["write_shop"])).status_code == 200


def test_revoked_token_stops_working(client, session, app):
    from souk_platform.auth.services import create_access_token, revoke_access_token

    shop = ShopFactory()
    token, plaintext = create_access_token(session, shop_id=shop.id, name="t", scopes=["read_shop"], created_by=None)
    session.commit()
    headers = {"Authorization": f"Bearer {plaintext}"}
    assert client.get("/api/v1/shop", headers=headers).status_code == 200
    session.commit()
    revoke_access_token(session, shop_id=shop.id, token_id=token.id, clock=app.extensions["souk.clock"])
    session.commit()
    assert client.get("/api/v1/shop", headers=headers).status_code == 401


def test_bad_bodies_are_problems_and_change_nothing(client, session):
    shop = ShopFactory(name="Before")
    headers = token_for(shop)
    cases = [
        ({"data": "{not json", "content_type": "application/json"}, 400),
        ({"data": "name=x", "content_type": "application/x-www-form-urlencoded"}, 415),
        ({"json": {"name": 5}}, 422),
        ({"json": {"name": "ok", "surprise": True}}, 422),
        ({"json": {"settings": {"cashback_bp": -1}}}, 422),
        ({"data": json.dumps({"name": "x" * 2_000_000}), "content_type": "application/json"}, 413),
    ]
    for kwargs, status in cases:
        r = client.patch("/api/v1/shop", headers=headers, **kwargs)
        assert r.status_code == status, (kwargs, r.get_json())
        body = r.get_json()
        assert r.content_type == "application/problem+json"
        assert {"type", "title", "status", "instance"} <= set(body)
    r = client.patch("/api/v1/shop", headers=headers, json={"name": "ok", "surprise": True})
    assert r.get_json()["errors"] == {"surprise": ["Unknown field."]}
    assert client.get("/api/v1/shop", headers=headers).get_json()["name"] == "Before"


def test_unknown_route_and_method_are_problems(client):
    assert client.get("/api/v1/nothing-here").content_type == "application/problem+json"
    r = client.delete("/api/v1/shop", headers={})
    assert r.status_code == 405 and "PATCH" in r.headers["Allow"]


def test_if_match_stale_version_is_412_and_fresh_one_applies(client):
    shop = ShopFactory()
    headers = token_for(shop)
    etag = client.get("/api/v1/shop", headers=headers).headers["ETag"]
    r = client.patch("/api/v1/shop", headers={**headers, "If-Match": etag}, json={"name": "New"})
    assert r.status_code == 200 and r.get_json()["version"] == 2
    r = client.patch("/api/v1/shop", headers={**headers, "If-Match": etag}, json={"name": "Stale"})
    assert r.status_code == 412 and r.get_json()["current_version"] == 2
    assert client.get("/api/v1/shop", headers=headers).get_json()["name"] == "New"


def test_cursor_pagination_walks_every_item_once(client, session):
    from souk_platform.events.services import emit

    shop = ShopFactory()
    for i in range(7):
        emit(session, shop_id=shop.id, type="test.happened", subject_type="test", subject_id=f"t{i}", payload={})
    session.commit()
    headers = token_for(shop)
    seen, url = [], "/api/v1/events?type=test.happened&limit=3"
    while url:
        r = client.get(url, headers=headers)
        body = r.get_json()
        seen += [e["subject_id"] for e in body["items"]]
        url = r.headers.get("Link", "").split(";")[0].strip("<>").replace("http://localhost", "") or None
        assert (url is None) == (body["next_cursor"] is None)
    assert sorted(seen) == [f"t{i}" for i in range(7)]
    bad = client.get("/api/v1/events?cursor=%%%", headers=headers)
    assert bad.status_code == 422 and "query.cursor" in bad.get_json()["errors"]


def test_another_shops_objects_are_invisible(client, session):
    from souk_platform.events.services import emit

    mine, theirs = ShopFactory(), ShopFactory()
    emit(session, shop_id=theirs.id, type="test.secret", subject_type="test", subject_id="x", payload={})
    session.commit()
    r = client.get("/api/v1/events?type=test.secret", headers=token_for(mine))
    assert r.get_json()["items"] == []


def test_html_pages_get_html_errors(client):
    r = client.get("/no-such-page")
    assert r.status_code == 404 and r.content_type.startswith("text/html")


def test_values_the_database_cannot_store_are_422_not_500(client):
    shop = ShopFactory(name="Before")
    headers = token_for(shop)
    r = client.patch("/api/v1/shop", headers=headers, json={"name": "nul\u0000byte"})
    assert r.status_code == 422 and r.get_json()["type"].endswith("/unstorable-value")
    assert client.get("/api/v1/shop", headers=headers).get_json()["name"] == "Before"
    r = client.get("/api/v1/events?type=a%00b", headers=headers)
    assert r.status_code < 500
