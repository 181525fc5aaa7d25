"""Endpoints an app's manifest declares: subscribed at install, signed with the app's secret, owned by the manifest."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from standardwebhooks import Webhook

from factories import ShopFactory, UserFactory, emit_order_paid, token_for
from souk_platform.apps.models import App
from souk_platform.apps.services import current_version, publish_version, register_app
from souk_platform.installations.services import install_app, uninstall
from souk_platform.oauth.services import issue_app_token
from souk_platform.webhooks.app_endpoints import MANIFEST_SOURCE
from souk_platform.webhooks.models import WebhookSubscription
from souk_platform.webhooks.runtime import runtime_for

MANIFEST = """\
name: Paid Bell
redirect_uris: [https://bell.example.com/cb]
scopes: [read_orders, read_customers]
webhooks:
{hooks}
"""


def _manifest(hooks: list[tuple[str, str]]) -> str:
    return MANIFEST.format(hooks="\n".join(f"  - {{topic: {topic}, uri: '{uri}'}}" for topic, uri in hooks))


@pytest.fixture
def world(app, session, receiver, now_clock):
    """An app declaring three endpoints, installed by a shop that grants read_orders only."""
    owner = UserFactory()
    shop = ShopFactory(owner=owner)
    hooks = [
        ("order.paid", receiver.url),
        ("order.created", receiver.url),
        ("customer.created", receiver.url + "/customers"),  # needs read_customers: not granted
    ]
    registered, _, _ = register_app(session, developer=UserFactory(), manifest_text=_manifest(hooks))
    session.commit()
    installation_id = _install(app, session, registered.id, shop.id, owner.id, now_clock.now())
    _, plaintext = issue_app_token(session, app_id=registered.id, now=now_clock.now())
    session.commit()
    return {
        "app_id": registered.id,
        "shop": shop,
        "shop_id": shop.id,
        "owner_id": owner.id,
        "installation_id": installation_id,
        "app_token": {"Authorization": f"Bearer {plaintext}"},
    }


def _install(app, session, app_id, shop_id, owner_id, now) -> str:
    """The owner's consent to the app's current version (read_orders), committed; the installation's id."""
    installation = install_app(
        session,
        app=session.get(App, app_id),
        shop_id=shop_id,
        user_id=owner_id,
        scopes=["read_orders"],
        now=now,
        box=runtime_for(app).box,
    )
    session.commit()
    return installation.id


def _subscriptions(session, installation_id):
    session.expire_all()
    return session.scalars(
        sa.select(WebhookSubscription)
        .where(WebhookSubscription.installation_id == installation_id)
        .order_by(WebhookSubscription.url)
    ).all()


def test_install_subscribes_each_declared_uri_to_the_granted_topics(session, world, receiver):
    (subscription,) = _subscriptions(session, world["installation_id"])
    assert subscription.url == receiver.url and subscription.source == MANIFEST_SOURCE
    assert subscription.topics == ["order.created", "order.paid"]  # customer.created: scope not granted
    assert subscription.shop_id == world["shop_id"] and subscription.status == "enabled"


def test_deliveries_verify_with_the_app_secret_read_through_the_api(client, session, world, receiver, loopback, drain):
    got = client.get("/api/v1/app/webhooks/secret", headers=world["app_token"])
    assert got.status_code == 200, got.json
    secret = got.json["secret"]
    assert secret.startswith("whsec_") and got.json["previous_secret"] is None
    assert client.get("/api/v1/app/webhooks/secret", headers=world["app_token"]).json["secret"] == secret

    emit_order_paid(session, world["shop_id"], "ord_bell")
    drain()
    (hit,) = [r for r in receiver.received if r.message["type"] == "order.paid"]
    event = Webhook(secret).verify(hit.body, hit.headers)
    assert event["data"]["id"] == "ord_bell"


def test_rotation_signs_with_both_secrets_for_a_day_in_every_shop(
    app, client, session, world, receiver, loopback, drain, now_clock
):
    old = client.get("/api/v1/app/webhooks/secret", headers=world["app_token"]).json["secret"]
    second_owner = UserFactory()
    second_shop = ShopFactory(owner=second_owner)
    second_shop_id = second_shop.id
    _install(app, session, world["app_id"], second_shop_id, second_owner.id, now_clock.now())

    rotated = client.post("/api/v1/app/webhooks/secret/rotate", headers=world["app_token"])
    assert rotated.status_code == 201, rotated.json
    new = rotated.json["secret"]
    assert new != old and rotated.json["previous_secret"] == old
    emit_order_paid(session, world["shop_id"], "ord_one")
    emit_order_paid(session, second_shop_id, "ord_two")
    drain()
    hits = [r for r in receiver.received if r.message["type"] == "order.paid"]
    assert {h.message["data"]["id"] for h in hits} == {"ord_one", "ord_two"}
    for hit in hits:  # each shop's copy of the endpoint was re-signed
        assert Webhook(new).verify(hit.body, hit.headers) and Webhook(old).verify(hit.body, hit.headers)

    now_clock.advance(hours=24, seconds=1)
    receiver.received.clear()
    emit_order_paid(session, second_shop_id, "ord_three")
    drain()
    (hit,) = [r for r in receiver.received if r.message["type"] == "order.paid"]
    # Signed a day later by the frozen clock, so the reference verifier's 5-minute window would refuse
    # it: compare with the signature the reference signer makes. Only the new secret signs now.
    at = dt.datetime.fromtimestamp(int(hit.headers["webhook-timestamp"]), dt.UTC)
    assert hit.headers["webhook-signature"] == Webhook(new).sign(hit.headers["webhook-id"], at, hit.body.decode())


def test_consent_to_a_new_version_follows_its_endpoints(app, session, world, receiver, now_clock):
    (before,) = _subscriptions(session, world["installation_id"])
    publish_version(
        session,
        app=session.get(App, world["app_id"]),
        manifest_text=_manifest([("order.paid", receiver.url), ("order.cancelled", receiver.url + "/cancelled")]),
    )
    _install(app, session, world["app_id"], world["shop_id"], world["owner_id"], now_clock.now())
    kept, added = _subscriptions(session, world["installation_id"])
    assert kept.id == before.id and kept.topics == ["order.paid"]  # same endpoint: its log stays
    assert added.url == receiver.url + "/cancelled" and added.topics == ["order.cancelled"]

    v3 = _manifest([("order.paid", receiver.url + "/v3")])
    publish_version(session, app=session.get(App, world["app_id"]), manifest_text=v3)
    _install(app, session, world["app_id"], world["shop_id"], world["owner_id"], now_clock.now())
    (only,) = _subscriptions(session, world["installation_id"])
    assert only.url == receiver.url + "/v3"


def test_the_api_leaves_manifest_endpoints_to_the_manifest_but_may_pause_them(client, session, world):
    (subscription,) = _subscriptions(session, world["installation_id"])
    before = (subscription.url, subscription.topics, "enabled", subscription.version)
    headers = token_for(world["shop"], ["read_webhooks", "write_webhooks"])
    url = f"/api/v1/webhook-subscriptions/{subscription.id}"
    session.commit()
    for response in (
        client.patch(url, json={"url": "https://elsewhere.example.com/h"}, headers=headers),
        client.patch(url, json={"topics": ["order.created"], "enabled": False}, headers=headers),
        client.delete(url, headers=headers),
        client.post(url + "/rotate-secret", headers=headers),
    ):
        assert response.status_code == 409, response.json
        assert response.json["type"].endswith("webhook-subscription-from-manifest")
    (unchanged,) = _subscriptions(session, world["installation_id"])
    assert (unchanged.url, unchanged.topics, unchanged.status, unchanged.version) == before
    listed = client.get("/api/v1/webhook-subscriptions", headers=headers).json["items"]
    assert [s["source"] for s in listed] == [MANIFEST_SOURCE]

    paused = client.patch(url, json={"enabled": False}, headers=headers)
    assert paused.status_code == 200 and paused.json["status"] == "disabled"


def test_an_uninstalled_app_gets_nothing_and_a_reinstall_subscribes_again(
    app, session, world, receiver, loopback, drain, now_clock
):
    uninstall(session, shop_id=world["shop_id"], installation_id=world["installation_id"], now=now_clock.now())
    session.commit()
    emit_order_paid(session, world["shop_id"], "ord_bell")
    drain()
    assert not [r for r in receiver.received if r.message["type"] == "order.paid"]
    again = _install(app, session, world["app_id"], world["shop_id"], world["owner_id"], now_clock.now())
    assert [s.source for s in _subscriptions(session, again)] == [MANIFEST_SOURCE]


def test_the_secret_api_needs_an_app_token(client, world):
    shop_token = token_for(world["shop"])
    assert client.get("/api/v1/app/webhooks/secret", headers=shop_token).status_code in (401, 403)
    assert client.post("/api/v1/app/webhooks/secret/rotate").status_code == 401


def test_installing_a_version_with_endpoints_without_the_secret_box_is_a_programming_error(session, now_clock):
    owner = UserFactory()
    shop = ShopFactory(owner=owner)
    registered, _, _ = register_app(
        session, developer=UserFactory(), manifest_text=_manifest([("order.paid", "https://bell.example.com/h")])
    )
    with pytest.raises(ValueError, match="secret box"):
        install_app(
            session, app=registered, shop_id=shop.id, user_id=owner.id, scopes=["read_orders"], now=now_clock.now()
        )


def test_an_internal_uri_in_a_manifest_stored_before_the_check_gets_no_subscription(app, session, receiver, now_clock):
    owner = UserFactory()
    shop = ShopFactory(owner=owner)
    registered, _, _ = register_app(
        session, developer=UserFactory(), manifest_text=_manifest([("order.paid", receiver.url)])
    )
    version = current_version(registered)
    # As a version uploaded before manifests were checked for internal addresses may still read.
    metadata = {"topic": "order.created", "uri": "https://169.254.169.254/latest/meta-data/"}
    version.manifest = {**version.manifest, "webhooks": [*version.manifest["webhooks"], metadata]}
    session.commit()
    installation_id = _install(app, session, registered.id, shop.id, owner.id, now_clock.now())
    assert [(s.url, s.topics) for s in _subscriptions(session, installation_id)] == [(receiver.url, ["order.paid"])]
