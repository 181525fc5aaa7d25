"""The OAuth server driven end to end by a real client library (authlib's httpx ``OAuth2Client``)
against a live server on 127.0.0.1, with a merchant's browser played by httpx with cookies.

Everything here commits for real (the server thread has its own sessions), so each test builds its
own shop, owner, developer and apps with unique names.
"""

from __future__ import annotations

import datetime as dt
import html
import re
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import sqlalchemy as sa
from authlib.common.security import generate_token
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.httpx_client import OAuth2Client
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from authlib.oauth2.rfc8414 import AuthorizationServerMetadata
from werkzeug.serving import make_server

from factories import token_for
from souk_platform.apps.models import App, Installation, PluginActivation
from souk_platform.apps.services import publish_version, register_app
from souk_platform.auth.models import AccessToken, User
from souk_platform.auth.services import create_user, hash_token
from souk_platform.core.clock import FrozenClock
from souk_platform.db import db
from souk_platform.events.models import OutboxEvent
from souk_platform.oauth.models import AuthorizationCode, RefreshToken
from souk_platform.shops.models import Shop
from souk_platform.shops.services import add_staff, create_shop

REDIRECT = "http://127.0.0.1:9/callback"
PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def base_url(app: Any) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


def _manifest(name: str, *, scopes: list[str], client_type: str = "confidential", plugins: bool = False) -> str:
    lines = [f"name: {name}", f"client_type: {client_type}", "redirect_uris:", f"  - {REDIRECT}", "scopes:"]
    lines += [f"  - {scope}" for scope in scopes]
    if plugins:
        lines += ["plugins:", "  - point: cart.discounts", "    module: plugins/discount.wasm", "    config_schema: {}"]
    return "\n".join(lines) + "\n"


@dataclass
class World:
    owner_email: str
    shop_id: str
    shop_name: str
    developer_name: str
    app_id: str
    client_id: str
    client_secret: str
    public_client_id: str


@pytest.fixture
def world(app: Any) -> World:
    tag = uuid.uuid4().hex[:8]
    with app.app_context():
        owner = create_user(db.session, email=f"owner-{tag}@example.com", name="Olive Owner", password=PASSWORD)
        shop = create_shop(db.session, name=f"Tea Corner {tag}", owner=owner)
        developer = create_user(db.session, email=f"dev-{tag}@example.com", name=f"Dana Dev {tag}", password=PASSWORD)
        scopes = ["read_customers", "read_products", "read_shop"]
        boost, _, secret = register_app(
            db.session, developer=developer, manifest_text=_manifest(f"Boost {tag}", scopes=scopes, plugins=True)
        )
        public, _, _ = register_app(
            db.session,
            developer=developer,
            manifest_text=_manifest(f"Pocket {tag}", scopes=scopes, client_type="public"),
        )
        db.session.commit()
        assert secret is not None
        built = World(
            owner_email=owner.email,
            shop_id=shop.id,
            shop_name=shop.name,
            developer_name=developer.name,
            app_id=boost.id,
            client_id=boost.client_id,
            client_secret=secret,
            public_client_id=public.client_id,
        )
        db.session.remove()
    return built


class Browser:
    """The merchant's browser: cookies, no automatic redirects, HTML forms filled in by hand."""

    def __init__(self, base_url: str) -> None:
        self.http = httpx.Client(base_url=base_url, follow_redirects=False)

    def login(self, email: str, password: str = PASSWORD) -> None:
        page = self.http.get("/login")
        response = self.http.post("/login", data={**_hidden_inputs(page.text), "email": email, "password": password})
        assert response.status_code == 302, response.text

    def open_consent(self, authorize_url: str) -> httpx.Response:
        response = self.http.get(authorize_url)
        if response.status_code == 302 and "/login" in response.headers["Location"]:
            raise AssertionError("not logged in")
        return response

    def decide(self, consent_page: httpx.Response, decision: str) -> str:
        action = html.unescape(
            re.search(r'<form method="post" action="([^"]+)" class="consent">', consent_page.text).group(1)
        )
        response = self.http.post(action, data={**_hidden_inputs(consent_page.text), "decision": decision})
        assert response.status_code == 302, response.text
        return response.headers["Location"]


