"""Inventory adjustments over HTTP: stock moves, the audit trail, refusals, idempotent retries."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from factories import ShopFactory, token_for
from souk_platform.catalog.models import InventoryAdjustment, Sku
from souk_platform.catalog.services import reserve_stock
from souk_platform.events.models import OutboxEvent

LATER = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)


def _adjust(client, headers, sku_id, **body):
    return client.post(f"/api/v1/skus/{sku_id}/inventory-adjustments", headers=headers, json=body)


def _count(session, sku_id):
    return session.scalar(
        sa.select(sa.func.count()).select_from(InventoryAdjustment).where(InventoryAdjustment.sku_id == sku_id)
    )


def test_adjustments_move_stock_and_are_listed(client, session, make_product):
    shop = ShopFactory()
    sku_id = make_product(shop, skus=[("LJ", 100, 10)]).sku_ids[0]
    headers = token_for(shop, ["write_products"])
    r = _adjust(client, headers, sku_id, delta=5, reason="delivery from Hangzhou")
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert (body["delta"], body["on_hand_after"], body["reason"]) == (5, 15, "delivery from Hangzhou")
    assert (body["sku"]["on_hand"], body["sku"]["available"], body["sku"]["version"]) == (15, 15, 2)
    assert _adjust(client, headers, sku_id, delta=-3, reason="broken tins").status_code == 201
    assert client.get(f"/api/v1/skus/{sku_id}", headers=headers).get_json()["on_hand"] == 12
    items = client.get(f"/api/v1/skus/{sku_id}/inventory-adjustments", headers=headers).get_json()["items"]
    assert [(a["delta"], a["on_hand_after"], a["reason"]) for a in items] == [
        (-3, 12, "broken tins"),
        (5, 15, "delivery from Hangzhou"),
        (10, 10, "initial stock"),
    ]
    events = session.scalars(
        sa.select(OutboxEvent)
        .where(OutboxEvent.subject_id == sku_id, OutboxEvent.type == "inventory.adjusted")
        .order_by(OutboxEvent.id)
    ).all()
    assert [(e.payload["adjustment"]["delta"], e.payload["sku"]["on_hand"]) for e in events] == [
        (10, 10),
        (5, 15),
        (-3, 12),
    ]
    assert events[-1].payload["sku"]["version"] == 3


def test_bad_adjustments_are_422_and_change_nothing(client, session, make_product):
    shop = ShopFactory()
    sku_id = make_product(shop, skus=[("LJ", 100, 10)]).sku_ids[0]
    headers = token_for(shop, ["write_products"])
    cases = [
        ({"delta": 0, "reason": "nothing"}, "delta"),
        ({"delta": 1.5, "reason": "half"}, "delta"),
        ({"delta": "3", "reason": "string"}, "delta"),
        ({"delta": 10**12, "reason": "huge"}, "delta"),
        ({"delta": 1}, "reason"),
        ({"delta": 1, "reason": " "}, "reason"),
        ({"delta": 1, "reason": "x", "on_hand": 9}, "on_hand"),
    ]
    for body, field in cases:
        r = _adjust(client, headers, sku_id, **body)
        assert r.status_code == 422 and field in r.get_json()["errors"], (body, r.get_json())
    r = _adjust(client, headers, sku_id, delta=999_999_999, reason="over the limit")
    assert r.status_code == 422 and r.get_json()["type"].endswith("/stock-limit-exceeded")
    session.expire_all()
    assert session.get(Sku, sku_id).on_hand == 10 and _count(session, sku_id) == 1


def test_stock_cannot_fall_below_what_unpaid_orders_hold(client, session, make_product):
    shop = ShopFactory()
    shop_id = shop.id
    sku_id = make_product(shop, skus=[("LJ", 100, 10)]).sku_ids[0]
    reserve_stock(session, shop_id=shop_id, ref="ord_unpaid", quantities={sku_id: 7}, expires_at=LATER)
    session.commit()
    headers = token_for(shop, ["write_products"])
    r = _adjust(client, headers, sku_id, delta=-4, reason="stocktake")
    assert r.status_code == 409
    problem = r.get_json()
    assert problem["type"].endswith("/stock-below-reserved")
    assert (problem["on_hand"], problem["reserved"], problem["available"]) == (10, 7, 3)
    assert "at most 3" in problem["detail"] and "delta" in problem["errors"]
    session.expire_all()
    sku = session.get(Sku, sku_id)
    assert (sku.on_hand, sku.reserved, sku.version) == (10, 7, 2) and _count(session, sku_id) == 1
    assert _adjust(client, headers, sku_id, delta=-3, reason="stocktake").status_code == 201
    assert client.get(f"/api/v1/skus/{sku_id}", headers=headers).get_json()["available"] == 0


def test_idempotency_key_replays_and_moves_stock_once(client, session, make_product):
    shop = ShopFactory()
    sku_id = make_product(shop, skus=[("LJ", 100, 10)]).sku_ids[0]
    headers = {**token_for(shop, ["write_products"]), "Idempotency-Key": "restock-2026-03-02"}
    first = _adjust(client, headers, sku_id, delta=6, reason="delivery")
    again = _adjust(client, headers, sku_id, delta=6, reason="delivery")
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json() and again.headers["Idempotent-Replayed"] == "true"
    other_body = _adjust(client, headers, sku_id, delta=60, reason="delivery")
    assert other_body.status_code == 422 and other_body.get_json()["type"].endswith("/idempotency-key-reused")
    session.expire_all()
    assert session.get(Sku, sku_id).on_hand == 16 and _count(session, sku_id) == 2
