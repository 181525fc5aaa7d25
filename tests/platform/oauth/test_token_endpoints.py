"""The RFC 6749 / 7009 / 7662 machine endpoints as an independent OAuth client reads them."""

from __future__ import annotations

import base64

import pytest

from factories import UserFactory
from souk_platform.apps.services import register_app

MANIFEST = """\
name: {name}
redirect_uris: [https://{name}.example.com/cb]
scopes: [read_products, read_shop]
"""


def _basic(client_id: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


@pytest.fixture
def two_apps(session):
    """Two confidential apps by different developers: (client_id, secret) each."""
    credentials = []
    for name in ("boost", "rival"):
        app, _version, secret = register_app(
            session, developer=UserFactory(name=f"{name} dev"), manifest_text=MANIFEST.format(name=name)
        )
        credentials.append((app.client_id, secret))
    session.commit()
    return credentials


def _app_token(client, credentials) -> str:
    r = client.post("/oauth/token", data={"grant_type": "client_credentials"}, headers=_basic(*credentials))
    assert r.status_code == 200, r.get_json()
    return r.get_json()["access_token"]


def _active(client, credentials, token: str) -> bool:
    r = client.post("/oauth/introspect", data={"token": token}, headers=_basic(*credentials))
    assert r.status_code == 200, r.get_json()
    return r.get_json()["active"]


def test_an_unknown_token_type_hint_is_ignored(client, two_apps):
    """RFC 7009 §2.1 and RFC 7662 §2.1: the server may ignore the hint; it must not refuse the request."""
    boost, _rival = two_apps
    token = _app_token(client, boost)
    r = client.post("/oauth/introspect", data={"token": token, "token_type_hint": "mac"}, headers=_basic(*boost))
    assert r.status_code == 200 and r.get_json()["active"] is True, r.get_json()
    r = client.post("/oauth/revoke", data={"token": token, "token_type_hint": "mac"}, headers=_basic(*boost))
    assert r.status_code == 200, r.get_json()
    assert _active(client, boost, token) is False


def test_revoking_another_clients_token_looks_like_an_unknown_token_and_revokes_nothing(client, two_apps):
    boost, rival = two_apps
    rivals_token = _app_token(client, rival)
    unknown = client.post("/oauth/revoke", data={"token": "souk_at_no_such_token"}, headers=_basic(*boost))
    others = client.post("/oauth/revoke", data={"token": rivals_token}, headers=_basic(*boost))
    assert unknown.status_code == others.status_code == 200
    assert others.get_data() == unknown.get_data()
    assert _active(client, rival, rivals_token) is True


def test_a_token_request_without_grant_type_is_invalid_request(client, two_apps):
    boost, _rival = two_apps
    r = client.post("/oauth/token", data={"scope": "read_shop"}, headers=_basic(*boost))
    assert r.status_code == 400 and r.get_json()["error"] == "invalid_request", r.get_json()
    r = client.post("/oauth/token", data={"grant_type": "password"}, headers=_basic(*boost))
    assert r.status_code == 400 and r.get_json()["error"] == "unsupported_grant_type"
