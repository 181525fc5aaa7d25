"""End to end over real sockets: outbox row → dispatcher → rq worker → a receiver on 127.0.0.1."""

from __future__ import annotations

import datetime as dt
import json

import sqlalchemy as sa
from standardwebhooks import Webhook

from factories import ShopFactory, token_for
from souk_platform.core.ids import issued_at_millis, new_id
from souk_platform.events.models import OutboxEvent
from souk_platform.events.services import emit
from souk_platform.webhooks import tasks
from souk_platform.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookSubscription
from souk_platform.webhooks.services import claim_due_deliveries


def _subscribe(client, headers, url, topics=("order.*",)):
    response = client.post("/api/v1/webhook-subscriptions", json={"url": url, "topics": list(topics)}, headers=headers)
    assert response.status_code == 201, response.json
    return response.json


def _paid(session, shop, order_id="ord_1", version=2):
    emit(
        session,
        shop_id=shop.id,
        type="order.paid",
        subject_type="order",
        subject_id=order_id,
        payload={"id": order_id, "status": "paid", "version": version},
    )
    session.commit()


def test_an_event_reaches_the_receiver_signed_and_verifiable(client, session, receiver, loopback, now_clock, drain):
    shop = ShopFactory()
    headers = token_for(shop, ["write_webhooks"])
    sub = _subscribe(client, headers, receiver.url)
    assert sub["secret"].startswith("whsec_")
    assert "secret" not in client.get(f"/api/v1/webhook-subscriptions/{sub['id']}", headers=headers).json

    _paid(session, shop)
    emit(session, shop_id=shop.id, type="customer.created", subject_type="customer", subject_id="cus_1", payload={})
    session.commit()
    drain()

    (got,) = receiver.received  # customer.created is not in the topics
    message = Webhook(sub["secret"]).verify(got.body, got.headers)
    assert message["type"] == "order.paid" and message["shop_id"] == shop.id
    assert message["data"] == {"id": "ord_1", "status": "paid", "version": 2}
    assert message["created_at"].endswith("Z")
    assert (
        session.scalar(sa.select(sa.func.count()).select_from(OutboxEvent).where(OutboxEvent.dispatched_at.is_(None)))
        == 0
    )

    log = client.get("/api/v1/webhook-deliveries", headers=headers).json["items"]
    assert [(d["id"], d["status"], d["attempts"]) for d in log] == [(got.headers["webhook-id"], "succeeded", 1)]
    detail = client.get(f"/api/v1/webhook-deliveries/{log[0]['id']}", headers=headers).json
    (attempt,) = detail["attempt_log"]
    assert attempt["response_status"] == 200 and attempt["response_body"] == "ok"
    assert attempt["request_headers"]["webhook-id"] == log[0]["id"] and attempt["latency_ms"] >= 0


def test_rotation_signs_with_both_secrets_for_a_day(client, session, receiver, loopback, now_clock, drain):
    shop = ShopFactory()
    headers = token_for(shop, ["write_webhooks"])
    sub = _subscribe(client, headers, receiver.url)
    rotated = client.post(f"/api/v1/webhook-subscriptions/{sub['id']}/rotate-secret", headers=headers).json
    assert rotated["secret"] != sub["secret"]
    _paid(session, shop)
    drain()
    got = receiver.received[-1]
    Webhook(sub["secret"]).verify(got.body, got.headers)
    Webhook(rotated["secret"]).verify(got.body, got.headers)

    now_clock.advance(hours=24, seconds=1)
    signer = Webhook(rotated["secret"])
    _paid(session, shop, order_id="ord_2")
    drain()
    got = receiver.received[-1]
    sent_at = dt.datetime.fromtimestamp(int(got.headers["webhook-timestamp"]), dt.UTC)
    assert got.headers["webhook-signature"] == signer.sign(got.headers["webhook-id"], sent_at, got.body.decode())


def _due(session, app, clock, drain):
    """Move the clock to the delivery's next attempt and let the sweeper send it."""
    clock.at = session.scalars(sa.select(WebhookDelivery.next_attempt_at)).one()
    with app.app_context():
        tasks.sweep()
    drain()
    return session.scalars(sa.select(WebhookDelivery)).one()


