"""Privacy webhooks: every installed app hears of data requests and redactions; shop.redact 48 h after uninstall."""

from __future__ import annotations

import sqlalchemy as sa

from factories import ShopFactory, UserFactory, token_for
from souk_platform.apps.services import register_app
from souk_platform.customers.services import create_customer
from souk_platform.events.models import OutboxEvent
from souk_platform.installations.services import install_app, uninstall
from souk_platform.webhooks import services
from souk_platform.webhooks.models import WebhookDelivery
from souk_platform.webhooks.runtime import runtime_for
from souk_platform.webhooks.services import send_due_shop_redactions

MANIFEST = """\
name: {name}
redirect_uris: [https://{name}.example.com/cb]
scopes: [read_orders, read_customers]
"""


def _installed_app(app, session, shop_id, owner, name, urls_and_topics, now):
    """Register and install an app on ``shop`` with the given subscriptions; return the installation."""
    registered, _version, _secret = register_app(
        session, developer=UserFactory(), manifest_text=MANIFEST.format(name=name)
    )
    installation = install_app(
        session, app=registered, shop_id=shop_id, user_id=owner.id, scopes=["read_orders", "read_customers"], now=now
    )
    for url, topics in urls_and_topics:
        services.create_subscription(
            session,
            shop_id=shop_id,
            url=url,
            topics=topics,
            installation_id=installation.id,
            granted_scopes=tuple(installation.granted_scopes),
            box=runtime_for(app).box,
            clock=app.extensions["souk.clock"],
            allow_loopback=True,  # the receiver listens on 127.0.0.1
        )
    session.commit()
    return installation


def _by_type(receiver, type_):
    return [r for r in receiver.received if r.message["type"] == type_]


def test_a_data_request_reaches_every_installed_app_once(app, client, session, receiver, loopback, now_clock, drain):
    owner = UserFactory()
    shop = ShopFactory(owner=owner)
    shop_id, headers = shop.id, token_for(shop, ["write_customers"])
    now = now_clock.now()
    one_id = _installed_app(app, session, shop_id, owner, "one", [(receiver.url + "/one", ["order.*"])], now).id
    two_id = _installed_app(
        app, session, shop_id, owner, "two", [(receiver.url + "/two-a", ["order.paid"]),
                                           (receiver.url + "/two-b", ["customers.*"])], now
    ).id  # fmt: skip
    gone = _installed_app(app, session, shop_id, owner, "gone", [(receiver.url + "/gone", ["order.*"])], now)
    uninstall(session, shop_id=shop_id, installation_id=gone.id, now=now)
    customer_id = create_customer(session, shop_id=shop_id, name="Han Meimei", email="han@example.com").id
    session.commit()
    drain()
    receiver.received.clear()

    response = client.post(f"/api/v1/customers/{customer_id}/data-requests", headers=headers)
    assert response.status_code == 202, response.json
    assert response.json["customer"] == {"id": customer_id, "email": "han@example.com", "phone": None}
    assert response.json["orders_requested"] == [] and response.json["id"].startswith("pvr_")
    drain()

    got = _by_type(receiver, "customers.data_request")
    assert len(got) == 2  # one per active app; the uninstalled app hears nothing
    assert {r.message["data"]["id"] for r in got} == {response.json["id"]}
    ids = {r.headers["webhook-id"] for r in got}
    log = services.deliveries_stmt(shop_id, installation_id=None).where(WebhookDelivery.id.in_(ids))
    by_subscription = {d.subscription_id for d in session.scalars(log)}
    subscriptions = {s.id: s for s in session.scalars(services.subscriptions_stmt(shop_id, installation_id=None))}
    owners = sorted((subscriptions[s].installation_id, subscriptions[s].url.rsplit("/", 1)[1]) for s in by_subscription)
    assert owners == sorted([(one_id, "one"), (two_id, "two-b")])  # two: the endpoint that asked for customers.*

    response = client.post(f"/api/v1/customers/{customer_id}/redactions", headers=headers)
    assert response.status_code == 202
    drain()
    assert len(_by_type(receiver, "customers.redact")) == 2


def test_privacy_requests_are_tenant_scoped_and_need_write_customers(client, session):
    shop, other = ShopFactory(), ShopFactory()
    theirs_id = create_customer(session, shop_id=other.id, name="Not yours").id
    session.commit()
    mine, read_only = token_for(shop, ["write_customers"]), token_for(other, ["read_customers"])
    before = session.scalar(sa.select(sa.func.count()).select_from(OutboxEvent))

    response = client.post(f"/api/v1/customers/{theirs_id}/redactions", headers=mine)
    assert response.status_code == 404 and response.json["type"].endswith("customer-not-found")
    response = client.post("/api/v1/customers/cus_nope/data-requests", headers=mine)
    assert response.status_code == 404
    response = client.post(f"/api/v1/customers/{theirs_id}/redactions", headers=read_only)
    assert response.status_code == 403
    assert session.scalar(sa.select(sa.func.count()).select_from(OutboxEvent)) == before


def test_shop_redact_goes_to_the_uninstalled_app_48_hours_later_once(
    app, session, receiver, loopback, now_clock, drain
):
    owner = UserFactory()
    shop_id = ShopFactory(owner=owner).id
    kept_id = _installed_app(
        app, session, shop_id, owner, "kept", [(receiver.url + "/kept", ["order.*"])], now_clock.now()
    ).id
    left_id = _installed_app(
        app, session, shop_id, owner, "left", [(receiver.url + "/left", ["order.*"])], now_clock.now()
    ).id
    uninstall(session, shop_id=shop_id, installation_id=left_id, now=now_clock.now())
    session.commit()

    # Other test modules may leave uninstalled installations in this database: look at ours only.
    now_clock.advance(hours=47, minutes=59)
    with app.app_context():
        assert left_id not in send_due_shop_redactions(session, now=now_clock.now())
    now_clock.advance(minutes=1)
    with app.app_context():
        assert left_id in send_due_shop_redactions(session, now=now_clock.now())
        assert left_id not in send_due_shop_redactions(session, now=now_clock.now())  # once
        assert kept_id not in send_due_shop_redactions(session, now=now_clock.now())
        session.commit()
    drain()

    (got,) = _by_type(receiver, "shop.redact")
    assert got.message["data"]["installation_id"] == left_id and got.message["shop_id"] == shop_id
    assert kept_id != left_id
