"""The customer profile (birthday, gender, source channel), PATCH with If-Match, and external identities."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
import sqlalchemy as sa

from factories import ShopFactory, token_for
from souk_platform.core.clock import FrozenClock
from souk_platform.customers.models import Customer, CustomerIdentity
from souk_platform.customers.services import add_identity, create_customer, find_by_identity
from souk_platform.db import db
from souk_platform.events.models import OutboxEvent
from souk_platform.webhooks.services.privacy import request_customer_privacy


def _events(session, shop_id, type):
    return list(
        session.scalars(
            sa.select(OutboxEvent)
            .where(OutboxEvent.shop_id == shop_id, OutboxEvent.type == type)
            .order_by(OutboxEvent.id)
        )
    )


def test_create_and_read_the_profile(client, session, clock):
    shop = ShopFactory()
    sid = shop.id
    headers = token_for(shop, ["write_customers"])
    r = client.post(
        "/api/v1/customers",
        headers=headers,
        json={"name": "王芳", "birthday": "1990-05-17", "gender": "female", "source_channel": "mini_program"},
    )
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert (body["birthday"], body["gender"], body["source_channel"]) == ("1990-05-17", "female", "mini_program")
    assert body["identities"] == []
    assert client.get(f"/api/v1/customers/{body['id']}", headers=headers).get_json() == body
    [event] = _events(session, sid, "customer.created")
    assert (event.payload["birthday"], event.payload["gender"], event.payload["source_channel"]) == (
        "1990-05-17",
        "female",
        "mini_program",
    )
    # Defaults: gender unknown, no birthday, no channel.
    plain = client.post("/api/v1/customers", headers=headers, json={"name": "李娜"}).get_json()
    assert (plain["birthday"], plain["gender"], plain["source_channel"]) == (None, "unknown", None)


def test_bad_profile_is_422_and_creates_nothing(client, session, clock):
    shop = ShopFactory()
    sid = shop.id
    headers = token_for(shop, ["write_customers"])
    # The clock says 2026-03-02 10:00 UTC: 18:00 in Shanghai, so the 2nd is today and the 3rd is tomorrow.
    cases = [
        ({"name": "A", "birthday": "2026-03-03"}, "birthday"),
        ({"name": "A", "birthday": "1899-12-31"}, "birthday"),
        ({"name": "A", "birthday": "17/05/1990"}, "birthday"),
        ({"name": "A", "birthday": "1990-02-30"}, "birthday"),
        ({"name": "A", "gender": "other"}, "gender"),
        ({"name": "A", "gender": None}, "gender"),
        ({"name": "A", "source_channel": "tv"}, "source_channel"),
        ({"name": "A", "identities": []}, "identities"),
    ]
    for payload, field in cases:
        r = client.post("/api/v1/customers", headers=headers, json=payload)
        assert r.status_code == 422, (payload, r.get_json())
        assert r.content_type == "application/problem+json"
        assert field in r.get_json()["errors"], (payload, r.get_json())
    count = sa.select(sa.func.count()).select_from(Customer).where(Customer.shop_id == sid)
    assert session.scalar(count) == 0
    today = client.post("/api/v1/customers", headers=headers, json={"name": "Born today", "birthday": "2026-03-02"})
    assert today.status_code == 201, today.get_json()


def test_patch_requires_if_match_and_names_the_changed_fields(client, session, clock):
    shop = ShopFactory()
    sid = shop.id
    headers = token_for(shop, ["write_customers"])
    cid = client.post("/api/v1/customers", headers=headers, json={"name": "A", "phone": "13800000001"}).get_json()["id"]
    url = f"/api/v1/customers/{cid}"
    missing = client.patch(url, headers=headers, json={"gender": "male"})
    assert missing.status_code == 428 and missing.content_type == "application/problem+json"
    assert missing.get_json()["type"].endswith("/precondition-required")
    assert missing.get_json()["current_version"] == 1
    stale = client.patch(url, headers={**headers, "If-Match": '"7"'}, json={"gender": "male"})
    assert stale.status_code == 412 and stale.get_json()["type"].endswith("/version-mismatch")
    bad = client.patch(url, headers={**headers, "If-Match": '"1"'}, json={"birthday": "2030-01-01"})
    assert bad.status_code == 422 and "birthday" in bad.get_json()["errors"]
    assert session.scalar(sa.select(Customer.version).where(Customer.id == cid)) == 1
    assert _events(session, sid, "customer.updated") == []

    r = client.patch(
        url,
        headers={**headers, "If-Match": '"1"'},
        json={"gender": "male", "birthday": "1985-11-02", "source_channel": "store", "name": "A"},
    )
    assert r.status_code == 200, r.get_json()
    assert r.headers["ETag"] == '"2"' and r.get_json()["birthday"] == "1985-11-02"
    [event] = _events(session, sid, "customer.updated")
    assert event.payload["changed"] == ["birthday", "gender", "source_channel"]  # the name did not change
    assert event.payload["birthday"] == "1985-11-02" and event.payload["version"] == 2
    # Nothing changed: no new version, no event.
    same = client.patch(url, headers={**headers, "If-Match": '"2"'}, json={"gender": "male"})
    assert same.status_code == 200 and same.get_json()["version"] == 2
    cleared = client.patch(url, headers={**headers, "If-Match": 'W/"2"'}, json={"birthday": None})
    assert cleared.status_code == 200 and cleared.get_json()["birthday"] is None
    assert [e.payload["changed"] for e in _events(session, sid, "customer.updated")] == [
        ["birthday", "gender", "source_channel"],
        ["birthday"],
    ]


def test_identities_add_list_remove(client, session, clock):
    shop = ShopFactory()
    sid = shop.id
    headers = token_for(shop, ["write_customers"])
    a = client.post("/api/v1/customers", headers=headers, json={"name": "A"}).get_json()["id"]
    b = client.post("/api/v1/customers", headers=headers, json={"name": "B"}).get_json()["id"]
    url = f"/api/v1/customers/{a}/identities"
    r = client.post(url, headers=headers, json={"provider": "wechat_openid:wx12ab", "external_id": " oAbC123 "})
    assert r.status_code == 201, r.get_json()
    openid = r.get_json()
    assert (openid["provider"], openid["external_id"], openid["customer_id"]) == ("wechat_openid:wx12ab", "oAbC123", a)
    again = client.post(url, headers=headers, json={"provider": "wechat_openid:wx12ab", "external_id": "oAbC123"})
    assert again.status_code == 200 and again.get_json()["id"] == openid["id"]
    taken = client.post(
        f"/api/v1/customers/{b}/identities",
        headers=headers,
        json={"provider": "wechat_openid:wx12ab", "external_id": "oAbC123"},
    )
    assert taken.status_code == 409 and taken.get_json()["existing_customer_id"] == a
    assert client.post(url, headers=headers, json={"provider": "app:cli_123", "external_id": "u-9"}).status_code == 201
    listed = client.get(url, headers=headers).get_json()["items"]
    assert {(i["provider"], i["external_id"]) for i in listed} == {
        ("wechat_openid:wx12ab", "oAbC123"),
        ("app:cli_123", "u-9"),
    }
    assert len(client.get(f"/api/v1/customers/{a}", headers=headers).get_json()["identities"]) == 2
    assert find_by_identity(session, shop_id=sid, provider="wechat_openid:wx12ab", external_id="oAbC123").id == a

    def found(query):
        return [c["id"] for c in client.get(f"/api/v1/customers?{query}", headers=headers).get_json()["items"]]

    assert found("identity_provider=wechat_openid:wx12ab&identity_external_id=oAbC123") == [a]
    assert found("identity_provider=app:cli_123") == [a]
    assert found("identity_external_id=oAbC123") == [a]
    assert found("identity_provider=alipay&identity_external_id=oAbC123") == []
    # The same openid in another shop is another customer entirely.
    other = ShopFactory()
    elsewhere = create_customer(session, shop_id=other.id, name="C")
    add_identity(
        session, shop_id=other.id, customer_id=elsewhere.id, provider="wechat_openid:wx12ab", external_id="oAbC123"
    )

    assert client.delete(f"{url}/{openid['id']}", headers=headers).status_code == 204
    gone = client.delete(f"{url}/{openid['id']}", headers=headers)
    assert gone.status_code == 404 and gone.get_json()["type"].endswith("/customer-identity-not-found")
    added = _events(session, sid, "customer.identity_added")
    removed = _events(session, sid, "customer.identity_removed")
    assert [e.payload["external_id"] for e in added] == ["oAbC123", "u-9"]
    assert [e.payload["id"] for e in removed] == [openid["id"]]


def test_bad_identities_are_422_and_add_nothing(client, session, clock):
    shop = ShopFactory()
    headers = token_for(shop, ["write_customers"])
    cid = client.post("/api/v1/customers", headers=headers, json={"name": "A"}).get_json()["id"]
    url = f"/api/v1/customers/{cid}/identities"
    cases = [
        ({"provider": "facebook", "external_id": "x"}, "provider"),
        ({"provider": "app:", "external_id": "x"}, "provider"),
        ({"provider": "wechat_openid", "external_id": "   "}, "external_id"),
        ({"provider": "wechat_openid", "external_id": "x" * 129}, "external_id"),
        ({"provider": "wechat_openid", "external_id": "a\u0000b"}, "external_id"),
        ({"provider": "wechat_openid"}, "external_id"),
        ({"external_id": "x"}, "provider"),
    ]
    for payload, field in cases:
        r = client.post(url, headers=headers, json=payload)
        assert r.status_code == 422, (payload, r.get_json())
        assert field in r.get_json()["errors"], (payload, r.get_json())
    for n in range(20):
        assert (
            client.post(url, headers=headers, json={"provider": "alipay", "external_id": f"20880{n}"}).status_code
            == 201
        )
    full = client.post(url, headers=headers, json={"provider": "alipay", "external_id": "one-too-many"})
    assert full.status_code == 422
    count = sa.select(sa.func.count()).select_from(CustomerIdentity).where(CustomerIdentity.customer_id == cid)
    assert session.scalar(count) == 20


def test_identities_are_personal_data_like_phone_and_email(client, session, clock):
    """Apps that may not read customers hear nothing of identities; a data request names them."""
    from souk_platform.webhooks.services.subscriptions import required_scope

    assert required_scope("customer.identity_added") == "read_customers"
    assert required_scope("customer.updated") == "read_customers"
    shop = ShopFactory()
    sid = shop.id
    customer = create_customer(session, shop_id=sid, name="A", phone="13800000001", birthday=dt.date(1990, 1, 2))
    add_identity(session, shop_id=sid, customer_id=customer.id, provider="wechat_unionid", external_id="uX1")
    sent = request_customer_privacy(
        session, shop_id=sid, customer_id=customer.id, kind="data_request", clock=FrozenClock(clock.now())
    )
    assert sent["customer"]["identities"] == [{"provider": "wechat_unionid", "external_id": "uX1"}]
    # What plugins see of a customer carries no personal data.
    from souk_platform.customers.services import customer_facts

    facts = customer_facts(session, shop_id=sid, customer_id=customer.id)
    assert set(facts) == {"id", "level", "tags"}


@pytest.mark.concurrency
def test_two_customers_racing_for_one_identity_end_with_one_owner(app):
    with app.app_context():
        shop = ShopFactory()
        shop_id = shop.id
        ids = [create_customer(db.session, shop_id=shop_id, name=f"C{n}").id for n in range(6)]
        db.session.commit()
        db.session.remove()
    results: list[str] = []
    crashed: list[str] = []
    barrier = threading.Barrier(len(ids))

    def worker(customer_id: str) -> None:
        with app.app_context():
            try:
                barrier.wait()
                add_identity(
                    db.session, shop_id=shop_id, customer_id=customer_id, provider="wechat_unionid", external_id="u1"
                )
                db.session.commit()
                results.append("ok")
            except Exception as exc:
                db.session.rollback()
                results.append(type(exc).__name__) if "Duplicate" in type(exc).__name__ else crashed.append(repr(exc))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(cid,)) for cid in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert crashed == []
    assert sorted(results) == ["DuplicateIdentity"] * 5 + ["ok"]
    with app.app_context():
        owners = db.session.scalars(
            sa.select(CustomerIdentity.customer_id).where(CustomerIdentity.shop_id == shop_id)
        ).all()
        assert len(owners) == 1 and owners[0] in ids
        db.session.remove()


def test_purchases_and_refunds_name_the_totals_they_changed(session):
    from souk_platform.customers.services import record_purchase, record_refund

    shop = ShopFactory()
    sid = shop.id
    customer = create_customer(session, shop_id=sid, name="Buyer")
    at = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    record_purchase(session, shop_id=sid, customer_id=customer.id, order_id="o1", amount=100, at=at)
    record_purchase(
        session, shop_id=sid, customer_id=customer.id, order_id="o0", amount=50, at=at - dt.timedelta(days=1)
    )
    record_refund(session, shop_id=sid, customer_id=customer.id, order_id="o1", amount=30, at=at)
    assert [e.payload["changed"] for e in _events(session, sid, "customer.updated")] == [
        ["orders_count", "total_spent", "last_order_at"],
        ["orders_count", "total_spent"],  # an older order leaves last_order_at as it was
        ["total_spent"],
    ]
