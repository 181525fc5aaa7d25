"""Registering apps, client secrets and their rotation, versions, and plugin activations."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import pytest
import sqlalchemy as sa

from factories import ShopFactory
from souk_platform.apps import services
from souk_platform.apps.errors import ClientTypeChange, InvalidDeveloperSignup, InvalidManifest, NoClientSecret
from souk_platform.apps.models import App, AppVersion, Installation, PluginActivation
from souk_platform.core.clock import FrozenClock
from souk_platform.core.errors import Conflict, InvalidState, NotFound
from souk_platform.events.models import OutboxEvent

NOW = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)


def manifest(**changes: object) -> str:
    body: dict = {
        "name": "Loyalty Boost",
        "redirect_uris": ["https://boost.example.com/cb"],
        "scopes": ["read_orders", "read_customers"],
        "plugins": [{"point": "points.earn", "module": "earn.wasm"}],
    }
    body.update(changes)
    return json.dumps(body, indent=2)


@pytest.fixture
def developer(session):
    user = services.sign_up_developer(session, email="Dev@Example.com", name="Dana Dev", password="a long password")
    session.commit()
    return user


def events(session, type_: str, *where) -> list[OutboxEvent]:
    """Events of ``type_`` (narrowed by ``where``: other test modules commit app events too)."""
    stmt = sa.select(OutboxEvent).where(OutboxEvent.type == type_, *where).order_by(OutboxEvent.id)
    return list(session.scalars(stmt))


def count(session, model, *where) -> int:
    """Rows of ``model`` matching ``where``: other test modules may commit rows to the same database."""
    return session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def test_developer_signup_rules(session, developer):
    assert developer.is_developer and developer.email == "dev@example.com"
    with pytest.raises(InvalidDeveloperSignup) as caught:
        services.sign_up_developer(session, email="x@example.com", name=" ", password="short")
    assert set(caught.value.errors) == {"name", "password"}
    with pytest.raises(Conflict):
        services.sign_up_developer(session, email="dev@example.com", name="Again", password="another long one")


def test_register_confidential_app_shows_secret_once_and_stores_only_its_hash(session, developer):
    app, version, secret = services.register_app(session, developer=developer, manifest_text=manifest())
    session.commit()
    assert app.client_id.startswith("souk_ci_") and secret is not None and secret.startswith("souk_cs_")
    assert app.client_secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert app.client_secret_hint == secret[-4:]
    stored = session.execute(sa.text("SELECT * FROM apps WHERE id = :id"), {"id": app.id}).mappings().one()
    assert secret not in json.dumps({k: str(v) for k, v in stored.items()})
    assert (version.number, version.scopes) == (1, ["read_customers", "read_orders"])
    assert services.current_version(app).id == version.id
    assert services.get_app_by_client_id(session, app.client_id) is app
    assert services.get_app_by_client_id(session, "souk_ci_nope") is None
    assert services.verify_client_secret(app, secret, NOW)
    assert not services.verify_client_secret(app, secret + "x", NOW)
    assert not services.verify_client_secret(app, "", NOW)
    (created,) = events(session, "app.created", OutboxEvent.subject_id == app.id)
    assert created.shop_id is None and created.subject_id == app.id
    assert created.payload["app"]["version"] == app.version and secret not in json.dumps(created.payload)


def test_public_app_has_no_secret_and_cannot_rotate(session, developer):
    app, _version, secret = services.register_app(
        session, developer=developer, manifest_text=manifest(client_type="public")
    )
    assert secret is None and app.client_secret_hash is None
    assert not services.verify_client_secret(app, "souk_cs_anything", NOW)
    with pytest.raises(NoClientSecret):
        services.rotate_client_secret(session, app=app, now=NOW)


def test_bad_manifest_registers_nothing(session, developer):
    with pytest.raises(InvalidManifest) as caught:
        services.register_app(session, developer=developer, manifest_text=manifest(scopes=["read_everything"]))
    assert caught.value.problems[0]["path"] == "scopes.0"
    assert caught.value.problems[0]["line"] == 7  # {, name, redirect_uris: [, uri, ], scopes: [, this one
    mine = sa.select(App.id).where(App.developer_id == developer.id)
    assert count(session, App, App.id.in_(mine)) == 0 and count(session, AppVersion, AppVersion.app_id.in_(mine)) == 0
    assert events(session, "app.created", OutboxEvent.subject_id.in_(mine)) == []


def test_rotation_keeps_the_previous_secret_for_24_hours(session, developer):
    clock = FrozenClock(NOW)
    app, _version, first = services.register_app(session, developer=developer, manifest_text=manifest())
    second = services.rotate_client_secret(session, app=app, now=clock.now())
    session.commit()
    assert second != first and app.client_secret_hint == second[-4:]
    assert services.verify_client_secret(app, second, clock.now())
    assert services.verify_client_secret(app, first, clock.now())
    clock.advance(hours=23, minutes=59)
    assert services.verify_client_secret(app, first, clock.now())
    clock.advance(minutes=1)
    assert not services.verify_client_secret(app, first, clock.now())
    assert services.verify_client_secret(app, second, clock.now())
    (rotated,) = events(session, "app.secret_rotated", OutboxEvent.subject_id == app.id)
    assert rotated.payload["previous_secret_expires_at"] == (NOW + dt.timedelta(hours=24)).isoformat()


def test_rotating_twice_retires_the_oldest_secret_at_once(session, developer):
    app, _version, first = services.register_app(session, developer=developer, manifest_text=manifest())
    second = services.rotate_client_secret(session, app=app, now=NOW)
    third = services.rotate_client_secret(session, app=app, now=NOW + dt.timedelta(hours=1))
    assert not services.verify_client_secret(app, first, NOW + dt.timedelta(hours=1))
    assert services.verify_client_secret(app, second, NOW + dt.timedelta(hours=1))
    assert services.verify_client_secret(app, third, NOW + dt.timedelta(hours=1))


def test_versions_change_only_when_the_normalised_manifest_changes(session, developer):
    app, first, _secret = services.register_app(session, developer=developer, manifest_text=manifest())
    # Same content, other format and order: no new version.
    same_as_yaml = (
        "name: Loyalty Boost\nscopes: [read_customers, read_orders]\nredirect_uris: ['https://boost.example.com/cb']\n"
        "client_type: confidential\nplugins:\n  - {point: points.earn, module: earn.wasm}\n"
    )
    assert services.publish_version(session, app=app, manifest_text=same_as_yaml).id == first.id
    second = services.publish_version(
        session, app=app, manifest_text=manifest(name="Loyalty Boost Pro", scopes=["read_orders", "write_points"])
    )
    session.commit()
    assert second.number == 2 and second.scopes == ["read_orders", "write_points"]
    assert app.current_version_id == second.id and app.name == "Loyalty Boost Pro"
    assert [v.number for v in services.list_versions(session, app=app)] == [2, 1]
    assert first.manifest["name"] == "Loyalty Boost"  # old versions are immutable
    (published,) = events(session, "app.version_published", OutboxEvent.subject_id == app.id)
    assert published.payload["app_version"]["number"] == 2


def test_client_type_cannot_change_and_bad_manifests_publish_nothing(session, developer):
    app, first, _secret = services.register_app(session, developer=developer, manifest_text=manifest())
    with pytest.raises(ClientTypeChange):
        services.publish_version(session, app=app, manifest_text=manifest(client_type="public"))
    with pytest.raises(InvalidManifest):
        services.publish_version(session, app=app, manifest_text=manifest(scopes=[]))
    assert app.current_version_id == first.id and count(session, AppVersion, AppVersion.app_id == app.id) == 1
    assert events(session, "app.version_published", OutboxEvent.subject_id == app.id) == []


def test_only_the_owner_developer_finds_an_app(session, developer):
    other = services.sign_up_developer(session, email="o@example.com", name="Otto", password="otto's password")
    app, _v, _s = services.register_app(session, developer=developer, manifest_text=manifest())
    assert services.get_developer_app(session, developer_id=developer.id, app_id=app.id) is app
    with pytest.raises(NotFound):
        services.get_developer_app(session, developer_id=other.id, app_id=app.id)
    assert [s.app.id for s in services.list_developer_apps(session, developer_id=developer.id)] == [app.id]
    assert services.list_developer_apps(session, developer_id=other.id) == []


def install(session, app: App, version: AppVersion, shop) -> Installation:
    installation = Installation(
        app_id=app.id, shop_id=shop.id, app_version_id=version.id, granted_scopes=version.scopes
    )
    session.add(installation)
    session.flush()
    return installation


def test_installing_activates_plugins_and_uninstalling_disables_them(session, developer):
    shop, other_shop = ShopFactory(), ShopFactory()
    plugins = [
        {"point": "points.earn", "module": "earn.wasm"},
        {"point": "cart.discounts", "module": "discounts.wasm"},
    ]
    app, version, _s = services.register_app(session, developer=developer, manifest_text=manifest(plugins=plugins))
    installation = install(session, app, version, shop)
    activated = services.activate_plugins(session, installation=installation)
    session.commit()
    assert [(a.point, a.module, a.enabled, a.config) for a in activated] == [
        ("points.earn", "earn.wasm", True, {}),
        ("cart.discounts", "discounts.wasm", True, {}),
    ]
    assert all(a.shop_id == shop.id and a.app_id == app.id for a in activated)
    assert [a.module for a in services.enabled_plugins(session, shop_id=shop.id, point="points.earn")] == ["earn.wasm"]
    assert services.enabled_plugins(session, shop_id=other_shop.id, point="points.earn") == []
    assert {(s.active_installations) for s in services.list_developer_apps(session, developer_id=developer.id)} == {1}

    # Activating again changes nothing (no duplicates).
    services.activate_plugins(session, installation=installation)
    assert count(session, PluginActivation, PluginActivation.installation_id == installation.id) == 2

    assert services.deactivate_plugins(session, installation=installation) == 2
    assert services.enabled_plugins(session, shop_id=shop.id, point="points.earn") == []
    assert services.deactivate_plugins(session, installation=installation) == 0


def test_activating_a_newer_version_keeps_config_and_disables_dropped_plugins(session, developer):
    shop = ShopFactory()
    app, v1, _s = services.register_app(session, developer=developer, manifest_text=manifest())
    installation = install(session, app, v1, shop)
    (earn,) = services.activate_plugins(session, installation=installation)
    earn.config = {"multiplier": 2}
    v2 = services.publish_version(
        session, app=app, manifest_text=manifest(plugins=[{"point": "order.validate", "module": "risk.wasm"}])
    )
    installation.app_version_id = v2.id
    (risk,) = services.activate_plugins(session, installation=installation)
    assert risk.point == "order.validate" and risk.enabled
    assert not earn.enabled and earn.config == {"multiplier": 2}
    installation.app_version_id = v1.id
    (earn_again,) = services.activate_plugins(session, installation=installation)
    assert earn_again.id == earn.id and earn_again.enabled and earn_again.config == {"multiplier": 2}


def test_an_uninstalled_installation_cannot_activate_plugins(session, developer):
    app, version, _s = services.register_app(session, developer=developer, manifest_text=manifest())
    installation = install(session, app, version, ShopFactory())
    installation.status = "uninstalled"
    with pytest.raises(InvalidState):
        services.activate_plugins(session, installation=installation)
    assert count(session, PluginActivation, PluginActivation.installation_id == installation.id) == 0


def test_demo_seed_registers_the_sample_app_once(session):
    from souk_platform.apps import demo
    from souk_platform.auth.services import create_user

    dev = create_user(session, email="dev@demo.souk.dev", name="Developer", password="souk-demo-dev")
    shop = ShopFactory()
    demo.seed(session, shop)
    demo.seed(session, shop)
    (app,) = session.scalars(sa.select(App).where(App.developer_id == dev.id)).all()
    assert dev.is_developer and app.developer_id == dev.id and app.client_type == "confidential"
    version = services.current_version(app)
    assert version.redirect_uris == ["http://127.0.0.1:8765/callback"]
    assert all(scope.startswith("read_") for scope in version.scopes)