def _hidden_inputs(page: str) -> dict[str, str]:
    return dict(re.findall(r'<input[^>]*type="hidden"[^>]*name="([^"]+)"[^>]*value="([^"]*)"', page))


def _oauth_client(base_url: str, world: World, **kwargs: Any) -> OAuth2Client:
    return OAuth2Client(
        client_id=world.client_id,
        client_secret=world.client_secret,
        redirect_uri=REDIRECT,
        code_challenge_method="S256",
        token_endpoint=f"{base_url}/oauth/token",
        **kwargs,
    )


def _authorize(base_url: str, world: World, client: OAuth2Client, browser: Browser | None = None) -> tuple[str, str]:
    """Run authorize → login → consent (approve); return the redirect Location and the PKCE verifier."""
    verifier = generate_token(48)
    url, _state = client.create_authorization_url(f"{base_url}/oauth/authorize", code_verifier=verifier)
    browser = browser or Browser(base_url)
    first = browser.http.get(url)
    assert first.status_code == 302 and first.headers["Location"].startswith("/login?next=")
    browser.login(world.owner_email)
    page = browser.open_consent(url)
    assert page.status_code == 200, page.text
    return browser.decide(page, "approve"), verifier


def _params(location: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}


def test_install_call_refresh_revoke_with_a_real_oauth_client(app, base_url, world):
    client = _oauth_client(base_url, world, scope="read_products read_shop")
    verifier = generate_token(48)
    url, state = client.create_authorization_url(f"{base_url}/oauth/authorize", code_verifier=verifier)
    browser = Browser(base_url)
    assert browser.http.get(url).headers["Location"].startswith("/login?next=/oauth/authorize?response_type")
    browser.login(world.owner_email)
    page = browser.open_consent(url)
    text = page.text
    # The consent page names the shop, the app, its developer and each scope in plain words.
    assert world.shop_name in text and world.developer_name in text and "Boost" in text
    assert "See products, SKUs and stock" in text and "See your shop&#39;s settings and staff" in text
    assert "read_customers" not in text  # not asked for in this request
    location = browser.decide(page, "approve")
    assert location.startswith(REDIRECT + "?") and _params(location)["state"] == state

    token = client.fetch_token(authorization_response=location, code_verifier=verifier, state=state)
    assert token["token_type"].lower() == "bearer" and token["expires_in"] == 3600
    assert token["scope"] == "read_products read_shop"
    assert token["access_token"].startswith("souk_at_") and token["refresh_token"].startswith("souk_rt_")

    shop = client.get(f"{base_url}/api/v1/shop")
    assert shop.status_code == 200 and shop.json()["name"] == world.shop_name

    with app.app_context():  # stored hashed, bound to the installation, 1 h
        row = db.session.scalar(
            sa.select(AccessToken).where(AccessToken.token_hash == hash_token(token["access_token"]))
        )
        installation = db.session.get(Installation, row.installation_id)
        assert installation.shop_id == world.shop_id and installation.status == "active"
        assert installation.granted_scopes == ["read_products", "read_shop"]
        assert (token["shop_id"], token["installation_id"]) == (world.shop_id, installation.id)  # in the response
        assert row.shop_id == world.shop_id and row.expires_at - row.created_at <= dt.timedelta(hours=1, seconds=5)
        assert db.session.scalar(sa.select(sa.func.count()).where(AccessToken.token_hash == token["access_token"])) == 0
        plugins = db.session.scalars(
            sa.select(PluginActivation).where(PluginActivation.installation_id == installation.id)
        )
        assert [(p.point, p.enabled) for p in plugins] == [("cart.discounts", True)]
        types = db.session.scalars(sa.select(OutboxEvent.type).where(OutboxEvent.subject_id == installation.id)).all()
        assert types == ["app.installed"]
        db.session.remove()

    old = dict(token)
    refreshed = client.refresh_token(f"{base_url}/oauth/token")
    assert refreshed["refresh_token"] != old["refresh_token"] and refreshed["access_token"] != old["access_token"]
    assert (refreshed["shop_id"], refreshed["installation_id"]) == (old["shop_id"], old["installation_id"])
    assert client.get(f"{base_url}/api/v1/products").status_code == 200

    revoked = client.revoke_token(f"{base_url}/oauth/revoke", token=refreshed["access_token"])
    assert revoked.status_code == 200
    after = client.get(f"{base_url}/api/v1/shop")
    assert after.status_code == 401 and after.headers["WWW-Authenticate"].startswith("Bearer")
    assert after.headers["Content-Type"] == "application/problem+json"


