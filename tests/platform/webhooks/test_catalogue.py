"""The event catalogue: topics are checked against it, derived names are delivered, the OpenAPI lists it."""

from __future__ import annotations

import re
from pathlib import Path

import jsonschema
import sqlalchemy as sa
from openapi_spec_validator import validate

from factories import ShopFactory, token_for
from souk_platform.customers.services import create_customer
from souk_platform.events.models import OutboxEvent
from souk_platform.events.services import emit
from souk_platform.orders.services import MOVE_EVENTS, TRANSITIONS
from souk_platform.webhooks import catalogue
from souk_platform.webhooks.models import WebhookSubscription

SOURCE = Path(catalogue.__file__).parents[1]
ISSUE_NAMES = [
    "order.created", "order.paid", "order.cancelled", "order.refunded", "order.fulfilled",
    "product.created", "product.updated", "product.deleted", "inventory.low", "customer.created",
    "customer.updated", "member.level_changed", "points.changed", "stored_value.changed", "coupon.redeemed",
    "app.installed", "app.uninstalled", "customers.data_request", "customers.redact", "shop.redact",
]  # fmt: skip
# type="x.y" in emit calls, and the literal type handed to each domain's small emit wrapper
_LITERAL = re.compile(
    r'type="([a-z_]+\.[a-z_.]+)"|_(?:emit\w*|touch)\([^"()]*"([a-z_]+\.[a-z_]+)"|event = "([a-z_]+\.[a-z_]+)"'
)


def _emitted_types() -> set[str]:
    found: set[str] = set()
    for path in SOURCE.rglob("*.py"):
        for match in _LITERAL.finditer(path.read_text()):
            found.add(next(g for g in match.groups() if g))
    found |= {MOVE_EVENTS.get(to, f"order.{to}") for targets in TRANSITIONS.values() for to in targets}
    return found


def test_every_type_the_platform_emits_is_catalogued_and_the_issue_names_exist():
    emitted = _emitted_types()
    assert {"order.paid", "customer.level_changed", "points.awarded", "coupon.redeemed"} <= emitted  # the scan works
    platform_level = {"app.created", "app.version_published", "app.secret_rotated"}  # no shop: no subscribers
    assert sorted(emitted - platform_level - set(catalogue.CATALOGUE)) == []
    assert [n for n in ISSUE_NAMES if n not in catalogue.CATALOGUE] == []


def test_openapi_has_a_valid_webhooks_section_with_every_type(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    validate(spec)
    assert spec["openapi"].startswith("3.1")
    assert set(catalogue.CATALOGUE) | {"webhook.test"} == set(spec["webhooks"])
    body = spec["webhooks"]["order.paid"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body["required"] == ["type", "created_at", "shop_id", "data"]
    assert "version" in body["properties"]["data"]["properties"]
    assert "customer.level_changed" in spec["webhooks"]["member.level_changed"]["post"]["description"]


def test_real_payloads_match_their_catalogue_schema(session):
    shop = ShopFactory()
    customer = create_customer(session, shop_id=shop.id, name="Li Lei", phone="13800000000")
    session.flush()
    event = session.scalar(sa.select(OutboxEvent).where(OutboxEvent.subject_id == customer.id))
    jsonschema.validate(event.payload, catalogue.CATALOGUE["customer.created"].data)


def test_unknown_topics_and_empty_wildcards_are_refused_and_nothing_is_created(client, session):
    shop = ShopFactory()
    shop_id = shop.id  # failing requests roll the session back
    headers = token_for(shop, ["write_webhooks"])
    for topics in (["order.shipped"], ["nothing.*"], ["order.paid", "custmer.created"]):
        response = client.post(
            "/api/v1/webhook-subscriptions", json={"url": "https://h.example.com/x", "topics": topics}, headers=headers
        )
        assert response.status_code == 422, topics
        assert response.json["type"].endswith("webhook-subscription-invalid")
        assert "No event type is called" in response.json["errors"]["topics"][0]
    count = sa.select(sa.func.count()).select_from(WebhookSubscription).where(WebhookSubscription.shop_id == shop_id)
    assert session.scalar(count) == 0
    ok = ["member.level_changed", "inventory.low", "points.*", "customers.redact", "*"]
    response = client.post(
        "/api/v1/webhook-subscriptions", json={"url": "https://h.example.com/x", "topics": ok}, headers=headers
    )
    assert response.status_code == 201, response.json


def _emit(session, shop, type_, payload, subject_type="customer", subject_id="cus_1"):
    emit(session, shop_id=shop.id, type=type_, subject_type=subject_type, subject_id=subject_id, payload=payload)
    session.commit()


def _sku(available):
    return {"id": "sku_1", "product_id": "prd_1", "on_hand": available + 1, "reserved": 1, "available": available,
            "version": 3}  # fmt: skip


def test_derived_names_are_delivered_with_the_events_data(client, session, receiver, loopback, now_clock, drain):
    shop = ShopFactory()
    headers = token_for(shop, ["write_webhooks"])
    topics = ["member.level_changed", "points.changed", "product.deleted", "inventory.low"]
    response = client.post(
        "/api/v1/webhook-subscriptions", json={"url": receiver.url, "topics": topics}, headers=headers
    )
    assert response.status_code == 201

    _emit(session, shop, "customer.level_changed", {"id": "cus_1", "level": 3, "version": 4})
    _emit(session, shop, "points.awarded", {"customer_id": "cus_1", "balance": 120, "points": 20})
    _emit(session, shop, "product.archived", {"id": "prd_1", "status": "archived", "version": 2}, "product", "prd_1")
    _emit(session, shop, "sku.updated", _sku(50), "sku", "sku_1")  # plenty left: not low
    _emit(session, shop, "inventory.adjusted", {"adjustment": {"id": "adj_1", "delta": -46}, "sku": _sku(4)}, "sku")
    _emit(session, shop, "customer.created", {"id": "cus_2", "version": 1})  # not subscribed
    drain()

    got = sorted((r.message["type"], r.message["data"].get("version")) for r in receiver.received)
    assert got == [
        ("inventory.low", None),
        ("member.level_changed", 4),
        ("points.changed", None),
        ("product.deleted", 2),
    ]
    low = next(r.message for r in receiver.received if r.message["type"] == "inventory.low")
    assert low["data"]["sku"]["available"] == 4


def test_a_subscription_naming_the_emitted_type_gets_it_once_under_that_name(
    client, session, receiver, loopback, now_clock, drain
):
    shop = ShopFactory()
    headers = token_for(shop, ["write_webhooks"])
    topics = ["points.awarded", "points.changed"]
    client.post("/api/v1/webhook-subscriptions", json={"url": receiver.url, "topics": topics}, headers=headers)
    _emit(session, shop, "points.awarded", {"customer_id": "cus_1", "balance": 120, "points": 20})
    drain()
    assert [r.message["type"] for r in receiver.received] == ["points.awarded"]