def test_a_failing_receiver_gets_the_event_once_it_recovers_with_the_same_id(
    app, client, session, receiver, loopback, now_clock, drain
):
    shop = ShopFactory()
    sub = _subscribe(client, token_for(shop, ["write_webhooks"]), receiver.url)
    receiver.script = [(500, {}), (502, {}), (503, {"Retry-After": "120"})]
    start = now_clock.now()
    _paid(session, shop)
    drain()
    delivery = session.scalars(sa.select(WebhookDelivery)).one()
    assert delivery.status == "pending" and delivery.attempts == 1
    assert 4 <= (delivery.next_attempt_at - start).total_seconds() <= 6  # 5 s ± 20 %

    delivery = _due(session, app, now_clock, drain)
    assert delivery.attempts == 2 and 240 <= (delivery.next_attempt_at - now_clock.now()).total_seconds() <= 360
    delivery = _due(session, app, now_clock, drain)
    assert delivery.attempts == 3 and (delivery.next_attempt_at - now_clock.now()).total_seconds() == 120
    delivery = _due(session, app, now_clock, drain)
    assert delivery.status == "succeeded" and delivery.attempts == 4
    assert len(set(receiver.ids())) == 1 and len(receiver.ids()) == 4
    signer = Webhook(sub["secret"])
    for got in receiver.received:
        sent_at = dt.datetime.fromtimestamp(int(got.headers["webhook-timestamp"]), dt.UTC)
        assert got.headers["webhook-signature"] == signer.sign(got.headers["webhook-id"], sent_at, got.body.decode())
    attempts = session.scalars(sa.select(WebhookAttempt).order_by(WebhookAttempt.id)).all()
    assert [a.response_status for a in attempts] == [500, 502, 503, 200]
    assert len(attempts[0].response_body.encode()) <= 4096


def test_nothing_is_sent_before_the_retry_is_due(app, client, session, receiver, loopback, now_clock, drain):
    shop = ShopFactory()
    _subscribe(client, token_for(shop, ["write_webhooks"]), receiver.url)
    receiver.script = [(500, {})]
    _paid(session, shop)
    drain()
    drain()  # the sweep finds nothing due
    assert len(receiver.received) == 1


def test_410_disables_the_endpoint_and_tells_the_owner(app, client, session, receiver, loopback, now_clock, drain):
    shop = ShopFactory()
    headers = token_for(shop, ["write_webhooks", "read_events"])
    sub = _subscribe(client, headers, receiver.url)
    receiver.script = [(410, {}), (410, {})]  # both are sent at once, in one batch
    _paid(session, shop)
    _paid(session, shop, order_id="ord_2")
    drain()
    body = client.get(f"/api/v1/webhook-subscriptions/{sub['id']}", headers=headers).json
    assert body["status"] == "disabled" and "410" in body["disabled_reason"]
    statuses = session.scalars(sa.select(WebhookDelivery.status)).all()
    assert sorted(statuses) == ["failed", "failed"] and len(receiver.received) == 2
    events = client.get("/api/v1/events?type=webhook_subscription.disabled", headers=headers).json["items"]
    assert [e["subject_id"] for e in events] == [sub["id"]]

    _paid(session, shop, order_id="ord_3")
    drain()
    assert len(receiver.received) == 2  # a disabled endpoint gets nothing new
    refused = client.post(f"/api/v1/webhook-subscriptions/{sub['id']}/test", headers=headers)
    assert refused.status_code == 409

    # Re-enable and recover what failed since the start: both earlier orders arrive.
    enabled = client.patch(f"/api/v1/webhook-subscriptions/{sub['id']}", json={"enabled": True}, headers=headers)
    assert enabled.status_code == 200 and enabled.json["status"] == "enabled"
    since = (now_clock.now() - dt.timedelta(minutes=1)).isoformat()
    recovered = client.post(
        f"/api/v1/webhook-subscriptions/{sub['id']}/recover", json={"since": since}, headers=headers
    )
    assert recovered.status_code == 202 and recovered.json["recovered"] == 2
    drain()
    assert sorted(r.message["data"]["id"] for r in receiver.received[2:]) == ["ord_1", "ord_2"]