def test_wrong_redirect_uri_is_refused_without_redirecting(base_url, world):
    client = OAuth2Client(
        client_id=world.client_id, redirect_uri="http://127.0.0.1:9/evil", code_challenge_method="S256"
    )
    url, _ = client.create_authorization_url(f"{base_url}/oauth/authorize", code_verifier=generate_token(48))
    response = httpx.get(url)
    assert response.status_code == 400 and "Location" not in response.headers
    assert "invalid_request" in response.text and "http://127.0.0.1:9/evil" in response.text


def test_public_client_must_send_pkce_and_plain_is_refused_for_everyone(base_url, world):
    public = OAuth2Client(client_id=world.public_client_id, redirect_uri=REDIRECT)
    url, state = public.create_authorization_url(f"{base_url}/oauth/authorize")  # no code_verifier → no PKCE
    response = httpx.get(url)
    assert response.status_code == 302
    params = _params(response.headers["Location"])
    assert params["error"] == "invalid_request" and "PKCE" in params["error_description"] and params["state"] == state

    confidential = OAuth2Client(client_id=world.client_id, redirect_uri=REDIRECT)
    verifier = generate_token(48)
    url, state = confidential.create_authorization_url(
        f"{base_url}/oauth/authorize", code_challenge=verifier, code_challenge_method="plain"
    )
    params = _params(httpx.get(url).headers["Location"])
    assert params["error"] == "invalid_request" and "plain" in params["error_description"]


def test_public_client_completes_the_flow_with_s256(base_url, world):
    client = OAuth2Client(
        client_id=world.public_client_id,
        redirect_uri=REDIRECT,
        code_challenge_method="S256",
        token_endpoint_auth_method="none",
        scope="read_shop",
    )
    location, verifier = _authorize(base_url, world, client)
    with pytest.raises(OAuthError) as wrong:
        client.fetch_token(f"{base_url}/oauth/token", authorization_response=location, code_verifier="x" * 43)
    assert wrong.value.error == "invalid_grant"
    location, verifier = _authorize(base_url, world, client)
    token = client.fetch_token(f"{base_url}/oauth/token", authorization_response=location, code_verifier=verifier)
    assert client.get(f"{base_url}/api/v1/shop").status_code == 200
    assert token["scope"] == "read_shop"


def test_a_reused_code_fails_and_revokes_what_it_issued(app, base_url, world):
    client = _oauth_client(base_url, world, scope="read_shop")
    location, verifier = _authorize(base_url, world, client)
    first = client.fetch_token(authorization_response=location, code_verifier=verifier)
    assert client.get(f"{base_url}/api/v1/shop").status_code == 200
    with pytest.raises(OAuthError) as again:
        client.fetch_token(authorization_response=location, code_verifier=verifier)
    assert again.value.error == "invalid_grant"
    bearer = {"Authorization": f"Bearer {first['access_token']}"}
    assert httpx.get(f"{base_url}/api/v1/shop", headers=bearer).status_code == 401
    with pytest.raises(OAuthError) as refresh:
        client.refresh_token(f"{base_url}/oauth/token", refresh_token=first["refresh_token"])
    assert refresh.value.error == "invalid_grant"


def test_an_expired_code_is_refused(app, base_url, world):
    frozen = FrozenClock(dt.datetime.now(dt.UTC))
    original = app.extensions["souk.clock"]
    app.extensions["souk.clock"] = frozen
    try:
        client = _oauth_client(base_url, world, scope="read_shop")
        location, verifier = _authorize(base_url, world, client)
        frozen.advance(minutes=10, seconds=1)
        with pytest.raises(OAuthError) as late:
            client.fetch_token(authorization_response=location, code_verifier=verifier)
        assert late.value.error == "invalid_grant"
    finally:
        app.extensions["souk.clock"] = original
    with app.app_context():  # stored hashed, bound to client, redirect URI, user, shop and challenge
        code = db.session.scalar(
            sa.select(AuthorizationCode).where(AuthorizationCode.code_hash == hash_token(_params(location)["code"]))
        )
        assert code.shop_id == world.shop_id and code.redirect_uri == REDIRECT and code.used_at is None
        assert code.code_challenge == create_s256_code_challenge(verifier) and code.code_challenge_method == "S256"
        assert code.expires_at - frozen.at < dt.timedelta(0)
        db.session.remove()


