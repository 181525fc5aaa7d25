"""The service-market API's conventions: bad input, tenancy, idempotent ordering, files, ratings, catalogue."""

from __future__ import annotations

import base64
from typing import Any

import sqlalchemy as sa
from marketplace.service_market.builders import FUNDS, SMALL_PRICE, assert_ledger_sound, fund, make_offer

from factories import ShopFactory, token_for
from souk_marketplace.service_market import services
from souk_marketplace.service_market.models import ServiceFile, ServiceOrder
from souk_marketplace.service_market.services import Party
from souk_platform.ledger.services import balance_of

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _place(client: Any, headers: dict[str, str], package_id: str, **extra: Any) -> Any:
    return client.post(
        "/api/v1/service-orders", json={"package_id": package_id, "requirements": "A logo"}, headers=headers, **extra
    )


def _order_count(session: Any, shop_id: str) -> int:
    return int(
        session.scalar(sa.select(sa.func.count()).select_from(ServiceOrder).where(ServiceOrder.shop_id == shop_id))
    )


def _balance(session: Any, shop_id: str) -> int:
    return balance_of(session, shop_id=shop_id, kind="shop.balance", owner_id=shop_id, unit="CNY")


def test_bad_order_requests_are_422_per_field_and_change_nothing(client, session, shop, headers, offer):
    shop_id = shop.id
    cases = [
        ({"package_id": offer.small_package, "colour": "red"}, "colour"),
        ({}, "package_id"),
        ({"package_id": 42}, "package_id"),
        ({"package_id": "pkg_unknown"}, "package_id"),
        ({"package_id": offer.small_package, "requirements": "x" * 20001}, "requirements"),
    ]
    for body, field in cases:
        r = client.post("/api/v1/service-orders", json=body, headers=headers)
        assert r.status_code == 422, (body, r.get_json())
        assert r.headers["Content-Type"] == "application/problem+json"
        assert field in r.get_json()["errors"], (body, r.get_json())
    assert (
        client.post(
            "/api/v1/service-orders", data="{", headers={**headers, "Content-Type": "application/json"}
        ).status_code
        == 400
    )
    assert _order_count(session, shop_id) == 0 and _balance(session, shop_id) == FUNDS


def test_a_shop_that_cannot_pay_gets_422_and_no_order(client, session, offer):
    poor = ShopFactory()
    fund(session, poor, SMALL_PRICE - 1)
    poor_id = poor.id
    r = _place(client, token_for(poor), offer.small_package)
    assert r.status_code == 422 and r.get_json()["type"].endswith("/insufficient-balance"), r.get_json()
    assert _order_count(session, poor_id) == 0 and _balance(session, poor_id) == SMALL_PRICE - 1
    assert_ledger_sound(session)


def test_a_package_in_another_currency_is_refused(client, session, clock):
    shop = ShopFactory(currency="USD")
    offer = make_offer(session, clock.now())
    r = _place(client, token_for(shop), offer.small_package)
    assert r.status_code == 422 and "CNY" in r.get_json()["detail"]


def test_placing_is_idempotent_with_an_idempotency_key(client, session, shop, headers, offer):
    keyed = {**headers, "Idempotency-Key": "order-logo-1"}
    first = _place(client, keyed, offer.small_package)
    again = _place(client, keyed, offer.small_package)
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true" and again.get_json()["id"] == first.get_json()["id"]
    assert _order_count(session, shop.id) == 1 and _balance(session, shop.id) == FUNDS - SMALL_PRICE
    other = client.post(
        "/api/v1/service-orders", json={"package_id": offer.project_package}, headers=keyed
    )  # same key, other body
    assert other.status_code == 422


def test_another_shops_order_is_404_like_a_missing_one(client, session, shop, headers, offer):
    order_id = _place(client, headers, offer.small_package).get_json()["id"]
    stranger = token_for(ShopFactory())
    for path in ("", "/timeline", "/files/sfl_x"):
        assert client.get(f"/api/v1/service-orders/{order_id}{path}", headers=stranger).status_code == 404
    r = client.post(f"/api/v1/service-orders/{order_id}/messages", json={"body": "hello"}, headers=stranger)
    assert r.status_code == 404 and r.get_json()["type"].endswith("/service-order-not-found")
    listed = client.get("/api/v1/service-orders", headers=stranger).get_json()
    assert listed["items"] == []
    mine = client.get("/api/v1/service-orders?state=in_progress", headers=headers).get_json()
    assert [o["id"] for o in mine["items"]] == [order_id]


