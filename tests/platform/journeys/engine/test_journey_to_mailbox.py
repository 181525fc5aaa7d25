"""End to end without a browser: a customer adds to cart, does not buy within the wait, and the journey's coupon
and e-mail reach a real SMTP server's mailbox once, however often the jobs run (docs/architecture.md §5.12,
§5.11). The jobs run on a real rq worker in this process; the SMTP server is aiosmtpd on a free port."""

from __future__ import annotations

import datetime as dt
import socket
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from rq import Queue, SimpleWorker

from factories import ShopFactory
from souk_platform.behaviour.services import record_events
from souk_platform.catalog.services import NewSku, create_product
from souk_platform.core.clock import FrozenClock
from souk_platform.coupons import services as coupons
from souk_platform.customers.models import Customer
from souk_platform.journeys import engine
from souk_platform.journeys.models import JourneyEnrollment
from souk_platform.messaging.services import create_template, ensure_built_in_channels
from souk_platform.webhooks.services import dispatch_outbox

NOW = dt.datetime(2026, 3, 2, 2, 0, tzinfo=dt.UTC)  # 10:00 in Shanghai: outside the default quiet hours


class _Mailbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        return "250 OK"


@pytest.fixture
def mailbox(app, monkeypatch: pytest.MonkeyPatch) -> Iterator[_Mailbox]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    box = _Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setitem(app.config, "SOUK_SMTP_HOST", "127.0.0.1")
    monkeypatch.setitem(app.config, "SOUK_SMTP_PORT", port)
    yield box
    controller.stop()


def _node(type: str, params: dict[str, Any], **next: str) -> dict[str, Any]:
    return {"type": type, "params": params, "next": next, "position": {"x": 0, "y": 0}}


def test_a_cart_left_behind_gets_a_coupon_by_email_once(app, session, redis, clock, mailbox, make_journey):
    shop = ShopFactory()
    customer = Customer(shop_id=shop.id, name="韩梅梅", email="mei@example.com")
    session.add(customer)
    coupon = coupons.create_coupon(
        session,
        shop_id=shop.id,
        fields={"code": "CART10", "name": "回来看看 ¥10", "kind": "fixed", "value": 1000, "distribution": "issued"},
    )
    tea = create_product(
        session,
        shop_id=shop.id,
        title="明前龙井",
        status="active",
        skus=[NewSku(code="LJ-250", title="250g", price=5000, on_hand=10)],
    )
    email = next(c for c in ensure_built_in_channels(session, shop_id=shop.id) if c.kind == "email")
    template = create_template(
        session,
        shop_id=shop.id,
        fields={
            "name": "加购提醒",
            "channel_kind": "email",
            "subject": "{{ customer_name }}，购物车里的宝贝还在等你",
            "body": "<p>你加购的{{ product_title }}还在，送你一张 {{ coupon_name }}（{{ coupon_code }}）。</p>",
            "variables": ["product_title"],
        },
    )
    session.commit()
    journey = make_journey(
        shop.id,
        {
            "entry": "start",
            "nodes": {
                "start": _node("trigger", {"kind": "behaviour", "event": "cart_added"}, default="wait"),
                "wait": _node(
                    "wait",
                    {"kind": "event", "event": "order.paid", "timeout_seconds": 3600},
                    event="end",
                    timeout="gift",
                ),
                "gift": _node("action", {"action": "issue_coupon", "coupon_id": coupon.id}, default="mail"),
                "mail": _node(
                    "action",
                    {"action": "send_message", "channel_id": email.id, "template_id": template.id},
                    default="end",
                ),
                "end": _node("exit", {}),
            },
            "goal": {"event": "order.paid", "within_days": 7},
            "exit": [],
            "settings": {"reentry": "never"},
        },
    )
    record_events(
        session,
        shop_id=shop.id,
        events=[
            {
                "event_id": "cart-1",
                "customer_id": customer.id,
                "type": "cart_added",
                "occurred_at": NOW,
                "properties": {"product_id": tea.id},
            }
        ],
        now=NOW,
        retention=dt.timedelta(days=400),
    )
    session.commit()

    def jobs(now: dt.datetime) -> None:
        """What the workers do: dispatch, drain the inbox, advance, then every queued job (the e-mail)."""
        clock.at = now  # the queued jobs read the app's clock
        while dispatch_outbox(session, clock=FrozenClock(now))[0]:
            session.commit()
        while engine.drain(session, now=now):
            session.commit()
        while engine.advance_batch(session, now=now):
            session.commit()
        session.commit()
        queue = Queue("souk", connection=redis)
        for job in queue.jobs:  # the engine's own jobs were run above, in order
            if any("souk_platform.journeys." in str(arg) for arg in job.args):
                job.delete()
        SimpleWorker([queue], connection=redis).work(burst=True)

    jobs(NOW)
    assert mailbox.messages == []  # waiting for an order
    jobs(NOW + dt.timedelta(hours=2))
    jobs(NOW + dt.timedelta(hours=3))  # again: nothing acts twice
    (mail,) = mailbox.messages
    assert mail["To"] == "mei@example.com"
    assert mail["Subject"] == "韩梅梅，购物车里的宝贝还在等你"
    assert "你加购的明前龙井还在，送你一张 回来看看 ¥10（CART10）" in mail.get_body(("html",)).get_content()
    (enrollment,) = session.scalars(sa.select(JourneyEnrollment).where(JourneyEnrollment.journey_id == journey.id))
    assert (enrollment.status, enrollment.exit_reason) == ("completed", "completed")