def test_resend_and_test_event(client, session, receiver, loopback, now_clock, drain):
    shop = ShopFactory()
    headers = token_for(shop, ["write_webhooks"])
    sub = _subscribe(client, headers, receiver.url)
    test = client.post(f"/api/v1/webhook-subscriptions/{sub['id']}/test", headers=headers)
    assert test.status_code == 202
    drain()
    assert receiver.received[0].message["type"] == "webhook.test"
    resent = client.post(f"/api/v1/webhook-deliveries/{test.json['id']}/resend", headers=headers)
    assert resent.status_code == 202
    drain()
    assert receiver.ids() == [test.json["id"], test.json["id"]]


def test_a_flushed_redis_loses_nothing(app, client, session, receiver, loopback, now_clock, redis, drain):
    shop = ShopFactory()
    _subscribe(client, token_for(shop, ["write_webhooks"]), receiver.url)
    for n in range(5):
        _paid(session, shop, order_id=f"ord_{n}")
    with app.app_context():
        tasks.dispatch_outbox()  # deliveries are queued in Redis…
    redis.flushdb()  # …and lost (this test's database only: FLUSHALL would wipe parallel runs and their leases)
    assert redis.dbsize() == 0
    drain()  # the sweep finds them in the database
    assert sorted(r.message["data"]["id"] for r in receiver.received) == [f"ord_{n}" for n in range(5)]


def test_a_worker_killed_mid_send_is_retried_after_its_claim_expires(
    app, client, session, receiver, loopback, now_clock, drain
):
    shop = ShopFactory()
    _subscribe(client, token_for(shop, ["write_webhooks"]), receiver.url)
    _paid(session, shop)
    with app.app_context():
        tasks.dispatch_outbox()
    delivery = session.scalars(sa.select(WebhookDelivery)).one()
    claimed = claim_due_deliveries(session, now=now_clock.now(), limit=10)
    assert claimed == [delivery.id]  # the worker then dies
    session.commit()
    with app.app_context():
        assert tasks.sweep() == 0  # claimed: not overdue yet
    now_clock.advance(seconds=61)
    with app.app_context():
        assert tasks.sweep() == 1
    drain()
    assert len(receiver.received) == 1


def test_loopback_is_refused_when_the_setting_is_off(app, client, session, receiver, now_clock, drain, monkeypatch):
    shop = ShopFactory()
    monkeypatch.setitem(app.config, "SOUK_WEBHOOKS_ALLOW_LOOPBACK", True)
    _subscribe(client, token_for(shop, ["write_webhooks"]), receiver.url)  # registered during development
    monkeypatch.setitem(app.config, "SOUK_WEBHOOKS_ALLOW_LOOPBACK", False)
    _paid(session, shop)
    drain()
    assert receiver.received == []
    delivery = session.scalars(sa.select(WebhookDelivery)).one()
    assert delivery.status == "pending" and "SSRF" in delivery.last_error


def test_bad_input_and_tenancy(client, session):
    shop, other = ShopFactory(), ShopFactory()
    headers, other_headers = token_for(shop, ["write_webhooks"]), token_for(other, ["write_webhooks"])
    read_only_headers = token_for(shop, ["read_webhooks"])
    for body, field in [
        ({"url": "ftp://x.example/", "topics": ["order.paid"]}, "url"),
        ({"url": "https://x.example/", "topics": ["Order Paid"]}, "topics"),
        ({"url": "https://x.example/", "topics": []}, "topics"),
        ({"url": "https://x.example/", "topics": ["order.paid"], "secret": "mine"}, "secret"),
    ]:
        response = client.post("/api/v1/webhook-subscriptions", json=body, headers=headers)
        assert response.status_code == 422, body
        assert field in str(response.json.get("errors")), response.json
    assert session.scalar(sa.select(sa.func.count()).select_from(WebhookSubscription)) == 0
    read_only = client.post(
        "/api/v1/webhook-subscriptions",
        json={"url": "https://x.example/", "topics": ["*"]},
        headers=read_only_headers,
    )
    assert read_only.status_code == 403

    sub = _subscribe(client, headers, "https://hooks.example.com/in")
    for method, path in [
        ("get", f"/api/v1/webhook-subscriptions/{sub['id']}"),
        ("patch", f"/api/v1/webhook-subscriptions/{sub['id']}"),
        ("delete", f"/api/v1/webhook-subscriptions/{sub['id']}"),
        ("post", f"/api/v1/webhook-subscriptions/{sub['id']}/rotate-secret"),
        ("post", f"/api/v1/webhook-subscriptions/{sub['id']}/test"),
    ]:
        kwargs = {"json": {"description": "x"}} if method == "patch" else {}
        assert getattr(client, method)(path, headers=other_headers, **kwargs).status_code == 404, path
    assert client.get("/api/v1/webhook-subscriptions", headers=other_headers).json["items"] == []
    stale = client.patch(
        f"/api/v1/webhook-subscriptions/{sub['id']}",
        json={"description": "x"},
        headers={**headers, "If-Match": '"9"'},
    )
    assert stale.status_code == 412
    assert client.delete(f"/api/v1/webhook-subscriptions/{sub['id']}", headers=headers).status_code == 204