def test_scopes_are_enforced(client, session, shop, offer):
    reader = token_for(shop, ["read_services"])
    assert client.get("/api/v1/services", headers=reader).status_code == 200
    r = _place(client, reader, offer.small_package)
    assert r.status_code == 403 and r.get_json()["required_scope"] == "write_services"
    assert client.get("/api/v1/services").status_code == 401


def test_files_are_checked_by_content_and_downloaded_as_attachments(client, session, shop, headers, offer, clock):
    order_id = _place(client, headers, offer.small_package).get_json()["id"]
    upload = {"filename": "../brief.pdf", "content_base64": base64.b64encode(PDF).decode()}
    r = client.post(f"/api/v1/service-orders/{order_id}/files", json=upload, headers=headers)
    assert r.status_code == 201, r.get_json()
    stored = r.get_json()
    assert (stored["filename"], stored["content_type"], stored["size"]) == ("brief.pdf", "application/pdf", len(PDF))

    got = client.get(f"/api/v1/service-orders/{order_id}/files/{stored['id']}", headers=headers)
    assert got.status_code == 200 and got.data == PDF
    assert got.headers["Content-Type"] == "application/pdf"
    assert (
        got.headers["Content-Disposition"].startswith("attachment")
        and got.headers["X-Content-Type-Options"] == "nosniff"
    )

    for name, content, why in [
        ("page.html", b"<!DOCTYPE html><script>alert(1)</script>", "not accepted"),
        ("tool.exe", b"MZ\x90\x00\x03\x00\x00\x00", "not accepted"),
        ("empty.txt", b"", "Empty"),
    ]:
        r = client.post(
            f"/api/v1/service-orders/{order_id}/files",
            json={"filename": name, "content_base64": base64.b64encode(content).decode()},
            headers=headers,
        )
        assert r.status_code == 422, (name, r.get_json())
        problem = r.get_json()
        assert why in " ".join(m for ms in problem.get("errors", {}).values() for m in ms) + problem["detail"]
    bad = client.post(
        f"/api/v1/service-orders/{order_id}/files", json={"filename": "x", "content_base64": "%%%"}, headers=headers
    )
    assert bad.status_code == 422 and "content_base64" in bad.get_json()["errors"]
    assert session.scalar(sa.select(sa.func.count()).select_from(ServiceFile)) == 1

    # The provider's deliverable is on the order too; a stranger provider cannot fetch it.
    mine = services.upload_file(
        session, order_id=order_id, party=Party.provider(offer.provider_user_id), filename="logo.png",
        content=b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, now=clock.now(),
    )  # fmt: skip
    session.commit()
    assert client.get(f"/api/v1/service-orders/{order_id}/files/{mine.id}", headers=headers).status_code == 200
    stranger = token_for(ShopFactory())
    assert client.get(f"/api/v1/service-orders/{order_id}/files/{mine.id}", headers=stranger).status_code == 404


def test_files_over_5_mib_are_refused(client, session, shop, headers, offer):
    order_id = _place(client, headers, offer.small_package).get_json()["id"]
    big = b"a" * (5 * 1024 * 1024 + 1)
    r = client.post(
        f"/api/v1/service-orders/{order_id}/files",
        json={"filename": "big.txt", "content_base64": base64.b64encode(big).decode()},
        headers=headers,
    )
    assert r.status_code in (413, 422), r.status_code
    assert r.headers["Content-Type"] == "application/problem+json"
    just = b"a" * (5 * 1024 * 1024)
    r = client.post(
        f"/api/v1/service-orders/{order_id}/files",
        json={"filename": "just.txt", "content_base64": base64.b64encode(just).decode()},
        headers=headers,
    )
    assert r.status_code == 201, r.get_json()