def test_reusing_a_rotated_refresh_token_revokes_the_whole_family(app, base_url, world):
    client = _oauth_client(base_url, world, scope="read_shop")
    location, verifier = _authorize(base_url, world, client)
    first = client.fetch_token(authorization_response=location, code_verifier=verifier)
    second = client.refresh_token(f"{base_url}/oauth/token")
    assert second["refresh_token"] != first["refresh_token"]
    with pytest.raises(OAuthError) as stolen:
        client.refresh_token(f"{base_url}/oauth/token", refresh_token=first["refresh_token"])
    assert stolen.value.error == "invalid_grant"
    for access in (first["access_token"], second["access_token"]):
        response = httpx.get(f"{base_url}/api/v1/shop", headers={"Authorization": f"Bearer {access}"})
        assert response.status_code == 401
    with pytest.raises(OAuthError):  # the legitimate holder's newest refresh token is dead too
        client.refresh_token(f"{base_url}/oauth/token", refresh_token=second["refresh_token"])
    with app.app_context():
        family = db.session.scalars(
            sa.select(RefreshToken).where(RefreshToken.token_hash == hash_token(second["refresh_token"]))
        ).one()
        assert all(
            t.revoked_at is not None
            for t in db.session.scalars(sa.select(RefreshToken).where(RefreshToken.family_id == family.family_id))
        )
        db.session.remove()


def test_revoking_a_refresh_token_ends_its_family_and_introspection_tells(base_url, world):
    client = _oauth_client(base_url, world, scope="read_products read_shop")
    location, verifier = _authorize(base_url, world, client)
    token = client.fetch_token(authorization_response=location, code_verifier=verifier)
    live = client.introspect_token(f"{base_url}/oauth/introspect", token=token["access_token"]).json()
    assert live["active"] is True and live["client_id"] == world.client_id
    assert live["scope"] == "read_products read_shop" and live["shop_id"] == world.shop_id
    assert live["exp"] - live["iat"] <= 3600 + 5

    client.revoke_token(f"{base_url}/oauth/revoke", token=token["refresh_token"], token_type_hint="refresh_token")
    for secret in (token["access_token"], token["refresh_token"]):
        assert client.introspect_token(f"{base_url}/oauth/introspect", token=secret).json() == {"active": False}
    unauthenticated = httpx.post(f"{base_url}/oauth/introspect", data={"token": token["access_token"]})
    assert unauthenticated.status_code == 401 and unauthenticated.json()["error"] == "invalid_client"


def test_wrong_client_secret_is_invalid_client(base_url, world):
    client = OAuth2Client(client_id=world.client_id, client_secret="souk_cs_wrong", redirect_uri=REDIRECT)
    with pytest.raises(OAuthError) as wrong:
        client.fetch_token(f"{base_url}/oauth/token", grant_type="client_credentials")
    assert wrong.value.error == "invalid_client"
    response = httpx.post(
        f"{base_url}/oauth/token", data={"grant_type": "client_credentials"}, auth=(world.client_id, "souk_cs_wrong")
    )
    assert response.status_code == 401 and response.headers["Content-Type"].startswith("application/json")
    assert response.json()["error"] == "invalid_client"  # RFC 6749 JSON, not problem+json


def test_scope_not_granted_is_403_naming_it(base_url, world):
    client = _oauth_client(base_url, world, scope="read_shop")
    location, verifier = _authorize(base_url, world, client)
    client.fetch_token(authorization_response=location, code_verifier=verifier)
    response = client.get(f"{base_url}/api/v1/customers")
    assert response.status_code == 403
    body = response.json()
    assert body["type"].endswith("/insufficient-scope") and "read_customers" in body["detail"]
    assert 'scope="read_customers"' in response.headers["WWW-Authenticate"]


def test_asking_for_a_scope_the_app_does_not_list_is_invalid_scope(base_url, world):
    client = _oauth_client(base_url, world, scope="read_shop write_orders")
    url, state = client.create_authorization_url(f"{base_url}/oauth/authorize", code_verifier=generate_token(48))
    params = _params(httpx.get(url).headers["Location"])
    assert params["error"] == "invalid_scope" and params["state"] == state


