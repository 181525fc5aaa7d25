"""souk_sdk.oauth against Souk's real authorization server: install with PKCE, refresh, revoke, app tokens.

The merchant's browser is an httpx client with cookies; everything runs in-process over WSGI inside
the test's transaction.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from flask import Flask

from factories import ShopFactory, token_for
from souk_platform.apps.services import register_app
from souk_platform.auth.services import create_user
from souk_platform.shops.services import create_shop
from souk_sdk import Client, Forbidden, OAuthClient, OAuthError, RefreshingToken, Token, Unauthorized
from souk_sdk.oauth import code_challenge, new_code_verifier

BASE = "http://127.0.0.1"
REDIRECT = "http://127.0.0.1:8765/callback"
PASSWORD = "correct horse battery"


def in_process(app: Flask) -> Callable[..., Any]:
    def call(environ: dict[str, Any], start_response: Any) -> Any:
        with app.app_context():  # a fresh ``g`` per request, as in production
            return app.wsgi_app(environ, start_response)

    return call


@dataclass
class World:
    transport: httpx.BaseTransport
    http: httpx.Client
    owner_email: str
    shop_id: str
    client_id: str
    client_secret: str
    public_client_id: str


@pytest.fixture
def world(app: Flask, session: Any, redis: Any) -> Any:
    tag = uuid.uuid4().hex[:8]
    owner = create_user(session, email=f"owner-{tag}@example.com", name="Olive Owner", password=PASSWORD)
    shop = create_shop(session, name=f"Tea Corner {tag}", owner=owner)
    developer = create_user(session, email=f"dev-{tag}@example.com", name="Dana Dev", password=PASSWORD)
    scopes = "scopes: [read_shop, read_products, write_products]"
    confidential = f"name: Boost {tag}\nclient_type: confidential\nredirect_uris: [{REDIRECT}]\n{scopes}\n"
    public = f"name: Pocket {tag}\nclient_type: public\nredirect_uris: [{REDIRECT}]\n{scopes}\n"
    boost, _, secret = register_app(session, developer=developer, manifest_text=confidential)
    pocket, _, _ = register_app(session, developer=developer, manifest_text=public)
    session.commit()
    transport = httpx.WSGITransport(app=in_process(app))
    http = httpx.Client(transport=transport, base_url=BASE)
    yield World(transport, http, owner.email, shop.id, boost.client_id, secret, pocket.client_id)
    http.close()


def oauth_for(world: World, *, public: bool = False, **options: Any) -> OAuthClient:
    if public:
        return OAuthClient(BASE, world.public_client_id, redirect_uri=REDIRECT, http=world.http, **options)
    return OAuthClient(BASE, world.client_id, world.client_secret, redirect_uri=REDIRECT, http=world.http, **options)


def consent(world: World, url: str, decision: str = "approve") -> str:
    """The merchant logs in, reads the consent page and decides; returns where the browser is sent."""
    browser = httpx.Client(transport=world.transport, base_url=BASE, follow_redirects=False)
    login = browser.post("/login", data={"email": world.owner_email, "password": PASSWORD})
    assert login.status_code == 302, login.text
    page = browser.get(url)
    assert page.status_code == 200, page.text
    action = html.unescape(re.search(r'<form method="post" action="([^"]+)" class="consent">', page.text).group(1))
    hidden = dict(re.findall(r'<input[^>]*type="hidden"[^>]*name="([^"]+)"[^>]*value="([^"]*)"', page.text))
    answer = browser.post(action, data={**hidden, "decision": decision})
    assert answer.status_code == 302, answer.text
    return answer.headers["Location"]


def install(world: World, oauth: OAuthClient, scopes: str = "read_shop read_products") -> Token:
    request = oauth.authorization_url(scopes)
    code = oauth.parse_callback(consent(world, request.url), state=request.state)
    return oauth.exchange_code(code, code_verifier=request.code_verifier)


def api(world: World, token: Any) -> Client:
    return Client(BASE, token, http=world.http)


def test_the_authorization_url_carries_pkce_s256_and_state(world):
    oauth = oauth_for(world)
    request = oauth.authorization_url(["read_shop", "read_products"], shop_id=world.shop_id)
    url = urlsplit(request.url)
    params = {key: values[0] for key, values in parse_qs(url.query).items()}
    assert url.path == "/oauth/authorize"  # from the server's RFC 8414 metadata
    assert params == {
        "response_type": "code",
        "client_id": world.client_id,
        "redirect_uri": REDIRECT,
        "scope": "read_shop read_products",
        "state": request.state,
        "code_challenge": code_challenge(request.code_verifier),
        "code_challenge_method": "S256",
        "shop_id": world.shop_id,
    }
    assert re.fullmatch(r"[A-Za-z0-9_-]{43,128}", request.code_verifier)
    digest = hashlib.sha256(request.code_verifier.encode()).digest()
    assert params["code_challenge"] == base64.urlsafe_b64encode(digest).decode().rstrip("=")
    assert new_code_verifier() != new_code_verifier() and oauth.authorization_url("read_shop").state != request.state
    assert request.code_verifier not in repr(request)


def test_install_call_and_refresh_with_rotation(world):
    oauth = oauth_for(world)
    token = install(world, oauth)
    assert token.access_token.startswith("souk_at_") and token.refresh_token.startswith("souk_rt_")
    assert token.scopes == ("read_products", "read_shop") and token.token_type.lower() == "bearer"
    assert token.access_token not in repr(token)
    assert api(world, token.access_token).shop.get()["id"] == world.shop_id

    fresh = oauth.refresh(token)
    assert fresh.refresh_token != token.refresh_token and fresh.access_token != token.access_token
    assert api(world, fresh.access_token).products.list()["items"] == []

    with pytest.raises(OAuthError) as reused:  # the old refresh token is dead …
        oauth.refresh(token.refresh_token)
    assert reused.value.error == "invalid_grant" and reused.value.status == 400
    with pytest.raises(Unauthorized):  # … and presenting it again revoked the whole family
        api(world, fresh.access_token).shop.get()


def test_revoking_ends_the_grant(world):
    oauth = oauth_for(world)
    token = install(world, oauth)
    oauth.revoke(token)  # its refresh token, and with it the family
    with pytest.raises(Unauthorized):
        api(world, token.access_token).shop.get()
    with pytest.raises(OAuthError) as dead:
        oauth.refresh(token)
    assert dead.value.error == "invalid_grant"
    oauth.revoke("souk_at_never-issued", token_type_hint="access_token")  # unknown tokens are not an error


def test_refreshing_token_renews_the_access_token_before_it_expires(world, clock):
    oauth = oauth_for(world, clock=lambda: clock.now().timestamp())
    saved: list[Token] = []
    source = RefreshingToken(oauth, install(world, oauth), on_refresh=saved.append)
    client = api(world, source)
    assert client.shop.get()["id"] == world.shop_id and saved == []

    first = source.token
    clock.advance(minutes=59, seconds=30)  # within the minute of leeway
    assert client.shop.get()["id"] == world.shop_id
    assert [t.refresh_token for t in saved] == [source.token.refresh_token] != [first.refresh_token]
    clock.advance(minutes=1)
    with pytest.raises(Unauthorized):  # the old access token has expired meanwhile
        api(world, first.access_token).shop.get()
    assert client.shop.get()["id"] == world.shop_id and len(saved) == 1


def test_a_confidential_client_trades_a_market_install_code_without_pkce_and_learns_the_shop(world):
    # An install that starts on the market's Install button carries no challenge the app made.
    oauth = oauth_for(world)
    query = {"response_type": "code", "client_id": world.client_id, "redirect_uri": REDIRECT, "scope": "read_shop"}
    code = oauth.parse_callback(consent(world, "/oauth/authorize?" + urlencode(query | {"state": "m"})), state="m")
    token = oauth.exchange_code(code)
    assert token.shop_id == world.shop_id and token.installation_id and token.installation_id.startswith("ins_")
    assert api(world, token.access_token).shop.get()["id"] == world.shop_id
    assert oauth.refresh(token).shop_id == world.shop_id


def test_a_public_client_proves_itself_with_the_code_verifier(world):
    oauth = oauth_for(world, public=True)
    request = oauth.authorization_url("read_shop")
    code = oauth.parse_callback(consent(world, request.url), state=request.state)
    with pytest.raises(OAuthError) as wrong:
        oauth.exchange_code(code, code_verifier=new_code_verifier())
    assert wrong.value.error == "invalid_grant"

    request = oauth.authorization_url("read_shop")
    code = oauth.parse_callback(consent(world, request.url), state=request.state)
    token = oauth.exchange_code(code, code_verifier=request.code_verifier)
    assert api(world, token.access_token).shop.get()["id"] == world.shop_id


def test_a_denied_or_forged_callback_is_an_oauth_error(world):
    oauth = oauth_for(world)
    request = oauth.authorization_url("read_shop")
    denied = consent(world, request.url, decision="deny")
    with pytest.raises(OAuthError) as refused:
        oauth.parse_callback(denied, state=request.state)
    assert refused.value.error == "access_denied"
    with pytest.raises(OAuthError) as forged:
        oauth.parse_callback(f"{REDIRECT}?code=abc&state=someone-elses", state=request.state)
    assert forged.value.error == "invalid_state"


def test_an_app_token_calls_the_developer_endpoints(world):
    oauth = oauth_for(world)
    app_token = oauth.client_credentials()
    assert app_token.access_token.startswith("souk_apt_") and app_token.refresh_token is None
    me = api(world, app_token.access_token).app.get()
    assert me["client_id"] == world.client_id and me["installation_count"] == 0

    shop_token = token_for(ShopFactory())["Authorization"].removeprefix("Bearer ")
    with pytest.raises(Forbidden) as refused:
        api(world, shop_token).app.get()
    assert refused.value.code == "app-token-required"


def test_a_wrong_secret_is_invalid_client(world):
    oauth = OAuthClient(BASE, world.client_id, "souk_cs_wrong", redirect_uri=REDIRECT, http=world.http)
    with pytest.raises(OAuthError) as refused:
        oauth.client_credentials()
    assert refused.value.error == "invalid_client" and refused.value.status == 401


def test_endpoints_can_be_given_instead_of_discovered(world):
    sent: list[str] = []
    http = httpx.Client(transport=world.transport, event_hooks={"request": [lambda r: sent.append(r.url.path)]})
    metadata = oauth_for(world).metadata
    oauth = OAuthClient(BASE, world.client_id, world.client_secret, http=http, metadata=metadata)
    oauth.client_credentials()
    assert sent == ["/oauth/token"]