INTERNAL_URLS = [
    "http://169.254.169.254/latest/meta-data/",
    "http://[::1]/",
    "http://10.1.2.3/hook",
    "http://0.0.0.0/",
    "http://127.1/",
    "http://2130706433/",
    "https://0x7f.0.0.1/",
    "http://localhost:8080/",
    "https://[64:ff9b::7f00:1]/",
    "https://[2002:7f00:1::]/",
    "https://[::127.0.0.1]/",
    "https://[::ffff:10.0.0.1]/",
    "https://[fd00:ec2::254]/",
]


def test_internal_urls_are_refused_on_create_and_patch_and_nothing_changes(client, session):
    shop = ShopFactory()
    headers = token_for(shop, ["write_webhooks", "read_webhooks"])
    sub = _subscribe(client, headers, "https://hooks.example.com/in")
    for url in INTERNAL_URLS:
        created = client.post(
            "/api/v1/webhook-subscriptions", json={"url": url, "topics": ["order.paid"]}, headers=headers
        )
        patched = client.patch(f"/api/v1/webhook-subscriptions/{sub['id']}", json={"url": url}, headers=headers)
        for response in (created, patched):
            assert response.status_code == 422, (url, response.json)
            assert response.content_type == "application/problem+json"
            assert "public addresses" in response.json["errors"]["url"][0], response.json
    listed = client.get("/api/v1/webhook-subscriptions", headers=headers).json["items"]
    assert [(s["id"], s["url"]) for s in listed] == [(sub["id"], "https://hooks.example.com/in")]


def test_loopback_can_be_registered_only_with_the_development_setting(app, client, session, monkeypatch):
    shop = ShopFactory()
    headers = token_for(shop, ["write_webhooks"])
    body = {"url": "http://127.0.0.1:8080/hooks", "topics": ["order.paid"]}
    assert client.post("/api/v1/webhook-subscriptions", json=body, headers=headers).status_code == 422
    monkeypatch.setitem(app.config, "SOUK_WEBHOOKS_ALLOW_LOOPBACK", True)
    assert client.post("/api/v1/webhook-subscriptions", json=body, headers=headers).status_code == 201
    # The development setting is for this computer only: private networks stay refused.
    internal = {"url": "http://10.1.2.3/hooks", "topics": ["order.paid"]}
    assert client.post("/api/v1/webhook-subscriptions", json=internal, headers=headers).status_code == 422


def _after_this_millisecond(row_id: str) -> None:
    """Return once ids are made in a later millisecond than ``row_id`` (ids carry their time to the ms)."""
    while issued_at_millis(new_id("tst")) <= issued_at_millis(row_id):  # type: ignore[operator]
        pass


def test_a_new_subscription_gets_only_events_emitted_after_it(client, session, receiver, loopback, now_clock, drain):
    shop = ShopFactory()
    headers = token_for(shop, ["write_webhooks"])
    old = _subscribe(client, headers, receiver.url)
    _paid(session, shop, order_id="ord_before")  # waits in the outbox: no delivery run has taken it yet
    before = session.scalars(sa.select(OutboxEvent.id).where(OutboxEvent.shop_id == shop.id)).one()
    _after_this_millisecond(before)
    new = _subscribe(client, headers, receiver.url + "/new")
    _paid(session, shop, order_id="ord_after")
    drain()

    deliveries = session.scalars(sa.select(WebhookDelivery).where(WebhookDelivery.shop_id == shop.id))
    got = {(d.subscription_id, json.loads(d.body)["data"]["id"]) for d in deliveries}
    assert got == {(old["id"], "ord_before"), (old["id"], "ord_after"), (new["id"], "ord_after")}
    assert len(receiver.received) == 3