def test_deny_redirects_with_access_denied_and_installs_nothing(app, base_url, world):
    client = _oauth_client(base_url, world, scope="read_shop")
    url, state = client.create_authorization_url(f"{base_url}/oauth/authorize", code_verifier=generate_token(48))
    browser = Browser(base_url)
    browser.login(world.owner_email)
    location = browser.decide(browser.open_consent(url), "deny")
    assert _params(location) == {
        "error": "access_denied",
        "error_description": _params(location)["error_description"],
        "state": state,
    }
    with app.app_context():
        assert db.session.scalar(sa.select(Installation).where(Installation.app_id == world.app_id)) is None
        db.session.remove()


def test_uninstalled_app_tokens_stop_working_and_a_reinstall_starts_fresh(app, base_url, world):
    client = _oauth_client(base_url, world, scope="read_shop")
    location, verifier = _authorize(base_url, world, client)
    client.fetch_token(authorization_response=location, code_verifier=verifier)
    with app.app_context():
        staff = token_for(db.session.get(Shop, world.shop_id), ["write_shop"])
        installation_id = db.session.scalar(sa.select(Installation.id).where(Installation.app_id == world.app_id))
        db.session.remove()
    gone = httpx.delete(f"{base_url}/api/v1/installations/{installation_id}", headers=staff)
    assert gone.status_code == 200 and gone.json()["status"] == "uninstalled"
    assert client.get(f"{base_url}/api/v1/shop").status_code == 401
    with pytest.raises(OAuthError) as refresh:
        client.refresh_token(f"{base_url}/oauth/token")
    assert refresh.value.error == "invalid_grant"
    with app.app_context():
        plugins = db.session.scalars(
            sa.select(PluginActivation).where(PluginActivation.installation_id == installation_id)
        )
        assert [p.enabled for p in plugins] == [False]
        types = db.session.scalars(
            sa.select(OutboxEvent.type).where(OutboxEvent.subject_id == installation_id).order_by(OutboxEvent.id)
        ).all()
        assert types == ["app.installed", "app.uninstalled"]
        db.session.remove()

    fresh = _oauth_client(base_url, world, scope="read_shop")
    location, verifier = _authorize(base_url, world, fresh)
    fresh.fetch_token(authorization_response=location, code_verifier=verifier)
    assert fresh.get(f"{base_url}/api/v1/shop").status_code == 200
    with app.app_context():
        rows = db.session.scalars(sa.select(Installation).where(Installation.app_id == world.app_id)).all()
        assert sorted(r.status for r in rows) == ["active", "uninstalled"]
        assert {r.id for r in rows if r.status == "active"} != {installation_id}
        db.session.remove()


def test_scope_upgrade_needs_fresh_consent(app, base_url, world):
    client = _oauth_client(base_url, world, scope="read_shop")
    location, verifier = _authorize(base_url, world, client)
    client.fetch_token(authorization_response=location, code_verifier=verifier)
    with app.app_context():
        boost = db.session.get(App, world.app_id)
        scopes = ["read_customers", "read_products", "read_shop", "write_orders"]
        publish_version(db.session, app=boost, manifest_text=_manifest(boost.name, scopes=scopes, plugins=True))
        db.session.commit()
        db.session.remove()
    # Until the merchant consents again, a refresh cannot widen the token.
    with pytest.raises(OAuthError) as wider:
        client.refresh_token(f"{base_url}/oauth/token", scope="read_shop write_orders")
    assert wider.value.error == "invalid_scope"
    refreshed = client.refresh_token(f"{base_url}/oauth/token")
    assert refreshed["scope"] == "read_shop"
    assert client.get(f"{base_url}/api/v1/orders").status_code == 403

    upgrade = _oauth_client(base_url, world, scope="read_shop write_orders")
    verifier = generate_token(48)
    url, _ = upgrade.create_authorization_url(f"{base_url}/oauth/authorize", code_verifier=verifier)
    browser = Browser(base_url)
    browser.login(world.owner_email)
    page = browser.open_consent(url)
    assert "already installed" in page.text and re.search(
        r'data-scope="write_orders">[^<]*<code>write_orders</code> <strong>new', page.text
    )
    location = browser.decide(page, "approve")
    token = upgrade.fetch_token(authorization_response=location, code_verifier=verifier)
    assert token["scope"] == "read_shop write_orders"
    assert upgrade.get(f"{base_url}/api/v1/orders").status_code == 200
    with app.app_context():
        rows = db.session.scalars(sa.select(Installation).where(Installation.app_id == world.app_id)).all()
        assert len(rows) == 1 and rows[0].granted_scopes == ["read_shop", "write_orders"]
        db.session.remove()


