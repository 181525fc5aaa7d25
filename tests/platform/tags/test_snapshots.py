"""Segment snapshots (固化人群包): frozen membership, conversion afterwards, and bad input changing nothing."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from factories import ShopFactory, token_for
from souk_platform.customers.models import Customer
from souk_platform.customers.services import record_purchase, record_refund
from souk_platform.events.models import OutboxEvent
from souk_platform.tags.models import SegmentSnapshot, SegmentSnapshotMember

LEVEL_3_UP = {"op": "and", "conditions": [{"field": "level", "cmp": "gte", "value": 3}]}  # cat, dan, eve


def _segment(client, pop, condition=LEVEL_3_UP):
    r = client.post("/api/v1/segments", headers=pop.headers, json={"name": "V3+", "condition": condition})
    assert r.status_code == 201, r.get_json()
    return r.get_json()["id"]


def _snapshot(client, pop, segment_id, **body):
    r = client.post(f"/api/v1/segments/{segment_id}/snapshots", headers=pop.headers, json=body)
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def _names(client, pop, url):
    items = client.get(url, headers=pop.headers).get_json()["items"]
    return sorted(c["name"] for c in items)


def test_a_snapshot_keeps_its_members_when_the_facts_change(client, session, clock, population):
    pop = population
    seg_id = _segment(client, pop)
    snap = _snapshot(client, pop, seg_id, name="双十二 V3+")
    assert snap["member_count"] == 3 and snap["segment_id"] == seg_id and snap["name"] == "双十二 V3+"
    assert snap["condition"] == LEVEL_3_UP and snap["segment_name"] == "V3+"
    session.execute(sa.update(Customer).where(Customer.id == pop.ids["cat"]).values(level=1))
    session.commit()
    assert client.get(f"/api/v1/segments/{seg_id}", headers=pop.headers).get_json()["count"] == 2
    assert _names(client, pop, f"/api/v1/segment-snapshots/{snap['id']}/customers") == ["cat", "dan", "eve"]
    events = session.scalars(sa.select(OutboxEvent).where(OutboxEvent.type == "segment.snapshot_created")).all()
    assert [e.subject_id for e in events] == [snap["id"]] and events[0].payload["member_count"] == 3
    default_named = _snapshot(client, pop, seg_id)
    assert default_named["name"] == "V3+ 2026-03-02 10:00" and default_named["member_count"] == 2


def test_conversion_counts_who_bought_within_the_window(client, session, clock, population):
    pop = population
    snap = _snapshot(client, pop, _segment(client, pop))
    taken = clock.now()
    buy = [("dan", 2, 12_000), ("dan", 3, 8_000), ("eve", 10, 50_000), ("bob", 1, 9_900)]  # bob: not a member
    for index, (name, days, amount) in enumerate(buy):
        at = taken + dt.timedelta(days=days)
        record_purchase(
            session, shop_id=pop.shop_id, customer_id=pop.ids[name], order_id=f"c{index}", amount=amount, at=at
        )
    # a purchase before the snapshot and a refund inside the window change nothing
    record_purchase(
        session,
        shop_id=pop.shop_id,
        customer_id=pop.ids["cat"],
        order_id="early",
        amount=1,
        at=taken - dt.timedelta(seconds=1),
    )
    record_refund(
        session,
        shop_id=pop.shop_id,
        customer_id=pop.ids["dan"],
        order_id="c0",
        amount=2_000,
        at=taken + dt.timedelta(days=4),
        refund_id="r1",
    )
    session.commit()
    clock.advance(days=8)
    url = f"/api/v1/segment-snapshots/{snap['id']}"
    week = client.get(url, headers=pop.headers).get_json()["conversion"]  # 7 days by default
    assert week == {
        "days": 7,
        "window_ends_at": (taken + dt.timedelta(days=7)).isoformat(),
        "complete": True,
        "members": 3,
        "converted": 1,
        "rate": 0.3333,
        "orders": 2,
        "revenue": 20_000,
    }
    month = client.get(f"{url}?days=30", headers=pop.headers).get_json()["conversion"]
    assert (month["converted"], month["orders"], month["revenue"], month["complete"]) == (2, 3, 70_000, False)
    assert _names(client, pop, f"{url}/customers?converted=true") == ["dan"]
    assert _names(client, pop, f"{url}/customers?converted=false") == ["cat", "eve"]
    assert _names(client, pop, f"{url}/customers?converted=false&days=30") == ["cat"]


def test_snapshots_outlive_their_segment_and_can_be_deleted(client, session, population):
    pop = population
    seg_id = _segment(client, pop)
    snap = _snapshot(client, pop, seg_id)
    listed = client.get(f"/api/v1/segments/{seg_id}/snapshots", headers=pop.headers).get_json()["items"]
    assert [s["id"] for s in listed] == [snap["id"]] and "conversion" not in listed[0]
    assert client.delete(f"/api/v1/segments/{seg_id}", headers=pop.headers).status_code == 204
    kept = client.get(f"/api/v1/segment-snapshots/{snap['id']}", headers=pop.headers).get_json()
    assert kept["segment_id"] is None and kept["segment_name"] == "V3+" and kept["member_count"] == 3
    assert [s["id"] for s in client.get("/api/v1/segment-snapshots", headers=pop.headers).get_json()["items"]] == [
        snap["id"]
    ]
    assert client.delete(f"/api/v1/segment-snapshots/{snap['id']}", headers=pop.headers).status_code == 204
    assert client.get(f"/api/v1/segment-snapshots/{snap['id']}", headers=pop.headers).status_code == 404
    assert session.scalar(sa.select(sa.func.count()).select_from(SegmentSnapshotMember)) == 0
    deleted = session.scalars(sa.select(OutboxEvent).where(OutboxEvent.type == "segment.snapshot_deleted")).all()
    assert [e.subject_id for e in deleted] == [snap["id"]]


def test_bad_input_is_4xx_and_writes_nothing(client, session, population):
    pop = population
    seg_id = _segment(client, pop)
    url = f"/api/v1/segments/{seg_id}/snapshots"
    for body in ({"name": ""}, {"name": "x" * 101}, {"name": 3}, {"members": []}):
        r = client.post(url, headers=pop.headers, json=body)
        assert r.status_code == 422, (body, r.get_json())
        assert r.headers["Content-Type"] == "application/problem+json"
    assert client.post("/api/v1/segments/seg_nope/snapshots", headers=pop.headers, json={}).status_code == 404
    snap = _snapshot(client, pop, seg_id)
    for query in ("days=0", "days=366", "days=x"):
        assert client.get(f"/api/v1/segment-snapshots/{snap['id']}?{query}", headers=pop.headers).status_code == 422
    assert (
        client.get(f"/api/v1/segment-snapshots/{snap['id']}/customers?converted=maybe", headers=pop.headers).status_code
        == 422
    )
    assert session.scalar(sa.select(sa.func.count()).select_from(SegmentSnapshot)) == 1


def test_a_retried_snapshot_request_makes_one_snapshot(client, session, population):
    pop = population
    url = f"/api/v1/segments/{_segment(client, pop)}/snapshots"
    headers = {**pop.headers, "Idempotency-Key": "snap-1"}
    first = client.post(url, headers=headers, json={"name": "once"})
    again = client.post(url, headers=headers, json={"name": "once"})
    assert first.status_code == again.status_code == 201 and first.get_json()["id"] == again.get_json()["id"]
    assert session.scalar(sa.select(sa.func.count()).select_from(SegmentSnapshot)) == 1


def test_other_shops_cannot_see_or_touch_a_snapshot(client, population):
    pop = population
    seg_id = _segment(client, pop)
    snap = _snapshot(client, pop, seg_id)
    other = token_for(ShopFactory())
    assert client.post(f"/api/v1/segments/{seg_id}/snapshots", headers=other, json={}).status_code == 404
    assert client.get(f"/api/v1/segments/{seg_id}/snapshots", headers=other).status_code == 404
    for path in ("", "/customers"):
        assert client.get(f"/api/v1/segment-snapshots/{snap['id']}{path}", headers=other).status_code == 404
    assert client.delete(f"/api/v1/segment-snapshots/{snap['id']}", headers=other).status_code == 404
    assert client.get("/api/v1/segment-snapshots", headers=other).get_json()["items"] == []
    tags_only = token_for(type("S", (), {"id": pop.shop_id})(), ["read_tags"])
    assert client.get(f"/api/v1/segment-snapshots/{snap['id']}", headers=tags_only).status_code == 200
    r = client.get(f"/api/v1/segment-snapshots/{snap['id']}/customers", headers=tags_only)
    assert r.status_code == 403 and r.get_json()["required_scope"] == "read_customers"
