"""Apps ship plugins: a developer publishes a version, uploads the modules its manifest declares with an
app token, and a shop that installed the app runs them in its checkout."""

from __future__ import annotations

import pytest
import wasmtime
from plugin_modules import FIVE_OFF, MODULE, TIERED_SCHEMA, WITH_IMPORT, Developer, manifest

from factories import ShopFactory, UserFactory, token_for
from souk_platform.apps.models import App, PluginActivation
from souk_platform.catalog.services import NewSku, create_product
from souk_platform.installations.services import install_app, uninstall
from souk_platform.plugins.models import Plugin
from souk_platform.plugins.services import update_app_activation


@pytest.fixture
def developer(session, clock):
    return Developer(session, clock)


def test_a_developer_publishes_a_version_and_uploads_the_modules_it_declares(client, developer):
    r = client.get(f"/api/v1/app/versions/{developer.version_id}", headers=developer.headers)
    assert r.status_code == 200
    assert r.get_json()["missing_modules"] == [MODULE]

    r = developer.upload(client, developer.version_id)
    assert r.status_code == 201, r.get_json()
    stored = r.get_json()
    assert (stored["app_version_id"], stored["module_path"], stored["point"]) == (
        developer.version_id,
        MODULE,
        "cart.discounts",
    )
    assert stored["config_schema"] == TIERED_SCHEMA

    version = client.get(f"/api/v1/app/versions/{developer.version_id}", headers=developer.headers).get_json()
    assert version["missing_modules"] == []
    assert version["modules"] == [
        {
            "module": MODULE,
            "points": ["cart.discounts"],
            "uploaded": True,
            "plugin_id": stored["id"],
            "sha256": stored["sha256"],
        }
    ]

    again = developer.upload(client, developer.version_id)
    assert again.status_code == 200 and again.get_json()["id"] == stored["id"]  # same bytes: idempotent
    other = developer.upload(client, developer.version_id, module=FIVE_OFF)
    assert other.status_code == 409 and "publish a new version" in other.get_json()["detail"]


def test_publishing_through_the_api_lists_versions_newest_first(client, developer):
    changed = manifest(plugins=[{"point": "cart.discounts", "module": "plugins/v2.wasm"}])
    r = client.post("/api/v1/app/versions", json={"manifest": changed}, headers=developer.headers)
    assert r.status_code == 201, r.get_json()
    v2 = r.get_json()
    assert (v2["number"], v2["current"], v2["missing_modules"]) == (2, True, ["plugins/v2.wasm"])

    same = client.post("/api/v1/app/versions", json={"manifest": changed}, headers=developer.headers)
    assert same.status_code == 200 and same.get_json()["id"] == v2["id"]  # unchanged manifest: no new version

    listed = client.get("/api/v1/app/versions", headers=developer.headers).get_json()["items"]
    assert [(v["number"], v["current"]) for v in listed] == [(2, True), (1, False)]

    bad = client.post("/api/v1/app/versions", json={"manifest": "name: [unclosed"}, headers=developer.headers)
    assert bad.status_code == 422 and bad.get_json()["errors"]["manifest"][0]["line"] == 1
    unknown = client.post("/api/v1/app/versions", json={"manifest": changed, "x": 1}, headers=developer.headers)
    assert unknown.status_code == 422


def test_bad_module_uploads_are_clear_and_store_nothing(client, developer, session):
    r = developer.upload(client, developer.version_id, path="plugins/other.wasm")
    assert r.status_code == 422 and r.get_json()["type"].endswith("/app-module-not-declared")
    assert MODULE in r.get_json()["detail"]

    r = developer.upload(client, developer.version_id, module=bytes(wasmtime.wat2wasm(WITH_IMPORT)))
    body = r.get_json()
    assert r.status_code == 422 and body["module_error"] == "has_imports"
    assert "wasi_snapshot_preview1.fd_write" in body["details"]

    r = client.post(
        f"/api/v1/app/versions/{developer.version_id}/modules",
        json={"module": MODULE, "module_base64": "not base64!"},
        headers=developer.headers,
    )
    assert r.status_code == 422 and "module_base64" in r.get_json()["errors"]
    assert session.query(Plugin).filter_by(app_version_id=developer.version_id).count() == 0


def test_another_apps_version_is_a_404_and_shop_tokens_are_refused(client, developer, session, clock):
    stranger = Developer(session, clock, name="Stranger")
    for path in (f"/api/v1/app/versions/{developer.version_id}", "/api/v1/app/versions/apv_00000000000000000000000000"):
        assert client.get(path, headers=stranger.headers).status_code == 404
    r = stranger.upload(client, developer.version_id)
    assert r.status_code == 404 and r.get_json()["type"].endswith("/app-version-not-found")
    assert [v["id"] for v in client.get("/api/v1/app/versions", headers=stranger.headers).get_json()["items"]] == [
        stranger.version_id
    ]
    shop_token = token_for(ShopFactory())
    assert client.get("/api/v1/app/versions", headers=shop_token).status_code == 403
    assert client.get("/api/v1/app/versions").status_code == 401


def test_an_installed_apps_plugin_runs_in_the_shops_checkout(client, developer, session, clock):
    assert developer.upload(client, developer.version_id).status_code == 201
    owner = UserFactory()
    shop = ShopFactory(owner=owner)
    product = create_product(
        session,
        shop_id=shop.id,
        title="Longjing",
        status="active",
        skus=[NewSku(code="TEA", title="250g", price=5000, on_hand=10)],
    )
    app = session.get(App, developer.app_id)
    installation = install_app(
        session, app=app, shop_id=shop.id, user_id=owner.id, scopes=["read_orders"], now=clock.now()
    )
    session.flush()
    activation = session.query(PluginActivation).filter_by(installation_id=installation.id).one()
    update_app_activation(
        session,
        shop_id=shop.id,
        activation_id=activation.id,
        changes={"config": {"tiers": [{"min_spend": 8000, "amount_off": 1000}]}},
    )
    session.commit()
    headers = token_for(shop)

    def checkout(quantity):
        body = {"lines": [{"sku_id": product.skus[0].id, "quantity": quantity}]}
        cart = client.post("/api/v1/carts", json=body, headers=headers).get_json()
        return client.post(f"/api/v1/carts/{cart['id']}/checkout", json={}, headers=headers)

    order = checkout(2).get_json()
    assert (order["subtotal"], order["discount_total"], order["total"]) == (10000, 1000, 9000)
    assert [d["label"] for d in order["discounts"]] == ["满80减10"]

    log = client.get("/api/v1/plugin-invocations", headers=headers).get_json()["items"]
    plugin_id = session.query(Plugin).filter_by(app_version_id=developer.version_id).one().id
    assert [(e["app_id"], e["plugin_id"], e["activation_id"], e["outcome"]) for e in log] == [
        (developer.app_id, plugin_id, activation.id, "ok")
    ]
    assert client.get(f"/api/v1/plugins/{plugin_id}/health", headers=headers).get_json()["calls"] == 1

    uninstall(session, shop_id=shop.id, installation_id=installation.id, now=clock.now())
    session.commit()
    assert checkout(2).get_json()["discount_total"] == 0
