"""An app's item in the points mall (docs/architecture.md §5.14): the redemption is sent, signed, to the app
that provides the item only; that app reports back with its client-credentials token, any other app gets 404."""

from __future__ import annotations

import sqlalchemy as sa
from standardwebhooks import Webhook

from factories import UserFactory, oauth_token
from souk_platform.apps.models import App
from souk_platform.apps.services import register_app
from souk_platform.db import db
from souk_platform.events.models import OutboxEvent
from souk_platform.installations.services import install_app
from souk_platform.oauth.services import issue_app_token
from souk_platform.shops.models import Shop, StaffMember
from souk_platform.webhooks.app_endpoints import current_app_webhook_secret
from souk_platform.webhooks.runtime import runtime_for

from .conftest import build_mall, ledger_exact

MANIFEST = """\
name: {name}
redirect_uris: [https://vip.example.com/cb]
scopes: [read_points_mall]
webhooks:
  - {{topic: points_mall.fulfilment_requested, uri: '{uri}'}}
"""


def _install(app, session, shop, name, uri, now):
    registered, _, _ = register_app(session, developer=UserFactory(), manifest_text=MANIFEST.format(name=name, uri=uri))
    session.commit()
    installation = install_app(
        session,
        app=session.get(App, registered.id),
        shop_id=shop.id,
        user_id=session.scalar(
            sa.select(StaffMember.user_id).where(StaffMember.shop_id == shop.id, StaffMember.role == "owner")
        ),
        scopes=["read_points_mall"],
        now=now,
        box=runtime_for(app).box,
    )
    session.commit()
    return registered.id, installation.id


def _app_token(session, app_id, now):
    _, plaintext = issue_app_token(session, app_id=app_id, now=now)
    session.commit()
    return {"Authorization": f"Bearer {plaintext}"}


def test_an_app_item_is_requested_of_its_app_which_reports_it_fulfilled(
    app, client, session, receiver, drain, now_clock
):
    mall = build_mall(session, now_clock)
    shop = session.get(Shop, mall.id)
    vip_app, vip = _install(app, session, shop, "VIP 视频", receiver.url + "/vip", now_clock.now())
    other_app, _ = _install(app, session, shop, "Other", receiver.url + "/other", now_clock.now())
    r = client.post(
        "/api/v1/points-mall/items",
        json={
            "kind": "app",
            "installation_id": vip,
            "app_item_code": "VIP-MONTH",
            "title": "视频会员月卡",
            "points": 300,
            "stock": 10,
            "status": "on_sale",
        },
        headers=mall.headers,
    )
    assert r.status_code == 201, r.get_json()
    item = r.get_json()
    r = client.post(
        "/api/v1/points-mall/redemptions",
        json={"item_id": item["id"], "customer_id": mall.customer_id},
        headers={**mall.headers, "Idempotency-Key": "vip-1"},
    )
    assert r.status_code == 201, r.get_json()
    redemption = r.get_json()
    assert redemption["status"] == "paid"  # awaiting the app
    drain()
    requested = [m for m in receiver.received if m["type"] == "points_mall.fulfilment_requested"]
    assert [m["path"] for m in requested] == ["/vip"]  # the item's app only
    data = requested[0]["data"]
    assert (data["id"], data["app_item_code"], data["installation_id"], data["points"]) == (
        redemption["id"],
        "VIP-MONTH",
        vip,
        300,
    )
    secret = current_app_webhook_secret(session.get(App, vip_app), box=runtime_for(app).box)
    headers_sent, raw = next((h, b) for h, b in receiver.raw if b"points_mall.fulfilment_requested" in b)
    assert Webhook(secret).verify(raw, headers_sent)["data"]["id"] == redemption["id"]

    url = f"/api/v1/app/points-mall/redemptions/{redemption['id']}/fulfilment"
    own = _app_token(session, vip_app, now_clock.now())
    other = _app_token(session, other_app, now_clock.now())
    assert client.post(url, headers=other, json={"status": "fulfilled"}).status_code == 404
    assert client.post(url, headers=oauth_token(shop, vip), json={"status": "fulfilled"}).status_code == 403
    assert client.post(url, headers=own, json={"status": "lost"}).status_code == 422
    r = client.post(url, headers=own, json={"status": "failed", "reason": "account not found"})
    assert r.status_code == 200 and r.get_json()["fulfilment"]["failure"] == "account not found"
    assert r.get_json()["status"] == "paid"
    r = client.post(url, headers=own, json={"status": "fulfilled", "reference": "vip-8812"})
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["status"] == "fulfilled" and r.get_json()["fulfilment"]["app_reference"] == "vip-8812"
    again = client.post(url, headers=own, json={"status": "fulfilled"})
    assert again.status_code == 200 and again.get_json()["version"] == r.get_json()["version"]
    assert client.post(url, headers=own, json={"status": "failed"}).status_code == 409
    fulfilled = db.session.scalars(
        sa.select(OutboxEvent.subject_id).where(
            OutboxEvent.shop_id == mall.id, OutboxEvent.type == "points_mall.fulfilled"
        )
    ).all()
    assert fulfilled == [redemption["id"]]
    ledger_exact()


def test_a_failed_app_item_can_be_cancelled_with_its_points_back(app, client, session, receiver, now_clock):
    mall = build_mall(session, now_clock)
    shop = session.get(Shop, mall.id)
    vip_app, vip = _install(app, session, shop, "VIP 视频", receiver.url + "/vip", now_clock.now())
    item = client.post(
        "/api/v1/points-mall/items",
        json={
            "kind": "app",
            "installation_id": vip,
            "app_item_code": "VIP",
            "title": "月卡",
            "points": 300,
            "status": "on_sale",
        },
        headers=mall.headers,
    ).get_json()
    redemption = client.post(
        "/api/v1/points-mall/redemptions",
        json={"item_id": item["id"], "customer_id": mall.customer_id},
        headers={**mall.headers, "Idempotency-Key": "vip-2"},
    ).get_json()
    url = f"/api/v1/app/points-mall/redemptions/{redemption['id']}/fulfilment"
    own = _app_token(session, vip_app, now_clock.now())
    assert client.post(url, headers=own, json={"status": "failed", "reason": "down"}).status_code == 200
    r = client.post(
        f"/api/v1/points-mall/redemptions/{redemption['id']}/cancel",
        json={"reason": "the app could not deliver"},
        headers={**mall.headers, "Idempotency-Key": "c"},
    )
    assert r.status_code == 200 and r.get_json()["status"] == "cancelled", r.get_json()
    assert client.post(url, headers=own, json={"status": "fulfilled"}).status_code == 409  # too late
    points = client.get(f"/api/v1/customers/{mall.customer_id}/points", headers=mall.headers).get_json()
    assert points["balance"] == 1000
    ledger_exact()