def test_client_credentials_reach_only_the_developer_endpoint(app, base_url, world):
    client = OAuth2Client(client_id=world.client_id, client_secret=world.client_secret)
    token = client.fetch_token(f"{base_url}/oauth/token", grant_type="client_credentials")
    assert token["access_token"].startswith("souk_apt_") and "refresh_token" not in token
    me = client.get(f"{base_url}/api/v1/app")
    assert me.status_code == 200
    assert me.json()["client_id"] == world.client_id and me.json()["installation_count"] == 0
    # An app token is not a shop token, and a shop token is not an app token.
    assert client.get(f"{base_url}/api/v1/shop").status_code == 401
    with app.app_context():
        staff = token_for(db.session.get(Shop, world.shop_id), ["read_shop"])
        db.session.remove()
    refused = httpx.get(f"{base_url}/api/v1/app", headers=staff)
    assert refused.status_code == 403 and refused.json()["type"].endswith("/app-token-required")
    assert httpx.get(f"{base_url}/api/v1/app").status_code == 401
    with pytest.raises(OAuthError) as scoped:
        client.fetch_token(f"{base_url}/oauth/token", grant_type="client_credentials", scope="read_shop")
    assert scoped.value.error == "invalid_scope"
    public = httpx.post(
        f"{base_url}/oauth/token", data={"grant_type": "client_credentials", "client_id": world.public_client_id}
    )
    assert public.status_code in (400, 401) and public.json()["error"] in ("unauthorized_client", "invalid_client")


def test_an_owner_of_several_shops_chooses_one_and_staff_cannot_install(app, base_url, world):
    tag = uuid.uuid4().hex[:6]
    with app.app_context():
        owner = db.session.scalar(sa.select(User).where(User.email == world.owner_email))
        second = create_shop(db.session, name=f"Second Shop {tag}", owner=owner)
        staff = create_user(db.session, email=f"staff-{tag}@example.com", name="Sam", password=PASSWORD)
        add_staff(db.session, shop_id=world.shop_id, user=staff, role="staff")
        db.session.commit()
        second_id = second.id
        assert db.session.get(Shop, second_id) is not None
        db.session.remove()
    client = _oauth_client(base_url, world, scope="read_shop")
    verifier = generate_token(48)
    url, _ = client.create_authorization_url(f"{base_url}/oauth/authorize", code_verifier=verifier)
    browser = Browser(base_url)
    browser.login(world.owner_email)
    chooser = browser.open_consent(url)
    assert chooser.status_code == 200 and world.shop_name in chooser.text and f"Second Shop {tag}" in chooser.text
    link = html.unescape(re.search(rf'<a href="([^"]+shop_id={second_id}[^"]*)"', chooser.text).group(1))
    consent = browser.open_consent(link)
    assert f"Second Shop {tag}" in consent.text
    location = browser.decide(consent, "approve")
    client.fetch_token(authorization_response=location, code_verifier=verifier)
    assert client.get(f"{base_url}/api/v1/shop").json()["id"] == second_id
    assert browser.open_consent(url + "&shop_id=shp_" + "0" * 26).status_code == 404

    staff_browser = Browser(base_url)
    staff_browser.login(f"staff-{tag}@example.com")
    refused = staff_browser.open_consent(url)
    assert refused.status_code == 403 and "Only a shop owner can install apps" in refused.text


def test_metadata_is_rfc8414(app, base_url):
    body = httpx.get(f"{base_url}/.well-known/oauth-authorization-server").json()
    metadata = AuthorizationServerMetadata(body)
    metadata.validate()
    issuer = app.config["SOUK_PUBLIC_URL"].rstrip("/")
    assert body["issuer"] == issuer and body["token_endpoint"] == f"{issuer}/oauth/token"
    assert body["code_challenge_methods_supported"] == ["S256"]
    assert "read_products" in body["scopes_supported"]
