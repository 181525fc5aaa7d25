"""Message channels, templates and messages (docs/architecture.md §5.11): email over a real SMTP server, the
inbox, caps, quiet hours, the template sandbox, app channels over signed webhooks, tenancy and bad input."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
import sqlalchemy as sa
from standardwebhooks import Webhook

from factories import ShopFactory, UserFactory, oauth_token, token_for
from souk_platform.apps.models import App
from souk_platform.apps.services import register_app
from souk_platform.customers.services import create_customer
from souk_platform.events.models import OutboxEvent
from souk_platform.installations.services import install_app, uninstall
from souk_platform.messaging import services, tasks
from souk_platform.messaging.models import Message, MessageChannel, MessageTemplate
from souk_platform.oauth.services import issue_app_token
from souk_platform.shops.models import Shop
from souk_platform.webhooks.app_endpoints import current_app_webhook_secret
from souk_platform.webhooks.runtime import runtime_for

WELCOME = {
    "name": "新客欢迎",
    "channel_kind": "email",
    "subject": "{{ shop_name }}：欢迎你，{{ customer_name }}",
    "body": "<p>你好 {{ customer_name }}，送你一张 {{ coupon_name }}（{{ coupon_code }}），积分 {{ points_balance }}。"
    "订单 {{ order_no }}</p>",
    "variables": ["order_no"],
}


def _events(session, shop_id, type):
    stmt = sa.select(OutboxEvent).where(OutboxEvent.shop_id == shop_id, OutboxEvent.type == type)
    return list(session.scalars(stmt.order_by(OutboxEvent.id)))


def _count(session, model, shop_id):
    return session.scalar(sa.select(sa.func.count()).select_from(model).where(model.shop_id == shop_id))


@pytest.fixture
def shop_world(session, clock):
    """A shop with its built-in channels and two customers (one without an email address)."""
    shop = ShopFactory(name="小店")
    services.ensure_built_in_channels(session, shop_id=shop.id)
    lei = create_customer(session, shop_id=shop.id, name="李雷<b>", email="lei@example.com", phone="13800000001")
    mei = create_customer(session, shop_id=shop.id, name="韩梅梅", phone="13800000002")
    session.commit()
    channels = {
        c.kind: c.id for c in session.scalars(sa.select(MessageChannel).where(MessageChannel.shop_id == shop.id))
    }
    return {"shop": shop, "shop_id": shop.id, "lei": lei.id, "mei": mei.id, "channels": channels}


def test_email_arrives_in_the_smtp_mailbox_once_however_often_the_send_is_retried(
    client, session, shop_world, smtp, drain
):
    w = shop_world
    headers = token_for(w["shop"], ["write_messages"])
    listed = client.get("/api/v1/message-channels", headers=headers).get_json()["items"]
    assert sorted((c["kind"], c["built_in"]) for c in listed) == [("email", True), ("inbox", True)]
    template = client.post("/api/v1/message-templates", headers=headers, json=WELCOME)
    assert template.status_code == 201, template.get_json()
    send = {
        "customer_id": w["lei"],
        "channel_id": w["channels"]["email"],
        "template_id": template.get_json()["id"],
        "variables": {"coupon_code": "HELLO10", "coupon_name": "满100减10", "order_no": "E1001"},
    }
    first = client.post("/api/v1/messages", headers={**headers, "Idempotency-Key": "welcome-1"}, json=send)
    assert first.status_code == 201, first.get_json()
    assert first.get_json()["status"] == "queued" and first.get_json()["recipient"] == "lei@example.com"
    drain()
    drain()  # the job again: the status guards it
    again = client.post("/api/v1/messages", headers={**headers, "Idempotency-Key": "welcome-1"}, json=send)
    assert again.get_json()["id"] == first.get_json()["id"]
    # the same key from the journey engine's side: the service returns the first message
    replay = services.send_message(
        session,
        shop_id=w["shop_id"],
        customer_id=w["lei"],
        channel_id=w["channels"]["email"],
        template_id=template.get_json()["id"],
        variables=send["variables"],
        source="api",
        idempotency_key="api:welcome-1",
        now=dt.datetime.now(dt.UTC),
    )
    assert replay.id == first.get_json()["id"]
    drain()
    (email,) = smtp.messages
    assert email["Subject"] == "小店：欢迎你，李雷<b>" and smtp.recipients == [["lei@example.com"]]
    html = email.get_body(("html",)).get_content()
    assert "你好 李雷&lt;b&gt;" in html and "满100减10（HELLO10）" in html and "积分 0" in html and "E1001" in html
    assert "你好 李雷<b>" in email.get_body(("plain",)).get_content()
    message = client.get(f"/api/v1/messages/{first.get_json()['id']}", headers=headers).get_json()
    assert message["status"] == "sent" and message["attempts"] == 1
    assert len(_events(session, w["shop_id"], "message.sent")) == 1
    assert _count(session, Message, w["shop_id"]) == 1


def test_a_refused_email_is_tried_again_then_failed_with_the_reason(session, shop_world, smtp, app, clock):
    w = shop_world
    smtp.refuse = 99
    message = services.send_message(
        session,
        shop_id=w["shop_id"],
        customer_id=w["lei"],
        channel_id=w["channels"]["email"],
        subject="Hi {{ customer_name }}",
        body="<p>hello</p>",
        source="journey",
        source_id="jrn_1",
        idempotency_key="jrn_1:lei",
        now=clock.now(),
    )
    session.commit()
    message_id = message.id
    assert tasks.send_email(message_id) == "queued"
    assert tasks.send_email(message_id) == "queued"  # not due yet: nothing tried
    assert session.get(Message, message_id).attempts == 1
    for _ in range(3):
        clock.advance(hours=1)
        tasks.send_due_messages()
    failed = session.get(Message, message_id)
    session.refresh(failed)
    assert failed.status == "failed" and failed.attempts == 4 and "451" in failed.reason
    assert len(_events(session, w["shop_id"], "message.failed")) == 1
    smtp.refuse = 1
    again = services.send_message(
        session,
        shop_id=w["shop_id"],
        customer_id=w["lei"],
        channel_id=w["channels"]["email"],
        subject="Hi",
        body="<p>again</p>",
        source="journey",
        idempotency_key="jrn_1:lei:2",
        now=clock.now(),
    )
    session.commit()
    assert tasks.send_email(again.id) == "queued"
    clock.advance(minutes=2)
    assert tasks.send_due_messages() == 1
    session.refresh(again)
    assert again.status == "sent" and len(smtp.messages) == 1


def test_the_smtp_conversation_happens_with_no_transaction_open(session, shop_world, smtp, clock):
    """A slow SMTP server must hold no lock (under SQLite, the whole database's): the email is claimed in one
    short transaction, sent with none open, and recorded in another."""
    w = shop_world
    connection = session.get_bind()  # the test's connection: a savepoint on it is an open transaction
    seen: list[bool] = []
    smtp.while_receiving = lambda: seen.append(connection.in_nested_transaction())
    message = services.send_message(
        session,
        shop_id=w["shop_id"],
        customer_id=w["lei"],
        channel_id=w["channels"]["email"],
        subject="Hi",
        body="<p>hello</p>",
        source="api",
        idempotency_key="no-lock",
        now=clock.now(),
    )
    session.commit()
    assert not connection.in_nested_transaction()
    assert tasks.send_email(message.id) == "sent"
    assert seen == [False] and len(smtp.messages) == 1


def test_without_an_smtp_server_an_email_fails_at_once(session, shop_world, app, clock, monkeypatch):
    monkeypatch.setitem(app.config, "SOUK_SMTP_HOST", None)
    w = shop_world
    message = services.send_message(
        session,
        shop_id=w["shop_id"],
        customer_id=w["lei"],
        channel_id=w["channels"]["email"],
        subject="Hi",
        body="x",
        source="api",
        idempotency_key="k1",
        now=clock.now(),
    )
    session.commit()
    assert tasks.send_email(message.id) == "failed"
    session.refresh(message)
    assert "SOUK_SMTP_HOST" in message.reason


def test_the_daily_cap_suppresses_with_the_reason_and_the_inbox_shows_the_rest(client, session, shop_world, clock):
    w = shop_world
    headers = token_for(w["shop"], ["write_messages"])
    url = f"/api/v1/message-channels/{w['channels']['inbox']}"
    r = client.patch(url, headers={**headers, "If-Match": '"1"'}, json={"daily_cap": 2})
    assert r.status_code == 200 and r.get_json()["daily_cap"] == 2
    sent = []
    for n in range(3):
        r = client.post(
            "/api/v1/messages",
            headers={**headers, "Idempotency-Key": f"cap-{n}"},
            json={
                "customer_id": w["mei"],
                "channel_id": w["channels"]["inbox"],
                "body": f"第{n}条 {{{{ level_name }}}}",
            },
        )
        assert r.status_code == 201, r.get_json()
        sent.append(r.get_json())
    assert [m["status"] for m in sent] == ["delivered", "delivered", "suppressed"]
    assert "2 messages per customer per day" in sent[2]["reason"] and sent[0]["body"] == "第0条 V1"
    inbox = client.get(f"/api/v1/customers/{w['mei']}/messages", headers=headers).get_json()["items"]
    assert [m["id"] for m in inbox] == [sent[1]["id"], sent[0]["id"]]
    read = client.post(f"/api/v1/customers/{w['mei']}/messages/{sent[0]['id']}/read", headers=headers)
    assert read.status_code == 200 and read.get_json()["read_at"]
    unread = client.get(f"/api/v1/customers/{w['mei']}/messages?unread=true", headers=headers).get_json()["items"]
    assert [m["id"] for m in unread] == [sent[1]["id"]]
    suppressed = client.get("/api/v1/messages?status=suppressed", headers=headers).get_json()["items"]
    assert [m["id"] for m in suppressed] == [sent[2]["id"]]
    clock.advance(days=1)  # a new shop-local day
    r = client.post(
        "/api/v1/messages",
        headers={**headers, "Idempotency-Key": "cap-next-day"},
        json={"customer_id": w["mei"], "channel_id": w["channels"]["inbox"], "body": "明天"},
    )
    assert r.get_json()["status"] == "delivered"


def test_quiet_hours_defer_to_their_end_and_the_job_sends_once(client, session, shop_world, clock):
    w = shop_world
    headers = token_for(w["shop"], ["write_shop", "write_messages"])
    r = client.patch(
        "/api/v1/shop", headers=headers, json={"settings": {"quiet_hours_start": "21:00", "quiet_hours_end": "09:00"}}
    )
    assert r.status_code == 200, r.get_json()
    clock.at = dt.datetime(2026, 3, 2, 14, 30, tzinfo=dt.UTC)  # 22:30 in Shanghai
    r = client.post(
        "/api/v1/messages",
        headers={**headers, "Idempotency-Key": "night"},
        json={"customer_id": w["mei"], "channel_id": w["channels"]["inbox"], "body": "晚安"},
    )
    message = r.get_json()
    assert message["status"] == "scheduled" and message["send_at"] == "2026-03-03T01:00:00+00:00"
    assert tasks.send_due_messages() == 0
    clock.at = dt.datetime(2026, 3, 3, 1, 0, tzinfo=dt.UTC)
    assert tasks.send_due_messages() == 1
    assert tasks.send_due_messages() == 0  # safe to run twice
    after = client.get(f"/api/v1/messages/{message['id']}", headers=headers).get_json()
    assert after["status"] == "delivered" and after["send_at"] is None
    assert len(_events(session, w["shop_id"], "message.delivered")) == 1
    bad = client.patch("/api/v1/shop", headers=headers, json={"settings": {"quiet_hours_start": "25:00"}})
    assert bad.status_code == 422
    half = client.patch("/api/v1/shop", headers=headers, json={"settings": {"quiet_hours_end": None}})
    assert half.status_code == 422


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ("{{ ''.__class__ }}", "body", "unsafe"),
        ("{{ customer_name.__class__.__mro__[1].__subclasses__() }}", "body", "unsafe"),
        ("{{ 'x' * 100000000 }}", "body", "longer"),
        ("{% for i in range(100000) %}x{% endfor %}", "body", "range"),
        ("{{ birthday }}", "body", "birthday"),
        ("{% if %}", "body", "line 1"),
    ],
)
def test_the_sandbox_refuses_templates_at_save_time_naming_the_problem(client, session, shop_world, body, field, words):
    w = shop_world
    headers = token_for(w["shop"], ["write_messages"])
    r = client.post(
        "/api/v1/message-templates", headers=headers, json={"name": "坏", "channel_kind": "inbox", "body": body}
    )
    assert r.status_code == 422, r.get_json()
    assert words in r.get_json()["errors"][field][0]
    assert _count(session, MessageTemplate, w["shop_id"]) == 0
    inline = client.post(
        "/api/v1/messages",
        headers=headers,
        json={"customer_id": w["mei"], "channel_id": w["channels"]["inbox"], "body": body},
    )
    assert inline.status_code == 422
    assert _count(session, Message, w["shop_id"]) == 0


def test_template_crud_preview_and_if_match(client, session, shop_world):
    w = shop_world
    headers = token_for(w["shop"], ["write_messages"])
    r = client.post("/api/v1/message-templates", headers=headers, json=WELCOME)
    template = r.get_json()
    url = f"/api/v1/message-templates/{template['id']}"
    preview = client.post(url + "/preview", headers=headers, json={"customer_id": w["lei"]})
    assert preview.status_code == 200, preview.get_json()
    assert preview.get_json()["subject"] == "小店：欢迎你，李雷<b>"
    assert "订单 {{ order_no }}" in preview.get_json()["body"]  # a caller's value shows where it goes
    assert _count(session, Message, w["shop_id"]) == 0
    r = client.patch(url, headers={**headers, "If-Match": '"1"'}, json={"body": "<p>{{ nickname }}</p>"})
    assert r.status_code == 422 and "nickname" in r.get_json()["errors"]["body"][0]
    r = client.patch(url, headers={**headers, "If-Match": '"1"'}, json={"name": "欢迎", "variables": []})
    assert r.status_code == 422  # the body still uses order_no
    r = client.patch(url, headers={**headers, "If-Match": '"1"'}, json={"name": "欢迎"})
    assert r.status_code == 200 and r.get_json()["version"] == 2
    assert client.patch(url, headers={**headers, "If-Match": '"1"'}, json={"name": "x"}).status_code == 412
    assert [e.payload["version"] for e in _events(session, w["shop_id"], "message_template.updated")] == [2]
    assert client.delete(url, headers=headers).status_code == 204
    assert client.get(url, headers=headers).status_code == 404
    assert len(_events(session, w["shop_id"], "message_template.deleted")) == 1


def test_bad_input_is_4xx_and_writes_nothing(client, session, shop_world, smtp):
    w = shop_world
    headers = token_for(w["shop"], ["write_messages"])
    ok = {"customer_id": w["mei"], "channel_id": w["channels"]["inbox"], "body": "hi"}
    cases = [
        ({**ok, "body": None}, 422),
        ({**ok, "surprise": 1}, 422),
        ({**ok, "variables": {"customer_name": "冒名"}}, 422),
        ({**ok, "variables": {"x": {"nested": 1}}}, 422),
        ({**ok, "channel_id": w["channels"]["email"], "subject": "s"}, 422),  # 韩梅梅 has no email address
        ({**ok, "channel_id": w["channels"]["email"]}, 422),  # an email needs a subject
        ({**ok, "template_id": "mtp_nope"}, 404),
        ({**ok, "customer_id": "cus_nope"}, 404),
    ]
    for body, status in cases:
        r = client.post("/api/v1/messages", headers=headers, json=body)
        assert r.status_code == status, (body, r.get_json())
        assert r.headers["Content-Type"] == "application/problem+json"
    r = client.post("/api/v1/message-channels", headers=headers, json={"kind": "inbox", "name": "第二个"})
    assert r.status_code == 422
    r = client.patch(
        f"/api/v1/message-channels/{w['channels']['email']}",
        headers=headers,
        json={"config": {"from_address": "not-an-address"}},
    )
    assert r.status_code == 422 and "config.from_address" in r.get_json()["errors"]
    r = client.patch(f"/api/v1/message-channels/{w['channels']['inbox']}", headers=headers, json={"daily_cap": 0})
    assert r.status_code == 422
    assert _count(session, Message, w["shop_id"]) == 0
    assert _count(session, MessageChannel, w["shop_id"]) == 2
    disabled = client.patch(
        f"/api/v1/message-channels/{w['channels']['inbox']}", headers=headers, json={"status": "disabled"}
    )
    assert disabled.status_code == 200
    assert client.post("/api/v1/messages", headers=headers, json=ok).status_code == 409
    added = client.post(
        "/api/v1/message-channels",
        headers=headers,
        json={"kind": "email", "name": "会员中心", "config": {"from_address": "vip@shop.example", "from_name": "VIP"}},
    )
    assert added.status_code == 201 and added.get_json()["built_in"] is False


def test_another_shops_customer_channel_and_template_are_404(client, session, shop_world):
    w = shop_world
    other = ShopFactory()
    services.ensure_built_in_channels(session, shop_id=other.id)
    stranger = create_customer(session, shop_id=other.id, name="路人")
    other_template = services.create_template(
        session, shop_id=other.id, fields={"name": "t", "channel_kind": "inbox", "body": "hi"}
    )
    session.commit()
    stranger_id, other_template_id, other_id = stranger.id, other_template.id, other.id
    other_inbox = session.scalar(
        sa.select(MessageChannel.id).where(MessageChannel.shop_id == other.id, MessageChannel.kind == "inbox")
    )
    headers = token_for(w["shop"], ["write_messages"])
    ok = {"customer_id": w["mei"], "channel_id": w["channels"]["inbox"], "body": "hi"}
    for body in (
        {**ok, "customer_id": stranger_id},
        {**ok, "channel_id": other_inbox},
        {**ok, "template_id": other_template_id, "body": None},
    ):
        r = client.post("/api/v1/messages", headers=headers, json=body)
        assert r.status_code == 404, r.get_json()
    assert client.get(f"/api/v1/message-channels/{other_inbox}", headers=headers).status_code == 404
    assert client.get(f"/api/v1/message-templates/{other_template_id}", headers=headers).status_code == 404
    assert client.get(f"/api/v1/customers/{stranger_id}/messages", headers=headers).status_code == 404
    preview = client.post(
        f"/api/v1/message-templates/{other_template_id}/preview", headers=headers, json={"customer_id": w["mei"]}
    )
    assert preview.status_code == 404
    assert _count(session, Message, w["shop_id"]) == 0 and _count(session, Message, other_id) == 0
    reader = token_for(session.get(Shop, w["shop_id"]), ["read_customers"])
    assert client.get("/api/v1/messages", headers=reader).status_code == 403


SMS_MANIFEST = """\
name: {name}
redirect_uris: [https://sms.example.com/cb]
scopes: [read_messages, read_customers]
webhooks:
  - {{topic: message.send_requested, uri: '{uri}'}}
  - {{topic: message.delivered, uri: '{uri}'}}
message_channels:
  - {{key: sms, name: {name} 短信, kinds: [sms]}}
"""


def _install_sms_app(app, session, shop, owner, name, uri, now):
    registered, _, _ = register_app(
        session, developer=UserFactory(), manifest_text=SMS_MANIFEST.format(name=name, uri=uri)
    )
    session.commit()
    installation = install_app(
        session,
        app=session.get(App, registered.id),
        shop_id=shop.id,
        user_id=owner.id,
        scopes=["read_messages", "read_customers"],
        now=now,
        box=runtime_for(app).box,
    )
    session.commit()
    return registered.id, installation.id


def _app_token(session, app_id, now):
    _, plaintext = issue_app_token(session, app_id=app_id, now=now)
    session.commit()
    return {"Authorization": f"Bearer {plaintext}"}


def test_an_app_channel_gets_its_messages_as_signed_webhooks_and_reports_back(
    app, client, session, receiver, drain, now_clock
):
    owner = UserFactory()
    shop = ShopFactory(owner=owner, name="短信店")
    services.ensure_built_in_channels(session, shop_id=shop.id)
    customer = create_customer(session, shop_id=shop.id, name="李雷", phone="13900000000")
    session.commit()
    sms_app, sms = _install_sms_app(app, session, shop, owner, "SMS", receiver.url + "/sms", now_clock.now())
    other_app, _ = _install_sms_app(app, session, shop, owner, "Other", receiver.url + "/other", now_clock.now())
    headers = token_for(shop, ["write_messages"])
    channels = client.get("/api/v1/message-channels?kind=app", headers=headers).get_json()["items"]
    assert sorted((c["name"], c["key"], c["config"]["kinds"]) for c in channels) == [
        ("Other 短信", "sms", ["sms"]),
        ("SMS 短信", "sms", ["sms"]),
    ]
    channel = next(c for c in channels if c["installation_id"] == sms)
    assert channel["app_name"] == "SMS"
    r = client.post(
        "/api/v1/messages",
        headers={**headers, "Idempotency-Key": "sms-1"},
        json={"customer_id": customer.id, "channel_id": channel["id"], "body": "【短信店】{{ customer_name }}，您好"},
    )
    assert r.status_code == 201, r.get_json()
    message = r.get_json()
    assert message["status"] == "sent" and message["recipient"] == "13900000000"
    drain()
    requested = [m for m in receiver.received if m["type"] == "message.send_requested"]
    assert [m["path"] for m in requested] == ["/sms"]  # the channel's app only
    data = requested[0]["data"]
    assert data["id"] == message["id"] and data["channel_key"] == "sms" and data["body"] == "【短信店】李雷，您好"
    assert data["customer"]["phone"] == "13900000000"
    secret = current_app_webhook_secret(session.get(App, sms_app), box=runtime_for(app).box)
    headers_sent, raw = next((h, b) for h, b in receiver.raw if b"message.send_requested" in b)
    assert Webhook(secret).verify(raw, headers_sent)["data"]["id"] == message["id"]

    status_url = f"/api/v1/app/messages/{message['id']}/status"
    app_token = _app_token(session, sms_app, now_clock.now())
    other_token = _app_token(session, other_app, now_clock.now())
    assert client.post(status_url, headers=other_token, json={"status": "delivered"}).status_code == 404
    assert client.post(status_url, headers=oauth_token(shop, sms), json={"status": "delivered"}).status_code == 403
    r = client.post(status_url, headers=app_token, json={"status": "delivered"})
    assert r.status_code == 200 and r.get_json()["status"] == "delivered"
    again = client.post(status_url, headers=app_token, json={"status": "delivered"})
    assert again.status_code == 200 and again.get_json()["version"] == r.get_json()["version"]
    assert client.post(status_url, headers=app_token, json={"status": "clicked"}).get_json()["status"] == "clicked"
    assert client.post(status_url, headers=app_token, json={"status": "failed"}).status_code == 409
    assert client.post(status_url, headers=app_token, json={"status": "queued"}).status_code == 422
    assert len(_events(session, shop.id, "message.delivered")) == 1
    assert len(_events(session, shop.id, "message.clicked")) == 1

    uninstall(session, shop_id=shop.id, installation_id=sms, now=now_clock.now())
    session.commit()
    retired = client.get(f"/api/v1/message-channels/{channel['id']}", headers=headers).get_json()
    assert retired["status"] == "retired"
    r = client.post(
        "/api/v1/messages",
        headers=headers,
        json={"customer_id": customer.id, "channel_id": channel["id"], "body": "x"},
    )
    assert r.status_code == 409


def test_a_manifest_with_channels_must_take_the_messages(session):
    from souk_platform.apps.errors import InvalidManifest
    from souk_platform.apps.manifest import parse_manifest

    text = SMS_MANIFEST.format(name="X", uri="https://sms.example.com/h")
    assert parse_manifest(text)["message_channels"] == [{"key": "sms", "name": "X 短信", "kinds": ["sms"]}]
    assert "message_channels" not in parse_manifest(text.split("webhooks:")[0].replace("read_messages, ", ""))
    with pytest.raises(InvalidManifest) as refused:
        parse_manifest(text.replace("read_messages, ", ""))
    assert "read_messages" in str(refused.value.problems)
    with pytest.raises(InvalidManifest):
        parse_manifest(text.replace("message.send_requested", "message.sent"))
    with pytest.raises(InvalidManifest):
        parse_manifest(text + "  - {key: sms, name: again}\n")


def test_quiet_hours_end_spans_midnight_in_the_shops_timezone(session):
    shop = Shop(name="s", timezone="Asia/Shanghai", settings={"quiet_hours_start": "21:00", "quiet_hours_end": "09:00"})
    at = dt.datetime(2026, 3, 2, 0, 30, tzinfo=dt.UTC)  # 08:30 local
    assert services.quiet_hours_end(shop, at) == dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)
    assert services.quiet_hours_end(shop, dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)) is None  # 09:00 local
    assert services.quiet_hours_end(shop, dt.datetime(2026, 3, 2, 13, 0, tzinfo=dt.UTC)) == dt.datetime(
        2026, 3, 3, 1, 0, tzinfo=dt.UTC
    )
    day = Shop(name="d", timezone="Asia/Shanghai", settings={"quiet_hours_start": "12:00", "quiet_hours_end": "14:00"})
    assert services.quiet_hours_end(day, dt.datetime(2026, 3, 2, 4, 30, tzinfo=dt.UTC)) == dt.datetime(
        2026, 3, 2, 6, 0, tzinfo=dt.UTC
    )


@pytest.mark.concurrency
def test_racing_sends_keep_the_key_and_the_cap_exact(app):
    """Four workers send at once: one key gives one message; four keys under a cap of 2 give 2 delivered."""
    from souk_platform.db import db

    now = dt.datetime(2026, 5, 17, 2, 0, tzinfo=dt.UTC)
    with app.app_context():
        shop = ShopFactory()
        shop_id = shop.id
        inbox = services.ensure_built_in_channels(db.session, shop_id=shop_id)[1]
        inbox.daily_cap = 2
        inbox_id = inbox.id
        customer_id = create_customer(db.session, shop_id=shop_id, name="抢").id
        db.session.commit()
        db.session.remove()
    crashed: list[str] = []

    def race(keys: list[str]) -> None:
        barrier = threading.Barrier(len(keys))

        def worker(key: str) -> None:
            with app.app_context():
                try:
                    barrier.wait()
                    services.send_message(
                        db.session,
                        shop_id=shop_id,
                        customer_id=customer_id,
                        channel_id=inbox_id,
                        body="hi",
                        source="journey",
                        idempotency_key=key,
                        now=now,
                    )
                    db.session.commit()
                except Exception as exc:  # surfaced below
                    crashed.append(repr(exc))
                finally:
                    db.session.remove()

        threads = [threading.Thread(target=worker, args=(key,)) for key in keys]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    race(["same"] * 4)
    race(["a", "b", "c", "d"])
    assert crashed == []
    with app.app_context():
        rows = db.session.scalars(sa.select(Message).where(Message.shop_id == shop_id)).all()
        assert sorted(m.idempotency_key for m in rows) == ["a", "b", "c", "d", "same"]
        assert sorted(m.status for m in rows) == ["delivered", "delivered", "suppressed", "suppressed", "suppressed"]
        db.session.remove()


def test_the_demo_seeds_templates_and_inbox_messages_once(session):
    from souk_platform.customers import demo as customers_demo
    from souk_platform.messaging import demo

    shop = ShopFactory()
    customers_demo.seed(session, shop)
    demo.seed(session, shop)
    demo.seed(session, shop)  # a second call adds nothing
    names = session.scalars(sa.select(MessageTemplate.name).where(MessageTemplate.shop_id == shop.id)).all()
    assert sorted(names) == sorted(["生日关怀", "加购提醒", "新客欢迎"])
    statuses = session.scalars(sa.select(Message.status).where(Message.shop_id == shop.id)).all()
    assert statuses and set(statuses) == {"delivered"}
    assert shop.settings["quiet_hours_start"] == "21:00"
