"""The marketplace's event types are in the webhook catalogue: documented, subscribable, scoped."""

from __future__ import annotations

from factories import ShopFactory, token_for
from souk_marketplace.requirements.services import TRANSITIONS
from souk_marketplace.service_market.states import STATES
from souk_platform.webhooks import catalogue
from souk_platform.webhooks.services import required_scope


def test_every_requirement_and_service_order_state_is_a_documented_event_type(app):
    webhooks = app.extensions["souk.api"].spec.to_dict()["webhooks"]
    for name in [f"requirement.{s}" for s in TRANSITIONS] + [f"service_order.{s}" for s in STATES]:
        assert catalogue.is_known(name) and name in webhooks, name
    assert {"requirement_pledge.created", "service_order.message", "requirement.proposal_submitted"} <= set(webhooks)


def test_apps_need_the_marketplace_scopes_to_hear_them():
    assert required_scope("service_order.settled") == "read_services"
    assert required_scope("requirement_pledge.withdrawn") == "read_requirements"


def test_a_merchant_subscribes_to_marketplace_events(client):
    headers = token_for(ShopFactory(), ["write_webhooks"])
    topics = ["service_order.*", "requirement.funded", "requirement_pledge.*"]
    response = client.post(
        "/api/v1/webhook-subscriptions", json={"url": "https://h.example.com/x", "topics": topics}, headers=headers
    )
    assert response.status_code == 201, response.json
    assert sorted(response.json["topics"]) == sorted(topics)
