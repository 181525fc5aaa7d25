"""Installing (after consent), listing and uninstalling apps: services, the API and the merchant's page."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from factories import ShopFactory, UserFactory, token_for
from souk_platform.apps.models import Installation, PluginActivation
from souk_platform.apps.services import register_app
from souk_platform.auth.models import AccessToken
from souk_platform.auth.services import create_user
from souk_platform.events.models import OutboxEvent
from souk_platform.installations import errors
from souk_platform.installations.services import install_app, installed_apps
from souk_platform.oauth import services as oauth
from souk_platform.oauth.models import RefreshToken
from souk_platform.shops.services import add_staff

NOW = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)
MANIFEST = """\
name: Boost
redirect_uris: [https://boost.example.com/cb]
scopes: [read_products, read_shop]
plugins:
  - point: cart.discounts
    module: plugins/discount.wasm
    config_schema: {}
"""


@pytest.fixture
def owner(session):
    return create_user(session, email="owner@example.com", name="Olive Owner", password="correct horse")


@pytest.fixture
def shop(session, owner):
    return ShopFactory(name="Tea Corner", owner=owner)


@pytest.fixture
def boost(session):
    app, _version, _secret = register_app(session, developer=UserFactory(name="Dana Dev"), manifest_text=MANIFEST)
    session.commit()
    return app


@pytest.fixture
def installed(session, shop, owner, boost, clock):
    """Installed with read_shop, plus a token pair; the app's clock is frozen at NOW so the tokens are live."""
    assert clock.now() == NOW
    installation = install_app(session, app=boost, shop_id=shop.id, user_id=owner.id, scopes=["read_shop"], now=NOW)
    tokens = oauth.issue_installation_tokens(
        session, installation=installation, app_name=boost.name, scopes=["read_shop"], family_id="oac_test", now=NOW
    )
    session.commit()
    return installation, tokens


def _count(session, model, *where):
    return session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def test_install_activates_plugins_and_emits_app_installed(session, installed):
    installation, _ = installed
    assert installation.status == "active" and installation.granted_scopes == ["read_shop"]
    plugins = session.scalars(sa.select(PluginActivation).where(PluginActivation.installation_id == installation.id))
    assert [(p.point, p.enabled) for p in plugins] == [("cart.discounts", True)]
    event = session.scalar(sa.select(OutboxEvent).where(OutboxEvent.subject_id == installation.id))
    assert event.type == "app.installed" and event.shop_id == installation.shop_id
    assert event.payload["granted_scopes"] == ["read_shop"] and event.payload["version"] == installation.version


def test_consenting_again_updates_the_one_active_installation(session, installed, owner, boost):
    installation, _ = installed
    again = install_app(
        session, app=boost, shop_id=installation.shop_id, user_id=owner.id, scopes=["read_products"], now=NOW
    )
    assert again.id == installation.id and again.granted_scopes == ["read_products", "read_shop"]
    assert _count(session, Installation, Installation.app_id == boost.id) == 1


def test_only_an_owner_may_install_and_only_offered_scopes(session, shop, boost):
    staff = create_user(session, email="staff@example.com", name="Sam", password="pw-for-sam")
    add_staff(session, shop_id=shop.id, user=staff, role="staff")
    stranger = create_user(session, email="x@example.com", name="Xu", password="pw-for-xu")
    with pytest.raises(errors.OwnerOnly):
        install_app(session, app=boost, shop_id=shop.id, user_id=staff.id, scopes=["read_shop"], now=NOW)
    with pytest.raises(errors.InstallationNotFound):
        install_app(session, app=boost, shop_id=shop.id, user_id=stranger.id, scopes=["read_shop"], now=NOW)
    assert _count(session, Installation, Installation.app_id == boost.id) == 0


def test_scopes_the_app_does_not_ask_for_are_refused(session, shop, owner, boost):
    with pytest.raises(errors.ScopesNotOffered) as refused:
        install_app(session, app=boost, shop_id=shop.id, user_id=owner.id, scopes=["write_orders"], now=NOW)
    assert refused.value.errors == {"scopes": ["Not offered: write_orders"]}
    assert _count(session, Installation, Installation.app_id == boost.id) == 0


def test_tokens_carry_only_granted_scopes(session, installed, boost):
    installation, _ = installed
    wider = oauth.issue_installation_tokens(
        session,
        installation=installation,
        app_name=boost.name,
        scopes=["read_shop", "read_products"],
        family_id="oac_other",
        now=NOW,
    )
    assert wider.scopes == ["read_shop"]


def test_api_lists_and_shows_the_shops_installations(client, session, installed, shop):
    installation, _ = installed
    headers = token_for(shop, ["read_shop"])
    listed = client.get("/api/v1/installations", headers=headers)
    assert listed.status_code == 200
    [item] = listed.get_json()["items"]
    assert item["id"] == installation.id and item["app_name"] == "Boost" and item["granted_scopes"] == ["read_shop"]
    assert client.get("/api/v1/installations?status=uninstalled", headers=headers).get_json()["items"] == []
    bad = client.get("/api/v1/installations?status=gone", headers=headers)
    assert bad.status_code == 422 and "query.status" in bad.get_json()["errors"]
    one = client.get(f"/api/v1/installations/{installation.id}", headers=headers)
    assert one.status_code == 200 and one.get_json()["status"] == "active"


def test_api_uninstall_revokes_tokens_disables_plugins_and_emits(client, session, installed, shop):
    installation, tokens = installed
    headers = token_for(shop, ["write_shop"])
    bearer = {"Authorization": f"Bearer {tokens.access_token}"}
    assert client.get("/api/v1/shop", headers=bearer).status_code == 200
    read_only = token_for(shop, ["read_shop"])
    assert client.delete(f"/api/v1/installations/{installation.id}", headers=read_only).status_code == 403
    response = client.delete(f"/api/v1/installations/{installation.id}", headers=headers)
    assert response.status_code == 200 and response.get_json()["status"] == "uninstalled"
    session.expire_all()
    assert (
        _count(session, AccessToken, AccessToken.installation_id == installation.id, AccessToken.revoked_at.is_(None))
        == 0
    )
    assert (
        _count(
            session, RefreshToken, RefreshToken.installation_id == installation.id, RefreshToken.revoked_at.is_(None)
        )
        == 0
    )
    assert not session.scalar(
        sa.select(PluginActivation.enabled).where(PluginActivation.installation_id == installation.id)
    )
    types = session.scalars(
        sa.select(OutboxEvent.type).where(OutboxEvent.subject_id == installation.id).order_by(OutboxEvent.id)
    ).all()
    assert types == ["app.installed", "app.uninstalled"]
    assert client.get("/api/v1/shop", headers=bearer).status_code == 401

    again = client.delete(f"/api/v1/installations/{installation.id}", headers=headers)
    assert again.status_code == 409 and again.get_json()["type"].endswith("/installation-not-active")


def test_api_uninstall_with_a_stale_if_match_changes_nothing(client, session, installed, shop):
    installation, tokens = installed
    installation_id = installation.id
    headers = {**token_for(shop, ["write_shop"]), "If-Match": '"99"'}
    response = client.delete(f"/api/v1/installations/{installation_id}", headers=headers)
    assert response.status_code == 412
    session.expire_all()
    assert session.get(Installation, installation_id).status == "active"
    assert client.get("/api/v1/shop", headers={"Authorization": f"Bearer {tokens.access_token}"}).status_code == 200


def test_another_shop_gets_404_and_changes_nothing(client, session, installed):
    installation, _ = installed
    other = token_for(ShopFactory(), ["write_shop"])
    for method in (client.get, client.delete):
        response = method(f"/api/v1/installations/{installation.id}", headers=other)
        assert response.status_code == 404 and response.get_json()["type"].endswith("/installation-not-found")
    assert client.get("/api/v1/installations", headers=other).get_json()["items"] == []
    session.expire_all()
    assert session.get(Installation, installation.id).status == "active"


def _login(client, email="owner@example.com", password="correct horse"):
    assert client.post("/login", data={"email": email, "password": password}).status_code == 302


def test_owner_sees_installed_apps_and_uninstalls_from_the_page(client, session, installed, shop):
    installation, tokens = installed
    bearer = {"Authorization": f"Bearer {tokens.access_token}"}
    assert client.get("/api/v1/shop", headers=bearer).status_code == 200
    _login(client)
    page = client.get(f"/shops/{shop.id}/apps").get_data(as_text=True)
    assert "Boost" in page and "See your shop&#39;s settings and staff" in page and "read_shop" in page
    response = client.post(f"/shops/{shop.id}/apps/{installation.id}/uninstall")
    assert response.status_code == 302
    after = client.get(f"/shops/{shop.id}/apps").get_data(as_text=True)
    assert "The app was uninstalled" in after and "No apps installed." in after
    assert client.get("/api/v1/shop", headers={"Authorization": f"Bearer {tokens.access_token}"}).status_code == 401


def test_installed_apps_page_is_for_owners_of_that_shop_only(client, session, installed, shop):
    installation, _ = installed
    staff = create_user(session, email="staff@example.com", name="Sam", password="pw-for-sam")
    add_staff(session, shop_id=shop.id, user=staff, role="staff")
    create_user(session, email="x@example.com", name="Xu", password="pw-for-xu")
    session.commit()
    _login(client, "staff@example.com", "pw-for-sam")
    assert client.get(f"/shops/{shop.id}/apps").status_code == 403
    assert client.post(f"/shops/{shop.id}/apps/{installation.id}/uninstall").status_code == 403
    client.post("/logout")
    _login(client, "x@example.com", "pw-for-xu")
    assert client.get(f"/shops/{shop.id}/apps").status_code == 404
    session.expire_all()
    assert session.get(Installation, installation.id).status == "active"


def test_consent_page_is_in_chinese_too(client, session, installed, shop, boost):
    _login(client)
    url = (
        f"/oauth/authorize?response_type=code&client_id={boost.client_id}&scope=read_products"
        "&code_challenge=" + "a" * 43 + "&code_challenge_method=S256&state=xyz"
    )
    page = client.get(url, headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "Tea Corner" in page and "Boost" in page and "Dana Dev" in page
    assert "要在 Tea Corner 安装 Boost 吗？" in page and "Boost 由 Dana Dev 开发，而非 Souk。" in page
    assert "查看商品、SKU 与库存" in page and "同意并安装" in page and "拒绝" in page


def test_demo_shop_has_the_sample_app_installed_with_part_of_its_scopes(session):
    from souk_platform.demo import seed_demo

    shop = seed_demo(session, echo=lambda _line: None)
    [(installation, app)] = installed_apps(session, shop_id=shop.id)
    assert app.name == "Souk Loyalty Boost" and installation.granted_scopes == ["read_customers", "read_orders"]


def test_machine_endpoints_skip_csrf_but_consent_does_not(tmp_path):
    """With CSRF on (production), other servers can still post to /oauth/token; errors stay RFC 6749 JSON."""
    from souk_platform import create_app

    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'csrf.sqlite3'}",
            "SOUK_REDIS_URL": None,
            "SOUK_JOBS": "inline",
            "SECRET_KEY": "test-secret",
            "WTF_CSRF_ENABLED": True,
        }
    )
    http = app.test_client()
    for path in ("/oauth/token", "/oauth/revoke", "/oauth/introspect"):
        response = http.post(path, data={"grant_type": "password", "token": "x"})
        assert response.status_code in (400, 401), path
        assert response.headers["Content-Type"] == "application/json" and "error" in response.get_json()
    assert http.post("/oauth/token", data={"grant_type": "password"}).get_json()["error"] == "unsupported_grant_type"
    refused = http.post("/oauth/authorize?response_type=code", data={"decision": "approve"})
    assert refused.status_code == 400 and "CSRF" in refused.get_data(as_text=True)
