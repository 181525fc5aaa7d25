"""The merchant's message pages (docs/architecture.md §5.11): the same services as the API behind forms."""

from __future__ import annotations

import sqlalchemy as sa

from factories import ShopFactory, form_key, log_in_to_shop
from souk_platform.customers.services import create_customer
from souk_platform.messaging.models import Message, MessageChannel, MessageTemplate
from souk_platform.shops.models import Shop


def test_templates_preview_send_log_and_channels_through_the_pages(client, session, clock):
    shop = ShopFactory(name="茶铺")
    shop_id = shop.id
    customer = create_customer(session, shop_id=shop_id, name="王小明", phone="13800000009")
    session.commit()
    customer_id = customer.id
    log_in_to_shop(client, shop_id)
    base = f"/shops/{shop_id}"
    assert client.get(base + "/message-templates").status_code == 200
    bad = client.post(
        base + "/message-templates/new",
        data={"name": "坏", "channel_kind": "inbox", "body": "{{ ''.__class__ }}"},
    )
    assert bad.status_code == 200 and "unsafe" in bad.get_data(as_text=True)
    r = client.post(
        base + "/message-templates/new",
        data={"name": "到店提醒", "channel_kind": "inbox", "body": "{{ customer_name }}，新茶到了", "variables": ""},
    )
    assert r.status_code == 302, r.get_data(as_text=True)
    template_id = session.scalar(sa.select(MessageTemplate.id).where(MessageTemplate.shop_id == shop_id))
    page = base + f"/message-templates/{template_id}"
    preview = client.post(page, data={"action": "preview", "preview-customer_id": customer_id})
    assert "王小明，新茶到了" in preview.get_data(as_text=True)
    assert session.scalar(sa.select(sa.func.count()).select_from(Message).where(Message.shop_id == shop_id)) == 0
    inbox = session.scalar(
        sa.select(MessageChannel.id).where(MessageChannel.shop_id == shop_id, MessageChannel.kind == "inbox")
    )
    key = form_key()
    for _ in range(2):  # a resent form is one message
        sent = client.post(
            page,
            data={"action": "send", "send-customer_id": customer_id, "send-channel_id": inbox, "send-form_key": key},
        )
        assert sent.status_code == 302, sent.get_data(as_text=True)
    assert session.scalar(sa.select(sa.func.count()).select_from(Message).where(Message.shop_id == shop_id)) == 1
    log = client.get(base + "/messages").get_data(as_text=True)
    assert "王小明" in log and "新茶到了" in log
    r = client.post(
        base + "/message-channels", data={"form": "quiet", "quiet-quiet_start": "22:00", "quiet-quiet_end": "08:00"}
    )
    assert r.status_code == 302
    assert session.get(Shop, shop_id).settings["quiet_hours_start"] == "22:00"
    r = client.post(
        base + "/message-channels",
        data={
            "form": "channel",
            "channel_id": inbox,
            "kind": "inbox",
            "name": "站内信",
            "status": "active",
            "daily_cap": "3",
        },
    )
    assert r.status_code == 302, r.get_data(as_text=True)
    session.expire_all()
    assert session.get(MessageChannel, inbox).daily_cap == 3
    assert "站内信" in client.get(base + "/message-channels").get_data(as_text=True)
