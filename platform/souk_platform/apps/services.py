"""Apps: developer sign-up, registering apps, versions, client secrets, and plugin activations.

Plain functions: a session and explicit arguments in; nothing reads Flask request globals. The
OAuth server (``souk_platform.oauth``) calls ``get_app_by_client_id``, ``verify_client_secret``,
``current_version``, ``activate_plugins`` and ``deactivate_plugins``.
"""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import object_session

from souk_platform.apps.errors import AppNotFound, ClientTypeChange, InvalidDeveloperSignup, NoClientSecret
from souk_platform.apps.manifest import parse_manifest
from souk_platform.apps.models import App, AppVersion, Installation, PluginActivation
from souk_platform.auth.models import User
from souk_platform.auth.services import create_user, hash_token
from souk_platform.core.errors import InvalidState
from souk_platform.core.ids import new_id
from souk_platform.db import DbSession
from souk_platform.events.services import emit

CLIENT_ID_PREFIX = "souk_ci_"
CLIENT_SECRET_PREFIX = "souk_cs_"
# After a rotation the previous client secret keeps working this long, so deployed apps can switch.
SECRET_ROTATION_WINDOW = dt.timedelta(hours=24)
MIN_PASSWORD_LENGTH = 10


@dataclass(frozen=True, slots=True)
class AppSummary:
    """One row of a developer's app list."""

    app: App
    current_version_number: int
    active_installations: int


def sign_up_developer(session: DbSession, *, email: str, name: str, password: str) -> User:
    """Create a developer account (a ``User`` with ``is_developer``); Conflict if the email is taken."""
    problems: dict[str, list[str]] = {}
    if not name.strip() or len(name) > 200:
        problems["name"] = ["Give a name of 1 to 200 characters."]
    if "@" not in email or len(email) > 320:
        problems["email"] = ["Give a valid email address."]
    if len(password) < MIN_PASSWORD_LENGTH:
        problems["password"] = [f"Use at least {MIN_PASSWORD_LENGTH} characters."]
    if problems:
        raise InvalidDeveloperSignup("The developer account details are not valid.", errors=problems)
    user = create_user(session, email=email, name=name.strip(), password=password)
    user.is_developer = True
    session.flush()
    return user


def _new_client_secret() -> str:
    return CLIENT_SECRET_PREFIX + secrets.token_urlsafe(32)


def app_payload(app: App) -> dict[str, Any]:
    """The app as events carry it (never its secrets)."""
    return {
        "id": app.id,
        "name": app.name,
        "client_id": app.client_id,
        "client_type": app.client_type,
        "developer_id": app.developer_id,
        "status": app.status,
        "current_version_id": app.current_version_id,
        "version": app.version,
    }


def _version_payload(version: AppVersion) -> dict[str, Any]:
    return {"id": version.id, "number": version.number, "scopes": version.scopes, "manifest": version.manifest}


def register_app(session: DbSession, *, developer: User, manifest_text: str) -> tuple[App, AppVersion, str | None]:
    """Register an app from a manifest; return it, its version 1 and its client secret.

    The secret (``None`` for a public client) is returned once and only its SHA-256 is stored.
    Raises ``InvalidManifest`` (with line numbers) and changes nothing when the manifest is bad.
    """
    manifest = parse_manifest(manifest_text)
    secret = _new_client_secret() if manifest["client_type"] == "confidential" else None
    version_id = new_id("apv")
    app = App(
        id=new_id("app"),
        developer_id=developer.id,
        name=manifest["name"],
        client_id=CLIENT_ID_PREFIX + secrets.token_urlsafe(24),
        client_type=manifest["client_type"],
        client_secret_hash=hash_token(secret) if secret else None,
        client_secret_hint=secret[-4:] if secret else None,
        status="active",
        current_version_id=version_id,
    )
    session.add(app)
    session.flush()  # the version's foreign key needs the app row
    version = AppVersion(
        id=version_id,
        app_id=app.id,
        number=1,
        manifest=manifest,
        scopes=manifest["scopes"],
        redirect_uris=manifest["redirect_uris"],
    )
    session.add(version)
    session.flush()
    emit(
        session,
        shop_id=None,
        type="app.created",
        subject_type="app",
        subject_id=app.id,
        payload={"app": app_payload(app), "app_version": _version_payload(version)},
    )
    return app, version, secret


