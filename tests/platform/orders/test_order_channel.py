"""Orders carry their channel (docs/architecture.md §5.8): checkout takes it, the API and ``order.*`` show it."""

from __future__ import annotations

import sqlalchemy as sa

from souk_platform.db import db
from souk_platform.events.models import OutboxEvent
from souk_platform.orders.models import ORDER_CHANNELS
from souk_platform.webhooks import catalogue


def _payloads(shop_id: str, type: str) -> list[dict]:
    return [
        dict(event.payload)
        for event in db.session.scalars(
            sa.select(OutboxEvent).where(OutboxEvent.shop_id == shop_id, OutboxEvent.type == type)
        )
    ]


def test_checkout_records_the_channel_and_the_api_and_events_show_it(flow, world):
    order = flow.place([(world.tea, 1)], channel="mini_program")
    assert order["channel"] == "mini_program"
    flow.pay(order["id"])
    assert flow.get(f"/orders/{order['id']}").get_json()["channel"] == "mini_program"
    listed = flow.get("/orders").get_json()["items"]
    assert [o["channel"] for o in listed] == ["mini_program"]
    for type in ("order.created", "order.paid"):
        (payload,) = _payloads(world.shop_id, type)
        assert payload["channel"] == "mini_program"


def test_old_clients_get_online(flow, world):
    order = flow.place([(world.tea, 1)])
    assert order["channel"] == "online"
    (payload,) = _payloads(world.shop_id, "order.created")
    assert payload["channel"] == "online"


def test_an_unknown_channel_is_422_and_changes_nothing(flow, world):
    cart_id = flow.cart([(world.tea, 1)])
    before = flow.snapshot()
    for bad in ("tv", "", None, 3):
        r = flow.checkout(cart_id, channel=bad)
        assert r.status_code == 422, r.get_json()
        assert "channel" in r.get_json()["errors"], r.get_json()
    assert flow.snapshot() == before


def test_the_catalogue_describes_the_channel():
    schema = catalogue.CATALOGUE["order.paid"].data
    assert schema["properties"]["channel"]["enum"] == list(ORDER_CHANNELS)
