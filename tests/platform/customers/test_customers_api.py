"""Customers through the API: create, read, list, change; bad input and other shops' customers."""

from __future__ import annotations

import sqlalchemy as sa

from factories import ShopFactory, token_for
from souk_platform.customers.models import Customer
from souk_platform.events.models import OutboxEvent


def _count(session, shop_id):
    return session.scalar(sa.select(sa.func.count()).select_from(Customer).where(Customer.shop_id == shop_id))


def _events(session, shop_id, type):
    return list(session.scalars(sa.select(OutboxEvent).where(OutboxEvent.shop_id == shop_id, OutboxEvent.type == type)))


def test_create_then_read_with_tags_and_level(client, session):
    shop = ShopFactory()
    sid = shop.id
    headers = token_for(shop, ["write_customers"])
    r = client.post(
        "/api/v1/customers",
        headers=headers,
        json={"name": " 王芳 ", "phone": "138-0013 8000", "email": "WF@Example.cn"},
    )
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["name"] == "王芳"
    assert body["phone"] == "13800138000" and body["email"] == "wf@example.cn"
    assert body["level"] == 1 and body["tags"] == [] and body["total_spent"] == 0 and body["currency"] == "CNY"
    assert r.headers["ETag"] == '"1"'
    got = client.get(f"/api/v1/customers/{body['id']}", headers=headers).get_json()
    assert got == body
    [event] = _events(session, sid, "customer.created")
    assert event.payload["id"] == body["id"] and event.payload["version"] == 1


def test_duplicate_phone_or_email_is_409_naming_the_field(client, session):
    shop = ShopFactory()
    sid = shop.id
    headers = token_for(shop, ["write_customers"])
    assert (
        client.post("/api/v1/customers", headers=headers, json={"name": "A", "phone": "13800000001"}).status_code == 201
    )
    r = client.post("/api/v1/customers", headers=headers, json={"name": "B", "phone": "138 0000 0001"})
    assert r.status_code == 409
    body = r.get_json()
    assert body["type"].endswith("/duplicate-customer") and body["errors"] == {"phone": [body["errors"]["phone"][0]]}
    assert body["field"] == "phone"
    client.post("/api/v1/customers", headers=headers, json={"name": "C", "email": "c@example.cn"})
    r = client.post("/api/v1/customers", headers=headers, json={"name": "D", "email": "C@EXAMPLE.CN"})
    assert r.status_code == 409 and "email" in r.get_json()["errors"]
    assert _count(session, sid) == 2
    # The same phone in another shop is someone else entirely.
    other = ShopFactory()
    r = client.post("/api/v1/customers", headers=token_for(other), json={"name": "A", "phone": "13800000001"})
    assert r.status_code == 201


def test_bad_input_is_422_and_creates_nothing(client, session):
    shop = ShopFactory()
    sid = shop.id
    headers = token_for(shop, ["write_customers"])
    cases = [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"name": "A", "email": "not-an-email"}, "email"),
        ({"name": "A", "phone": "call me"}, "phone"),
        ({"name": "A", "level": 5}, "level"),
    ]
    for payload, field in cases:
        r = client.post("/api/v1/customers", headers=headers, json=payload)
        assert r.status_code == 422, (payload, r.get_json())
        assert r.content_type == "application/problem+json"
        assert field in r.get_json()["errors"], (payload, r.get_json())
    assert _count(session, sid) == 0


def test_patch_needs_fresh_version_and_emits_update(client, session):
    shop = ShopFactory()
    sid = shop.id
    headers = token_for(shop, ["write_customers"])
    created = client.post("/api/v1/customers", headers=headers, json={"name": "A", "phone": "13800000001"})
    cid = created.get_json()["id"]
    client.post("/api/v1/customers", headers=headers, json={"name": "B", "email": "b@example.cn"})
    url = f"/api/v1/customers/{cid}"
    r = client.patch(url, headers={**headers, "If-Match": '"1"'}, json={"name": "A2", "email": None})
    assert r.status_code == 200 and r.get_json()["name"] == "A2" and r.get_json()["version"] == 2
    r = client.patch(url, headers={**headers, "If-Match": '"1"'}, json={"name": "stale"})
    assert r.status_code == 412
    r = client.patch(url, headers={**headers, "If-Match": '"2"'}, json={"email": "b@example.cn"})
    assert r.status_code == 409 and "email" in r.get_json()["errors"]
    r = client.patch(url, headers={**headers, "If-Match": '"2"'}, json={"orders_count": 99})
    assert r.status_code == 422 and r.get_json()["errors"] == {"orders_count": ["Unknown field."]}
    got = client.get(url, headers=headers).get_json()
    assert (got["name"], got["email"], got["orders_count"], got["version"]) == ("A2", None, 0, 2)
    assert [e.payload["name"] for e in _events(session, sid, "customer.updated")] == ["A2"]


def test_list_filters_by_text_level_and_tag(client, session):
    from souk_platform.customers.services import create_customer
    from souk_platform.tags.services import create_tag, tag_customers

    shop = ShopFactory()
    a = create_customer(session, shop_id=shop.id, name="王芳", phone="13800000001")
    b = create_customer(session, shop_id=shop.id, name="李娜", email="lina@example.cn")
    c = create_customer(session, shop_id=shop.id, name="王小二", phone="13900000002")
    c.level = 3
    import datetime as dt

    vip = create_tag(session, shop_id=shop.id, name="VIP", now=dt.datetime.now(dt.UTC))
    tag_customers(session, shop_id=shop.id, tag_id=vip.id, customer_ids=[b.id])
    session.commit()
    headers = token_for(shop, ["read_customers"])

    def ids(query):
        r = client.get(f"/api/v1/customers{query}", headers=headers)
        assert r.status_code == 200, r.get_json()
        return {item["id"] for item in r.get_json()["items"]}

    assert ids("") == {a.id, b.id, c.id}
    assert ids("?q=王") == {a.id, c.id}
    assert ids("?q=lina@") == {b.id}
    assert ids("?q=1390000") == {c.id}
    assert ids("?q=%25") == set()  # a literal %, not a wildcard
    assert ids("?level=3") == {c.id}
    assert ids(f"?tag={vip.id}") == {b.id}
    item = client.get(f"/api/v1/customers?tag={vip.id}", headers=headers).get_json()["items"][0]
    assert item["tags"] == [{"id": vip.id, "name": "VIP", "kind": "manual"}]
    bad = client.get("/api/v1/customers?level=9", headers=headers)
    assert bad.status_code == 422 and "query.level" in bad.get_json()["errors"]


def test_another_shops_customer_is_404(client, session):
    from souk_platform.customers.services import create_customer

    mine, theirs = ShopFactory(), ShopFactory()
    secret_id = create_customer(session, shop_id=theirs.id, name="Secret", phone="13800000009").id
    session.commit()
    headers = token_for(mine)
    assert client.get(f"/api/v1/customers/{secret_id}", headers=headers).status_code == 404
    r = client.patch(f"/api/v1/customers/{secret_id}", headers=headers, json={"name": "Mine now"})
    assert r.status_code == 404 and r.get_json()["type"].endswith("/customer-not-found")
    assert client.get("/api/v1/customers", headers=headers).get_json()["items"] == []
    assert session.scalar(sa.select(Customer.name).where(Customer.id == secret_id)) == "Secret"


def test_scopes_are_enforced(client):
    shop = ShopFactory()
    r = client.post("/api/v1/customers", headers=token_for(shop, ["read_customers"]), json={"name": "A"})
    assert r.status_code == 403 and r.get_json()["required_scope"] == "write_customers"