def get_app_by_client_id(session: DbSession, client_id: str) -> App | None:
    """The app with this OAuth ``client_id``, or None. Callers check ``app.status == "active"``."""
    if not client_id.startswith(CLIENT_ID_PREFIX) or len(client_id) > 64:
        return None
    return session.scalar(sa.select(App).where(App.client_id == client_id))


def get_developer_app(session: DbSession, *, developer_id: str, app_id: str) -> App:
    """One of this developer's apps; another developer's app is ``AppNotFound`` (never confirmed)."""
    app = session.scalar(sa.select(App).where(App.id == app_id, App.developer_id == developer_id))
    if app is None:
        raise AppNotFound(f"No app {app_id} among your apps.")
    return app


def current_version(app: App) -> AppVersion:
    """The app's current (latest published) version."""
    session = object_session(app)
    version = session.get(AppVersion, app.current_version_id) if session and app.current_version_id else None
    if version is None:
        raise InvalidState(f"The app {app.id} has no current version.")
    return version


def list_versions(session: DbSession, *, app: App) -> list[AppVersion]:
    """Every version of ``app``, newest first."""
    stmt = sa.select(AppVersion).where(AppVersion.app_id == app.id).order_by(AppVersion.number.desc())
    return list(session.scalars(stmt))


def count_active_installations(session: DbSession, *, app_id: str) -> int:
    stmt = sa.select(sa.func.count()).where(Installation.app_id == app_id, Installation.status == "active")
    return int(session.scalar(stmt) or 0)


def list_developer_apps(session: DbSession, *, developer_id: str) -> list[AppSummary]:
    """The developer's apps, newest first, with their current version number and active installs."""
    installs = (
        sa.select(Installation.app_id, sa.func.count().label("n"))
        .where(Installation.status == "active")
        .group_by(Installation.app_id)
        .subquery()
    )
    stmt = (
        sa.select(App, AppVersion.number, sa.func.coalesce(installs.c.n, 0))
        .join(AppVersion, AppVersion.id == App.current_version_id)
        .outerjoin(installs, installs.c.app_id == App.id)
        .where(App.developer_id == developer_id)
        .order_by(App.created_at.desc(), App.id.desc())
    )
    return [AppSummary(app, number, int(count)) for app, number, count in session.execute(stmt)]


def publish_version(session: DbSession, *, app: App, manifest_text: str) -> AppVersion:
    """Publish a new version of ``app`` from a manifest and make it current.

    A manifest that normalises to the current one creates no version (the current one is returned).
    The client type cannot change (``ClientTypeChange``). Installations keep their version and
    granted scopes until the merchant consents to the new one.
    """
    manifest = parse_manifest(manifest_text)
    session.refresh(app, with_for_update=True)  # one publisher at a time: version numbers stay dense
    current = current_version(app)
    if manifest == current.manifest:
        return current
    if manifest["client_type"] != app.client_type:
        raise ClientTypeChange(
            f"This app is a {app.client_type} client; a new version cannot make it {manifest['client_type']}. "
            "Register a new app instead.",
            errors={"client_type": [f"Must stay {app.client_type}."]},
        )
    version = AppVersion(
        id=new_id("apv"),
        app_id=app.id,
        number=current.number + 1,
        manifest=manifest,
        scopes=manifest["scopes"],
        redirect_uris=manifest["redirect_uris"],
    )
    session.add(version)
    session.flush()
    app.current_version_id = version.id
    app.name = manifest["name"]
    session.flush()
    emit(
        session,
        shop_id=None,
        type="app.version_published",
        subject_type="app",
        subject_id=app.id,
        payload={"app": app_payload(app), "app_version": _version_payload(version)},
    )
    return version