def test_messages_join_the_timeline(client, session, shop, headers, offer, clock):
    order_id = _place(client, headers, offer.small_package).get_json()["id"]
    r = client.post(f"/api/v1/service-orders/{order_id}/messages", json={"body": "请用红色"}, headers=headers)
    assert r.status_code == 201 and r.get_json()["kind"] == "message"
    services.post_message(
        session, order_id=order_id, party=Party.provider(offer.provider_user_id), body="好的", now=clock.now()
    )
    session.commit()
    timeline = client.get(f"/api/v1/service-orders/{order_id}/timeline?limit=2", headers=headers)
    items = timeline.get_json()["items"]
    assert [(e["actor"], e["note"]) for e in items] == [("provider", "好的"), ("buyer", "请用红色")]
    assert timeline.get_json()["next_cursor"] and 'rel="next"' in timeline.headers["Link"]
    assert (
        client.post(f"/api/v1/service-orders/{order_id}/messages", json={"body": ""}, headers=headers).status_code
        == 422
    )


def test_one_rating_per_finished_order_shows_on_the_provider(client, session, shop, headers, offer, clock):
    order_id = _place(client, headers, offer.small_package).get_json()["id"]
    provider = Party.provider(offer.provider_user_id)
    services.deliver(session, order_id=order_id, party=provider, note="Done", now=clock.now())
    session.commit()
    early = client.post(f"/api/v1/service-orders/{order_id}/rating", json={"stars": 5}, headers=headers)
    assert early.status_code == 409
    client.post(f"/api/v1/service-orders/{order_id}/accept", headers=headers)
    assert (
        client.post(f"/api/v1/service-orders/{order_id}/rating", json={"stars": 6}, headers=headers).status_code == 422
    )
    r = client.post(f"/api/v1/service-orders/{order_id}/rating", json={"stars": 4, "text": "快"}, headers=headers)
    assert r.status_code == 201 and r.get_json()["stars"] == 4
    again = client.post(f"/api/v1/service-orders/{order_id}/rating", json={"stars": 1}, headers=headers)
    assert again.status_code == 409 and again.get_json()["type"].endswith("/already-rated")
    page = client.get(f"/api/v1/service-providers/{offer.provider_id}", headers=headers).get_json()
    assert page["rating"] == {"count": 1, "average": 4.0, "by_stars": {"1": 0, "2": 0, "3": 0, "4": 1, "5": 0}}
    assert page["recent_ratings"][0]["text"] == "快" and "shop_id" not in page["recent_ratings"][0]


def test_the_catalogue_searches_in_chinese_and_english_and_filters_by_category(client, session, headers, clock):
    ops = make_offer(session, clock.now())
    design = make_offer(session, clock.now(), title="品牌 Logo 设计 Brand logo design", category="design")

    def found(query: str) -> list[str]:
        return [s["id"] for s in client.get(f"/api/v1/services?{query}", headers=headers).get_json()["items"]]

    assert found("q=代运营") == [ops.service_id]
    assert found("q=logo") == [design.service_id]
    assert found("q=LOGO 设计") == [design.service_id]
    assert found("category=design") == [design.service_id]
    assert set(found("")) >= {ops.service_id, design.service_id}
    assert found("q=%25") == []  # a wildcard is a character, not "everything"
    bad = client.get("/api/v1/services?category=cooking", headers=headers)
    assert bad.status_code == 422 and "query.category" in bad.get_json()["errors"]


def test_a_service_shows_its_packages_side_by_side(client, session, headers, offer):
    r = client.get(f"/api/v1/services/{offer.service_id}", headers=headers)
    assert r.status_code == 200 and r.headers["ETag"] == '"1"'
    packages = r.get_json()["packages"]
    assert [(p["name"], p["kind"], p["price"]) for p in packages] == [
        ("Basic", "small", SMALL_PRICE), ("Full shop", "project", 100_000),
    ]  # fmt: skip
    assert [m["amount"] for m in packages[1]["milestones"]] == [40_000, 50_001, 9_999]
    assert client.get("/api/v1/services/svc_missing", headers=headers).status_code == 404
    assert client.get("/api/v1/service-providers/prv_missing", headers=headers).status_code == 404
