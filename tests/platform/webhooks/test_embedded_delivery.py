"""The embedded wiring (SQLite, in-process job thread) delivers webhooks with the same delivery run."""

from __future__ import annotations

import time

import pytest
from standardwebhooks import Webhook

from souk_platform.auth.models import User
from souk_platform.db import db
from souk_platform.events.services import emit
from souk_platform.shops.services import create_shop
from souk_platform.webhooks import services
from souk_platform.webhooks.runtime import runtime_for

pytestmark = pytest.mark.embedded


def test_events_reach_the_receiver_through_the_in_process_runner(embedded_app, receiver, monkeypatch):
    monkeypatch.setitem(embedded_app.config, "SOUK_WEBHOOKS_ALLOW_LOOPBACK", True)
    with embedded_app.app_context():
        owner = User(email="embedded-webhooks@example.test", name="Owner", password_hash="scrypt:unusable")
        db.session.add(owner)
        db.session.flush()
        shop = create_shop(db.session, name="Embedded webhooks", owner=owner)
        _subscription, secret = services.create_subscription(
            db.session,
            shop_id=shop.id,
            url=receiver.url,
            topics=["order.*"],
            installation_id=None,
            granted_scopes=None,
            box=runtime_for(embedded_app).box,
            clock=embedded_app.extensions["souk.clock"],
            allow_loopback=True,  # the receiver listens on 127.0.0.1
        )
        db.session.commit()
        for n in range(3):  # three commits while a run may already be going: none is left behind
            emit(
                db.session,
                shop_id=shop.id,
                type="order.paid",
                subject_type="order",
                subject_id=f"ord_{n}",
                payload={"id": f"ord_{n}", "version": 1},
            )
            db.session.commit()
        db.session.remove()

    deadline = time.monotonic() + 15
    while len(receiver.received) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sorted(r.message["data"]["id"] for r in receiver.received) == ["ord_0", "ord_1", "ord_2"]
    for got in receiver.received:
        Webhook(secret).verify(got.body, got.headers)