def rotate_client_secret(session: DbSession, *, app: App, now: dt.datetime) -> str:
    """Issue a new client secret and return it (shown once).

    The previous secret keeps working for ``SECRET_ROTATION_WINDOW`` after ``now``; rotating again
    within that window retires the older one at once (only two secrets are ever valid).
    """
    if app.client_type != "confidential":
        raise NoClientSecret("This app is a public client: it has no client secret to rotate.")
    session.refresh(app, with_for_update=True)
    secret = _new_client_secret()
    app.previous_secret_hash = app.client_secret_hash
    app.previous_secret_expires_at = now + SECRET_ROTATION_WINDOW
    app.client_secret_hash = hash_token(secret)
    app.client_secret_hint = secret[-4:]
    session.flush()
    emit(
        session,
        shop_id=None,
        type="app.secret_rotated",
        subject_type="app",
        subject_id=app.id,
        payload={"app": app_payload(app), "previous_secret_expires_at": app.previous_secret_expires_at.isoformat()},
    )
    return secret


def verify_client_secret(app: App, secret: str, now: dt.datetime) -> bool:
    """True when ``secret`` is the app's client secret, or its previous one within the rotation window.

    Compares SHA-256 digests in constant time; a public client never has a valid secret.
    """
    if not app.client_secret_hash or not secret:
        return False
    presented = hash_token(secret)
    matches_current = hmac.compare_digest(presented, app.client_secret_hash)
    matches_previous = bool(
        app.previous_secret_hash
        and app.previous_secret_expires_at
        and now < app.previous_secret_expires_at
        and hmac.compare_digest(presented, app.previous_secret_hash)
    )
    return matches_current or matches_previous


def activate_plugins(session: DbSession, *, installation: Installation) -> list[PluginActivation]:
    """Switch on, for the installation's shop, the plugins of its app version; return them.

    Safe to call again (after a version upgrade too): plugins still in the version are enabled and
    keep their config, new ones are added with config ``{}``, ones the version dropped are disabled.
    """
    if installation.status != "active":
        raise InvalidState(f"The installation {installation.id} is not active; its plugins cannot be activated.")
    version = session.get(AppVersion, installation.app_version_id)
    if version is None:
        raise InvalidState(f"The installation {installation.id} has no app version.")
    existing = {
        (activation.point, activation.module): activation
        for activation in session.scalars(
            sa.select(PluginActivation).where(
                PluginActivation.installation_id == installation.id,
                PluginActivation.shop_id == installation.shop_id,
            )
        )
    }
    active: list[PluginActivation] = []
    for plugin in version.manifest.get("plugins", []):
        activation = existing.pop((plugin["point"], plugin["module"]), None)
        if activation is None:
            activation = PluginActivation(
                installation_id=installation.id,
                shop_id=installation.shop_id,
                app_id=installation.app_id,
                point=plugin["point"],
                module=plugin["module"],
                config={},
                enabled=True,
            )
            session.add(activation)
        elif not activation.enabled:
            activation.enabled = True
        active.append(activation)
    for dropped in existing.values():
        dropped.enabled = False
    session.flush()
    return active


def deactivate_plugins(session: DbSession, *, installation: Installation) -> int:
    """Disable every plugin of the installation (on uninstall); return how many were switched off."""
    activations = session.scalars(
        sa.select(PluginActivation).where(
            PluginActivation.installation_id == installation.id,
            PluginActivation.shop_id == installation.shop_id,
            PluginActivation.enabled.is_(True),
        )
    ).all()
    for activation in activations:
        activation.enabled = False
    session.flush()
    return len(activations)


def enabled_plugins(session: DbSession, *, shop_id: str, point: str) -> list[PluginActivation]:
    """The shop's enabled plugins at extension point ``point``, oldest activation first."""
    stmt = (
        sa.select(PluginActivation)
        .where(PluginActivation.shop_id == shop_id, PluginActivation.point == point, PluginActivation.enabled.is_(True))
        .order_by(PluginActivation.created_at, PluginActivation.id)
    )
    return list(session.scalars(stmt))
