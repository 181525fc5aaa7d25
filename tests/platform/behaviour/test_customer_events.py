"""POST/GET /api/v1/customer-events: batches, idempotency per event id, validation, tenancy, retention."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa

from factories import ShopFactory, token_for
from souk_platform.behaviour.models import CustomerEvent
from souk_platform.events.models import OutboxEvent
from souk_platform.shops.models import Shop

URL = "/api/v1/customer-events"


def _at(clock, **ago: float) -> str:
    return (clock.now() - dt.timedelta(**ago)).isoformat().replace("+00:00", "Z")


def _event(scene, clock, event_id: str, type: str = "searched", **fields: Any) -> dict[str, Any]:
    defaults: dict[str, Any] = {
        "product_viewed": {"properties": {"product_id": scene.product}},
        "searched": {"properties": {"query": "乌龙茶"}},
    }.get(type, {})
    return {"event_id": event_id, "customer_id": scene.ann, "type": type, "occurred_at": _at(clock, minutes=1)} | (
        defaults | fields
    )


def _stored(session, shop_id: str) -> list[str]:
    session.expire_all()
    return sorted(session.scalars(sa.select(CustomerEvent.event_id).where(CustomerEvent.shop_id == shop_id)))


def test_a_batch_is_stored_and_listed_latest_first(client, session, clock, scene):
    events = [
        _event(scene, clock, "e-1", "product_viewed", occurred_at=_at(clock, hours=3), channel="wechat"),
        _event(
            scene,
            clock,
            "e-2",
            "cart_added",
            customer_id=scene.bob,
            properties={"product_id": scene.product, "sku_id": scene.sku, "quantity": 2},
            campaign="double-11",
        ),
        _event(scene, clock, "e-3", "searched", occurred_at=_at(clock, hours=1)),
        _event(scene, clock, "e-4", "page_viewed", properties={"url": "https://shop.example/p/1"}),
        _event(scene, clock, "e-5", "store_visited", store="Shanghai-1", occurred_at=_at(clock, days=399)),
        _event(scene, clock, "e-6", "review_posted", properties={"product_id": scene.product, "rating": 5}),
        _event(scene, clock, "e-7", "service_contacted", properties={}),
        _event(scene, clock, "e-8", "coupon_viewed"),
        _event(scene, clock, "e-9", "share_clicked", occurred_at=_at(clock, minutes=-4)),  # a sender clock ahead
    ]
    outbox = sa.select(sa.func.count()).select_from(OutboxEvent).where(OutboxEvent.shop_id == scene.shop_id)
    before = session.scalar(outbox)
    r = client.post(URL, headers=scene.headers, json={"events": events})
    assert r.status_code == 200, r.get_json()
    assert r.get_json() == {"accepted": 9, "duplicates": []}
    assert _stored(session, scene.shop_id) == [f"e-{i}" for i in range(1, 10)]
    # No outbox event per behaviour event (docs/architecture.md §5.4).
    assert session.scalar(outbox) == before

    body = client.get(URL, headers=scene.headers).get_json()
    # Latest occurred_at first: the sender's clock ahead of ours, then the last minute, hours and days ago.
    listed = [e["event_id"] for e in body["items"]]
    assert listed[0] == "e-9" and listed[-3:] == ["e-3", "e-1", "e-5"]
    assert set(listed[1:6]) == {"e-2", "e-4", "e-6", "e-7", "e-8"}
    cart = next(e for e in body["items"] if e["event_id"] == "e-2")
    assert cart["customer_id"] == scene.bob and cart["campaign"] == "double-11" and cart["channel"] is None
    assert cart["properties"] == {"product_id": scene.product, "sku_id": scene.sku, "quantity": 2}
    assert cart["id"].startswith("cev_")

    r = client.get(URL, headers=scene.headers, query_string={"customer_id": scene.bob})
    assert [e["event_id"] for e in r.get_json()["items"]] == ["e-2"]
    r = client.get(URL, headers=scene.headers, query_string={"type": "searched"})
    assert [e["event_id"] for e in r.get_json()["items"]] == ["e-3"]
    r = client.get(URL, headers=scene.headers, query_string={"since": _at(clock, hours=2)})
    assert "e-1" not in {e["event_id"] for e in r.get_json()["items"]} and len(r.get_json()["items"]) == 7

    seen: list[str] = []
    query: dict[str, Any] = {"limit": 4}
    while True:
        page = client.get(URL, headers=scene.headers, query_string=query).get_json()
        seen += [e["event_id"] for e in page["items"]]
        if not page["next_cursor"]:
            break
        query["cursor"] = page["next_cursor"]
    assert seen == [e["event_id"] for e in body["items"]]


def test_duplicates_inside_a_batch_and_across_batches_are_skipped(client, session, clock, scene):
    first = [_event(scene, clock, "a"), _event(scene, clock, "b"), _event(scene, clock, "a", customer_id=scene.bob)]
    r = client.post(URL, headers=scene.headers, json={"events": first})
    assert r.get_json() == {"accepted": 2, "duplicates": ["a"]}
    stored = session.scalar(sa.select(CustomerEvent).where(CustomerEvent.event_id == "a"))
    assert stored.customer_id == scene.ann  # the first copy wins

    again = [_event(scene, clock, "c"), _event(scene, clock, "b"), _event(scene, clock, "a")]
    r = client.post(URL, headers=scene.headers, json={"events": again})
    assert r.status_code == 200 and r.get_json() == {"accepted": 1, "duplicates": ["b", "a"]}
    assert _stored(session, scene.shop_id) == ["a", "b", "c"]


def test_an_idempotency_key_replays_the_first_answer(client, session, clock, scene):
    headers = scene.headers | {"Idempotency-Key": "batch-1"}
    body = {"events": [_event(scene, clock, "k-1")]}
    first = client.post(URL, headers=headers, json=body)
    replay = client.post(URL, headers=headers, json=body)
    assert first.get_json() == replay.get_json() == {"accepted": 1, "duplicates": []}
    assert replay.headers["Idempotent-Replayed"] == "true"
    other = client.post(URL, headers=headers, json={"events": [_event(scene, clock, "k-2")]})
    assert other.status_code == 422
    assert _stored(session, scene.shop_id) == ["k-1"]


BAD_ITEMS = [
    ({"event_id": ""}, "events.1.event_id"),
    ({"event_id": "x" * 65}, "events.1.event_id"),
    ({"event_id": "café"}, "events.1.event_id"),
    ({"event_id": "line\n"}, "events.1.event_id"),
    ({"customer_id": None}, "events.1.customer_id"),
    ({"type": "teleported"}, "events.1.type"),
    ({"occurred_at": "yesterday"}, "events.1.occurred_at"),
    ({"occurred_at": "2026-03-02T09:00:00"}, "events.1.occurred_at"),  # no timezone
    ({"channel": "c" * 65}, "events.1.channel"),
    ({"properties": {"query": "tea", "colour": "red"}}, "events.1.properties.colour"),
    ({"properties": {}}, "events.1.properties.query"),
    ({"properties": {"query": ""}}, "events.1.properties.query"),
    ({"properties": {"query": "q" * 201}}, "events.1.properties.query"),
    ({"properties": "query=tea"}, "events.1.properties"),
    ({"type": "page_viewed", "properties": {"url": "u" * 2001}}, "events.1.properties.url"),
    ({"type": "review_posted", "properties": {"product_id": "P", "rating": 6}}, "events.1.properties.rating"),
    ({"type": "review_posted", "properties": {"product_id": "P", "rating": True}}, "events.1.properties.rating"),
    ({"type": "review_posted", "properties": {"rating": 4}}, "events.1.properties.product_id"),
    ({"type": "cart_added", "properties": {"product_id": "P", "quantity": 0}}, "events.1.properties.quantity"),
    ({"type": "cart_added", "properties": {"product_id": "P", "quantity": 10_000}}, "events.1.properties.quantity"),
    ({"type": "product_viewed", "properties": {"product_id": "P", "quantity": 1}}, "events.1.properties.quantity"),
    ({"type": "coupon_viewed", "properties": {"coupon_id": "c"}}, "events.1.properties.coupon_id"),
    ({"type": "store_visited", "properties": {}}, "events.1.store"),
    ({"type": "product_viewed", "properties": {"product_id": "prd_nope"}}, "events.1.properties.product_id"),
    ({"type": "product_viewed", "properties": {"product_id": "P", "sku_id": "sku_nope"}}, "events.1.properties.sku_id"),
    (
        {"type": "product_viewed", "properties": {"product_id": "P", "sku_id": "OTHER_SKU"}},
        "events.1.properties.sku_id",
    ),
    ({"customer_id": "cus_nope"}, "events.1.customer_id"),
    ({"occurred_at": "FUTURE"}, "events.1.occurred_at"),
    ({"occurred_at": "TOO_OLD"}, "events.1.occurred_at"),
    ({"surprise": 1}, "events.1.surprise"),
]


@pytest.mark.parametrize(("change", "path"), BAD_ITEMS, ids=[p + ":" + repr(c)[:40] for c, p in BAD_ITEMS])
def test_any_bad_event_is_422_naming_its_path_and_nothing_is_written(client, session, clock, scene, change, path):
    names = {
        "P": scene.product,
        "OTHER_SKU": scene.other_sku,
        "FUTURE": _at(clock, minutes=-6),
        "TOO_OLD": _at(clock, days=401),
    }

    def resolve(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: resolve(v) for k, v in value.items()}
        return names.get(value, value) if isinstance(value, str) else value

    bad = _event(scene, clock, "bad") | resolve(change)
    r = client.post(URL, headers=scene.headers, json={"events": [_event(scene, clock, "good"), bad]})
    assert r.status_code == 422, r.get_json()
    body = r.get_json()
    assert path in body["errors"], body
    assert r.headers["Content-Type"] == "application/problem+json"
    assert _stored(session, scene.shop_id) == []


def test_several_bad_events_are_all_named(client, session, clock, scene):
    events = [
        _event(scene, clock, "1", customer_id="cus_nope"),
        _event(scene, clock, "2"),
        _event(scene, clock, "3", "review_posted", properties={"product_id": scene.product, "rating": 0}),
    ]
    r = client.post(URL, headers=scene.headers, json={"events": events})
    assert r.status_code == 422
    assert set(r.get_json()["errors"]) == {"events.2.properties.rating"}  # shapes first: one request, one kind
    events[2]["properties"]["rating"] = 3
    events[1]["occurred_at"] = _at(clock, days=500)
    r = client.post(URL, headers=scene.headers, json={"events": events})
    assert set(r.get_json()["errors"]) == {"events.0.customer_id", "events.1.occurred_at"}
    assert _stored(session, scene.shop_id) == []


def test_another_shops_customer_or_product_is_422(client, session, clock, scene):
    for bad in (
        _event(scene, clock, "x", customer_id=scene.foreign_customer),
        _event(scene, clock, "x", "product_viewed", properties={"product_id": scene.foreign_product}),
    ):
        r = client.post(URL, headers=scene.headers, json={"events": [bad]})
        assert r.status_code == 422 and r.get_json()["type"].endswith("/invalid-customer-events")
        assert set(r.get_json()["errors"]) <= {"events.0.customer_id", "events.0.properties.product_id"}
        assert len(r.get_json()["errors"]) == 1
    assert _stored(session, scene.shop_id) == []


def test_batches_hold_1_to_500_events(client, session, clock, scene):
    r = client.post(URL, headers=scene.headers, json={"events": [_event(scene, clock, f"e{i}") for i in range(501)]})
    assert r.status_code == 422 and "events" in r.get_json()["errors"]
    for body in ({"events": []}, {}, {"events": "e1"}, {"events": [None]}):
        assert client.post(URL, headers=scene.headers, json=body).status_code == 422
    assert _stored(session, scene.shop_id) == []
    r = client.post(URL, headers=scene.headers, json={"events": [_event(scene, clock, f"e{i}") for i in range(500)]})
    assert r.get_json() == {"accepted": 500, "duplicates": []}


def test_scopes_and_tenancy_of_the_list(client, session, clock, scene):
    client.post(URL, headers=scene.headers, json={"events": [_event(scene, clock, "mine")]})
    other = token_for(ShopFactory())
    assert client.get(URL, headers=other).get_json()["items"] == []
    reader = token_for(session.get(Shop, scene.shop_id), ["read_customer_events"])
    assert client.get(URL, headers=reader).status_code == 200
    assert client.post(URL, headers=reader, json={"events": [_event(scene, clock, "no")]}).status_code == 403


def test_the_purge_job_drops_events_past_the_window_and_is_safe_twice(app, client, session, clock, scene):
    from souk_platform.behaviour.tasks import purge_customer_events

    r = client.post(
        URL,
        headers=scene.headers,
        json={"events": [_event(scene, clock, "old", occurred_at=_at(clock, days=399)), _event(scene, clock, "new")]},
    )
    assert r.get_json()["accepted"] == 2
    clock.advance(days=2)  # "old" is now 401 days old
    with app.app_context():
        assert purge_customer_events() == 1
        assert purge_customer_events() == 0
    assert _stored(session, scene.shop_id) == ["new"]
