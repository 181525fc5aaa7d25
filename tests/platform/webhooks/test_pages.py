"""The webhook console pages: a developer's endpoints and delivery log per app, a shop owner's own endpoints."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
import sqlalchemy as sa
from standardwebhooks import Webhook

from factories import ShopFactory, emit_order_paid
from souk_platform.apps.services import register_app, sign_up_developer
from souk_platform.auth.services import create_user
from souk_platform.events.services import emit
from souk_platform.installations.services import install_app
from souk_platform.webhooks import services
from souk_platform.webhooks.models import WebhookDelivery, WebhookSubscription
from souk_platform.webhooks.runtime import runtime_for

PASSWORD = "correct horse"
MANIFEST = """\
name: {name}
redirect_uris: [https://{name}.example.com/cb]
scopes: [read_orders]
"""


def login(client: Any, email: str) -> None:
    assert client.post("/login", data={"email": email, "password": PASSWORD}).status_code == 302


def text(response: Any) -> str:
    return str(response.get_data(as_text=True))


def secret_on(html: str) -> str:
    match = re.search(r'id="signing-secret">(whsec_[^<]+)<', html)
    assert match, "no secret on the page"
    return match.group(1)


@pytest.fixture
def developer_app(app, session, now_clock):
    """A developer's app installed on a shop, with one endpoint (at ``url`` once set) for the installation."""
    developer = sign_up_developer(session, email="dev@example.com", name="Dee Developer", password=PASSWORD)
    registered, _version, _secret = register_app(
        session, developer=developer, manifest_text=MANIFEST.format(name="hooky")
    )
    merchant = create_user(session, email="merchant@example.com", name="Mo Merchant", password=PASSWORD)
    shop = ShopFactory(name="Tea Corner", owner=merchant)
    installation = install_app(
        session, app=registered, shop_id=shop.id, user_id=merchant.id, scopes=["read_orders"], now=now_clock.now()
    )
    session.commit()
    shop_id, installation_id = shop.id, installation.id

    def subscribe(url: str) -> str:
        subscription, _ = services.create_subscription(
            session,
            shop_id=shop_id,
            url=url,
            topics=["order.*"],
            installation_id=installation_id,
            granted_scopes=("read_orders",),
            box=runtime_for(app).box,
            clock=now_clock,
            allow_loopback=True,  # the receiver listens on 127.0.0.1
        )
        session.commit()
        return subscription.id

    return registered.id, shop_id, subscribe


def test_the_developer_sees_the_apps_endpoints_deliveries_and_every_attempt(
    client, session, developer_app, receiver, loopback, drain
):
    app_id, shop_id, subscribe = developer_app
    subscription_id = subscribe(receiver.url)
    receiver.script = [(500, {})]
    emit_order_paid(session, shop_id, "ord_1")
    drain()
    login(client, "dev@example.com")

    page = text(client.get(f"/developer/apps/{app_id}/webhooks"))
    assert receiver.url in page and "order.*" in page and shop_id in page
    assert "Tea Corner" not in page  # shops are shown by id only
    assert "HTTP 500" in page  # the log shows the failed first attempt
    app_page = text(client.get(f"/developer/apps/{app_id}"))
    assert f"/developer/apps/{app_id}/webhooks" in app_page  # a tab in the app console

    delivery_id = session.scalars(sa.select(WebhookDelivery.id)).one()
    detail = text(client.get(f"/developer/apps/{app_id}/webhooks/deliveries/{delivery_id}"))
    assert "webhook-signature" in detail and "ord_1" in detail  # request headers and body
    assert "nope nope" in detail and ("nope " * 2000) not in detail  # only the first 4 KiB of the response
    assert "500" in detail and " ms" in detail

    resent = client.post(f"/developer/apps/{app_id}/webhooks/deliveries/{delivery_id}/resend")
    assert resent.status_code == 302
    drain()
    delivery = session.get(WebhookDelivery, delivery_id)
    assert delivery.status == "succeeded" and delivery.attempts == 2
    assert receiver.ids() == [delivery_id, delivery_id]  # the same webhook-id again
    detail = text(client.get(f"/developer/apps/{app_id}/webhooks/deliveries/{delivery_id}"))
    assert "Attempt 2" in detail and "Delivered" in detail
    assert subscription_id in text(client.get(f"/developer/apps/{app_id}/webhooks"))


def test_the_log_filters_by_status_and_event_type(client, session, developer_app, receiver, loopback, drain):
    app_id, shop_id, subscribe = developer_app
    subscribe(receiver.url)
    receiver.script = [(500, {})]
    emit_order_paid(session, shop_id, "ord_1")
    emit(session, shop_id=shop_id, type="order.cancelled", subject_type="order", subject_id="ord_2", payload={})
    session.commit()
    drain()
    login(client, "dev@example.com")
    base = f"/developer/apps/{app_id}/webhooks"

    def rows(**query: str) -> list[str]:
        html = text(client.get(base, query_string=query))
        log = html[html.index('class="deliveries"') :]
        return re.findall(r"<td><code>(order\.[a-z]+)</code></td>", log)

    assert sorted(rows()) == ["order.cancelled", "order.paid"]
    assert rows(event_type="order.cancelled") == ["order.cancelled"]
    assert len(rows(status="pending")) == 1 and len(rows(status="succeeded")) == 1
    assert len(rows(status="nonsense")) == 2  # an unknown filter value is ignored, not an error page


def test_a_disabled_endpoint_shows_a_banner_and_can_be_turned_on_and_recovered(
    client, session, developer_app, receiver, loopback, now_clock, drain
):
    app_id, shop_id, subscribe = developer_app
    subscription_id = subscribe(receiver.url)
    receiver.script = [(410, {})]
    emit_order_paid(session, shop_id, "ord_1")
    drain()
    login(client, "dev@example.com")
    base = f"/developer/apps/{app_id}/webhooks"

    page = text(client.get(base))
    assert 'class="banner"' in page and "410 Gone" in page
    refused = client.post(f"{base}/endpoints/{subscription_id}/test", follow_redirects=True)
    assert "turn it on again first" in text(refused)

    assert client.post(f"{base}/endpoints/{subscription_id}/enable").status_code == 302
    assert 'class="banner"' not in text(client.get(base))
    since = (now_clock.now() - dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    recovered = client.post(f"{base}/endpoints/{subscription_id}/recover", data={"since": since}, follow_redirects=True)
    assert "1 failed delivery will be sent again." in text(recovered)
    drain()
    assert [r.message["data"]["id"] for r in receiver.received] == ["ord_1", "ord_1"]

    too_old = (now_clock.now() - dt.timedelta(days=15)).strftime("%Y-%m-%dT%H:%M")
    refused = client.post(f"{base}/endpoints/{subscription_id}/recover", data={"since": too_old})
    assert refused.status_code == 200 and "kept for 14 days" in text(refused)
    garbled = client.post(f"{base}/endpoints/{subscription_id}/recover", data={"since": "next tuesday"})
    assert garbled.status_code == 200 and "field-error" in text(garbled)


def test_the_test_event_button_sends_one_and_shows_it(client, session, developer_app, receiver, loopback, drain):
    app_id, _shop_id, subscribe = developer_app
    subscription_id = subscribe(receiver.url)
    login(client, "dev@example.com")
    sent = client.post(f"/developer/apps/{app_id}/webhooks/endpoints/{subscription_id}/test")
    assert sent.status_code == 302 and "/webhooks/deliveries/msg_" in sent.headers["Location"]
    drain()
    assert [r.message["type"] for r in receiver.received] == ["webhook.test"]
    assert "Delivered" in text(client.get(sent.headers["Location"]))


def test_other_developers_and_shop_staff_get_404s(client, session, developer_app):
    app_id, shop_id, subscribe = developer_app
    subscription_id = subscribe("https://hooks.example.com/in")
    emit_order_paid(session, shop_id, "ord_1")
    from souk_platform.webhooks import tasks

    tasks.dispatch_outbox()
    delivery_id = session.scalars(sa.select(WebhookDelivery.id)).one()
    sign_up_developer(session, email="rival@example.com", name="Rival", password=PASSWORD)
    other_app, _, _ = register_app(
        session,
        developer=sign_up_developer(session, email="third@example.com", name="T", password=PASSWORD),
        manifest_text=MANIFEST.format(name="other"),
    )
    session.commit()
    login(client, "rival@example.com")
    base = f"/developer/apps/{app_id}/webhooks"
    assert client.get(base).status_code == 404
    assert client.get(f"{base}/deliveries/{delivery_id}").status_code == 404
    assert client.post(f"{base}/deliveries/{delivery_id}/resend").status_code == 404
    assert client.post(f"{base}/endpoints/{subscription_id}/test").status_code == 404

    login(client, "third@example.com")  # owns an app, but not this one: its own app's URL hides others' data
    other = f"/developer/apps/{other_app.id}/webhooks"
    assert client.get(other).status_code == 200
    assert client.get(f"{other}/deliveries/{delivery_id}").status_code == 404
    assert client.post(f"{other}/endpoints/{subscription_id}/enable").status_code == 404

    login(client, "merchant@example.com")  # not a developer
    assert client.get(base).status_code == 403


# --- the shop owner's page ----------------------------------------------------------------------


@pytest.fixture
def owner(session):
    user = create_user(session, email="owner@example.com", name="Olive Owner", password=PASSWORD)
    shop = ShopFactory(name="Noodle Bar", owner=user)
    session.commit()
    return shop


def test_the_owner_adds_an_endpoint_and_sees_its_secret_once(client, session, owner, receiver, loopback, drain):
    login(client, "owner@example.com")
    base = f"/shops/{owner.id}/webhooks"
    assert base in text(client.get("/"))  # linked from the shop list
    created = client.post(base, data={"url": receiver.url, "topics": "order.paid, customer.*", "description": "ERP"})
    assert created.status_code == 200
    secret = secret_on(text(created))
    subscription = session.scalars(sa.select(WebhookSubscription)).one()
    assert subscription.topics == ["customer.*", "order.paid"] and subscription.installation_id is None
    assert secret not in text(client.get(base))  # shown once

    emit_order_paid(session, owner.id, "ord_1")
    drain()
    (got,) = receiver.received
    Webhook(secret).verify(got.body, got.headers)
    page = text(client.get(base))
    assert "ERP" in page and "Delivered" in page


def test_bad_endpoint_input_is_shown_next_to_the_fields_and_saves_nothing(client, session, owner):
    login(client, "owner@example.com")
    base = f"/shops/{owner.id}/webhooks"
    for form, expected in [
        ({"url": "ftp://x.example/", "topics": "order.paid"}, "This URL cannot receive webhooks."),
        ({"url": "https://x.example/", "topics": "order.shipped_to_mars"}, "No event type is called"),
        ({"url": "https://x.example/", "topics": "Order Paid"}, "These topics cannot be used."),
        ({"url": "", "topics": "order.paid"}, "Give the URL that receives the events."),
        ({"url": "https://x.example/", "topics": ""}, "Name at least one event type."),
    ]:
        response = client.post(base, data=form)
        assert response.status_code == 200
        html = text(response)
        assert "field-error" in html and expected in html, form
    assert session.scalar(sa.select(sa.func.count()).select_from(WebhookSubscription)) == 0


def test_the_owner_rotates_and_deletes_an_endpoint(client, session, owner, receiver, loopback, now_clock, drain):
    login(client, "owner@example.com")
    base = f"/shops/{owner.id}/webhooks"
    first = secret_on(text(client.post(base, data={"url": receiver.url, "topics": "order.*"})))
    subscription_id = session.scalars(sa.select(WebhookSubscription.id)).one()
    rotated = client.post(f"{base}/endpoints/{subscription_id}/rotate-secret")
    second = secret_on(text(rotated))
    assert second != first and "24 hours" in text(rotated)
    emit_order_paid(session, owner.id, "ord_1")
    drain()
    got = receiver.received[-1]
    Webhook(first).verify(got.body, got.headers)  # both sign during the overlap
    Webhook(second).verify(got.body, got.headers)

    delivery_id = session.scalars(sa.select(WebhookDelivery.id)).one()
    detail = client.get(f"{base}/deliveries/{delivery_id}")
    assert detail.status_code == 200 and "ord_1" in text(detail)
    assert client.post(f"{base}/endpoints/{subscription_id}/delete").status_code == 302
    page = text(client.get(base))
    assert "No endpoints yet." in page and receiver.url not in page
    assert client.get(f"{base}/deliveries/{delivery_id}").status_code == 404


def test_the_owner_page_shows_only_the_shops_own_endpoints_and_others_get_404s(
    app, client, session, owner, developer_app
):
    _app_id, app_shop_id, subscribe = developer_app
    app_subscription_id = subscribe("https://hooks.example.com/app")
    login(client, "merchant@example.com")  # owns the shop the app is installed on
    page = text(client.get(f"/shops/{app_shop_id}/webhooks"))
    assert "https://hooks.example.com/app" not in page  # the app's endpoint is the app's business
    assert client.post(f"/shops/{app_shop_id}/webhooks/endpoints/{app_subscription_id}/delete").status_code == 404

    own, _ = services.create_subscription(
        session,
        shop_id=owner.id,
        url="https://hooks.example.com/noodles",
        topics=["*"],
        installation_id=None,
        granted_scopes=None,
        box=runtime_for(app).box,
        clock=app.extensions["souk.clock"],
    )
    session.commit()
    assert client.get(f"/shops/{owner.id}/webhooks").status_code == 404  # another shop
    assert client.post(f"/shops/{app_shop_id}/webhooks/endpoints/{own.id}/rotate-secret").status_code == 404
    assert session.get(WebhookSubscription, own.id) is not None


def test_forms_need_the_csrf_token(app, client, session, owner):
    login(client, "owner@example.com")
    base = f"/shops/{owner.id}/webhooks"
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        refused = client.post(base, data={"url": "https://hooks.example.com/in", "topics": "order.*"})
        assert refused.status_code == 400
        html = text(client.get(base))
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
        assert token
        created = client.post(
            base, data={"url": "https://hooks.example.com/in", "topics": "order.*", "csrf_token": token.group(1)}
        )
        assert created.status_code == 200 and "whsec_" in text(created)
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
