"""Device login (RFC 8628) for souk-dev: a code, the developer's approval in the browser, an app token."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from souk_platform.apps.models import App
from souk_platform.auth.models import User
from souk_platform.oauth.models import AppToken, DeviceAuthorization

MANIFEST = """\
name: Device Helper
client_type: confidential
redirect_uris: [http://127.0.0.1:8765/callback]
scopes: [read_orders]
"""
GRANT = "urn:ietf:params:oauth:grant-type:device_code"


def sign_up(client, email):
    client.post("/logout")
    r = client.post("/developers/signup", data={"name": "Dana Dev", "email": email, "password": "a long password"})
    assert r.status_code == 302, r.get_data(as_text=True)[:500]


@pytest.fixture
def world(client, session, clock):
    sign_up(client, "device-dev@example.com")
    client.post("/developer/apps/new", data={"manifest": MANIFEST})
    app = session.scalar(
        sa.select(App).join(User, User.id == App.developer_id).where(User.email == "device-dev@example.com")
    )
    return {"app_id": app.id, "client_id": app.client_id}


def start(client, client_id):
    response = client.post("/oauth/device_authorization", data={"client_id": client_id})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.json


def poll(client, client_id, device_code):
    return client.post("/oauth/token", data={"grant_type": GRANT, "device_code": device_code, "client_id": client_id})


def test_the_developer_approves_and_the_tool_gets_a_30_day_app_token_once(client, session, world, clock):
    started = start(client, world["client_id"])
    assert re.fullmatch(r"[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}", started["user_code"])
    assert started["verification_uri"].endswith("/device") and started["expires_in"] == 600
    assert started["verification_uri_complete"].endswith("/device?user_code=" + started["user_code"])

    pending = poll(client, world["client_id"], started["device_code"])
    assert pending.status_code == 400 and pending.json["error"] == "authorization_pending"
    too_fast = poll(client, world["client_id"], started["device_code"])  # the frozen clock did not move
    assert too_fast.json["error"] == "slow_down"

    typed = started["user_code"].lower().replace("-", " ")  # people type it any way
    page = client.get("/device", query_string={"user_code": typed}).get_data(as_text=True)
    assert "Let souk-dev act as Device Helper?" in page and started["user_code"] in page
    done = client.post("/device", data={"user_code": typed, "decision": "approve"}).get_data(as_text=True)
    assert "souk-dev is logged in" in done

    clock.advance(seconds=6)
    granted = poll(client, world["client_id"], started["device_code"])
    assert granted.status_code == 200, granted.json
    token = granted.json["access_token"]
    assert token.startswith("souk_apt_") and granted.json["expires_in"] == 30 * 24 * 3600
    assert "refresh_token" not in granted.json
    me = client.get("/api/v1/app", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.json["id"] == world["app_id"]
    again = poll(client, world["client_id"], started["device_code"])
    assert again.status_code == 400 and again.json["error"] == "invalid_request"  # a device code gives one token
    assert session.scalar(sa.select(sa.func.count()).where(AppToken.app_id == world["app_id"])) == 1

    # The console lists the login; signing it out kills the token.
    console = client.get(f"/developer/apps/{world['app_id']}").get_data(as_text=True)
    assert "device-dev@example.com" in console and "Sign out" in console
    row = session.scalar(sa.select(AppToken).where(AppToken.app_id == world["app_id"]))
    client.post(f"/developer/apps/{world['app_id']}/logins/{row.id}/sign-out")
    assert client.get("/api/v1/app", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert "No souk-dev login is active." in client.get(f"/developer/apps/{world['app_id']}").get_data(as_text=True)


def test_a_denied_login_gets_access_denied_and_no_token(client, session, world, clock):
    started = start(client, world["client_id"])
    client.post("/device", data={"user_code": started["user_code"], "decision": "deny"})
    clock.advance(seconds=6)
    denied = poll(client, world["client_id"], started["device_code"])
    assert denied.status_code == 400 and denied.json["error"] == "access_denied"
    assert session.scalar(sa.select(sa.func.count()).where(AppToken.app_id == world["app_id"])) == 0


def test_another_developer_cannot_approve_and_codes_expire(client, session, world, clock):
    started = start(client, world["client_id"])
    sign_up(client, "someone-else@example.com")
    page = client.get("/device", query_string={"user_code": started["user_code"]}).get_data(as_text=True)
    assert "belongs to another developer account" in page and "Approve" not in page
    refused = client.post("/device", data={"user_code": started["user_code"], "decision": "approve"})
    assert refused.status_code == 409 and "belongs to another developer account" in refused.get_data(as_text=True)
    session.expire_all()
    assert session.scalar(sa.select(DeviceAuthorization.status)) == "pending"

    clock.advance(minutes=11)
    expired = poll(client, world["client_id"], started["device_code"])
    assert expired.status_code == 400 and expired.json["error"] == "expired_token"
    gone = client.get("/device", query_string={"user_code": started["user_code"]})
    assert gone.status_code == 404 and "No login waits for this code" in gone.get_data(as_text=True)


def test_bad_requests_are_clear_and_change_nothing(client, session, world):
    unknown = client.post("/oauth/device_authorization", data={"client_id": "souk_ci_nobody"})
    assert unknown.status_code in (400, 401) and unknown.json["error"] == "invalid_client"
    bogus = poll(client, world["client_id"], "not-a-device-code")
    assert bogus.status_code == 400 and bogus.json["error"] == "invalid_request"
    missing = client.post("/oauth/token", data={"grant_type": GRANT, "client_id": world["client_id"]})
    assert missing.status_code == 400 and missing.json["error"] == "invalid_request"
    typo = client.get("/device", query_string={"user_code": "BCDF-GHJK"})
    assert typo.status_code == 404 and "No login waits for this code" in typo.get_data(as_text=True)
    client.post("/logout")
    assert client.get("/device").status_code == 302  # log in first
    assert session.scalar(sa.select(sa.func.count()).select_from(DeviceAuthorization)) == 0


def test_another_apps_client_cannot_poll_this_code(client, session, world, clock):
    started = start(client, world["client_id"])
    client.post("/device", data={"user_code": started["user_code"], "decision": "approve"})
    client.post("/developer/apps/new", data={"manifest": MANIFEST.replace("Device Helper", "Other Helper")})
    other = session.scalar(sa.select(App).where(App.name == "Other Helper"))
    clock.advance(seconds=6)
    stolen = poll(client, other.client_id, started["device_code"])
    assert stolen.status_code in (400, 401) and stolen.json["error"] in ("unauthorized_client", "invalid_request")
    assert poll(client, world["client_id"], started["device_code"]).status_code == 200  # the right one still can


def test_delete_app_token_signs_the_calling_token_out(client, session, world, clock):
    started = start(client, world["client_id"])
    client.post("/device", data={"user_code": started["user_code"], "decision": "approve"})
    clock.advance(seconds=6)
    token = poll(client, world["client_id"], started["device_code"]).json["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert client.delete("/api/v1/app/token", headers=headers).status_code == 204
    assert client.get("/api/v1/app", headers=headers).status_code == 401


def test_metadata_names_the_device_endpoint(client):
    document = client.get("/.well-known/oauth-authorization-server").json
    assert document["device_authorization_endpoint"].endswith("/oauth/device_authorization")
    assert GRANT in document["grant_types_supported"]
