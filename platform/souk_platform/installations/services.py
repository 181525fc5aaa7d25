"""Installing an app on a shop (after the merchant's consent), scope upgrades, and uninstalling.

An installation binds (app, shop, app version, granted scopes). At most one is active per (app, shop):
consenting again updates it; an uninstall ends it for good and a reinstall starts a new one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

from souk_platform.apps.models import App, Installation
from souk_platform.apps.services import activate_plugins, current_version, deactivate_plugins
from souk_platform.core.versions import check_version
from souk_platform.db import DbSession
from souk_platform.events.services import emit
from souk_platform.installations import errors
from souk_platform.messaging.services.channels import retire_app_channels, sync_app_channels
from souk_platform.oauth.services import revoke_installation_tokens
from souk_platform.shops.services import membership
from souk_platform.webhooks.app_endpoints import sync_manifest_subscriptions
from souk_platform.webhooks.secret_box import SecretBox


def installation_view(installation: Installation, app: App | None) -> dict[str, Any]:
    """The installation with its app's name and client id, as the API shows it."""
    return {
        "id": installation.id,
        "app_id": installation.app_id,
        "app_name": app.name if app else None,
        "client_id": app.client_id if app else None,
        "shop_id": installation.shop_id,
        "app_version_id": installation.app_version_id,
        "granted_scopes": list(installation.granted_scopes),
        "status": installation.status,
        "installed_at": installation.installed_at,
        "uninstalled_at": installation.uninstalled_at,
        "version": installation.version,
    }


def installation_payload(installation: Installation, app: App | None) -> dict[str, Any]:
    """The event payload: ``installation_view`` with RFC 3339 timestamps."""
    view = installation_view(installation, app)
    for key in ("installed_at", "uninstalled_at"):
        view[key] = view[key].isoformat() if view[key] else None
    return view


def active_installation(session: DbSession, *, app_id: str, shop_id: str) -> Installation | None:
    return session.scalar(
        sa.select(Installation).where(
            Installation.app_id == app_id, Installation.shop_id == shop_id, Installation.status == "active"
        )
    )


def missing_scopes(installation: Installation | None, scopes: Iterable[str]) -> list[str]:
    """The scopes in ``scopes`` the merchant has not granted yet (all of them when not installed)."""
    granted = set(installation.granted_scopes) if installation else set()
    return sorted(set(scopes) - granted)


def install_app(
    session: DbSession,
    *,
    app: App,
    shop_id: str,
    user_id: str,
    scopes: Iterable[str],
    now: dt.datetime,
    box: SecretBox | None = None,
) -> Installation:
    """Record the shop owner's consent to ``scopes`` for ``app``: install it, or update the installation.

    Only a shop owner may consent. ``scopes`` must be among those the app's current version asks for.
    A first install activates the version's plugins and emits ``app.installed``; a fresh consent on an
    active installation moves it to the current version, adds the scopes (keeping earlier grants the
    version still asks for) and emits ``app.installation_updated``. Either way the installation's
    manifest subscriptions follow the version's webhook endpoints (``box`` seals the app's secret;
    it is needed only when the version declares endpoints).
    """
    member = membership(session, shop_id=shop_id, user_id=user_id)
    if member is None:
        raise errors.InstallationNotFound("No such shop.")
    if member.role != "owner":
        raise errors.OwnerOnly("Only a shop owner may install apps.")
    if app.status != "active":
        raise errors.AppNotInstallable(f"The app {app.name} is not available for installation.")
    version = current_version(app)
    if box is None and version.manifest.get("webhooks"):
        raise ValueError("install_app needs the secret box: the version declares webhook endpoints")
    wanted = set(scopes)
    unknown = sorted(wanted - set(version.scopes))
    if unknown:
        raise errors.ScopesNotOffered(
            f"The app does not ask for: {', '.join(unknown)}.",
            errors={"scopes": [f"Not offered: {s}" for s in unknown]},
        )
    installation = session.scalar(
        sa.select(Installation)
        .where(Installation.app_id == app.id, Installation.shop_id == shop_id, Installation.status == "active")
        .with_for_update()
    )
    if installation is None:
        installation = Installation(
            app_id=app.id,
            shop_id=shop_id,
            app_version_id=version.id,
            granted_scopes=sorted(wanted),
            status="active",
            installed_by=user_id,
            installed_at=now,
        )
        session.add(installation)
        session.flush()
        activate_plugins(session, installation=installation)
        event = "app.installed"
    else:
        granted = (set(installation.granted_scopes) & set(version.scopes)) | wanted
        upgraded = installation.app_version_id != version.id
        installation.granted_scopes = sorted(granted)
        installation.app_version_id = version.id
        session.flush()
        if upgraded:
            activate_plugins(session, installation=installation)  # the new version's plugins
        event = "app.installation_updated"
    if box is not None:
        sync_manifest_subscriptions(session, installation=installation, app=app, version=version, box=box, now=now)
    sync_app_channels(session, installation=installation, version=version)
    emit(
        session,
        shop_id=shop_id,
        type=event,
        subject_type="installation",
        subject_id=installation.id,
        payload=installation_payload(installation, app),
    )
    return installation


def get_installation(session: DbSession, *, shop_id: str, installation_id: str) -> Installation:
    """One of the shop's installations; another shop's is ``InstallationNotFound``."""
    installation = session.scalar(
        sa.select(Installation).where(Installation.id == installation_id, Installation.shop_id == shop_id)
    )
    if installation is None:
        raise errors.InstallationNotFound(f"No installation {installation_id} in this shop.")
    return installation


def uninstall(
    session: DbSession,
    *,
    shop_id: str,
    installation_id: str,
    now: dt.datetime,
    expected_version: int | None = None,
) -> Installation:
    """Uninstall: revoke every token of the installation, disable its plugins, emit ``app.uninstalled``.

    An installation that is already uninstalled is ``InstallationNotActive`` (409); nothing changes.
    """
    installation = get_installation(session, shop_id=shop_id, installation_id=installation_id)
    check_version(installation.version, expected_version)
    if installation.status != "active":
        raise errors.InstallationNotActive(f"The installation {installation_id} is already uninstalled.")
    revoke_installation_tokens(session, installation_id=installation.id, now=now)
    deactivate_plugins(session, installation=installation)
    retire_app_channels(session, installation=installation)
    installation.status = "uninstalled"
    installation.uninstalled_at = now
    session.flush()
    emit(
        session,
        shop_id=shop_id,
        type="app.uninstalled",
        subject_type="installation",
        subject_id=installation.id,
        payload=installation_payload(installation, session.get(App, installation.app_id)),
    )
    return installation


def list_installations_stmt(shop_id: str, *, status: str | None = None) -> sa.Select[Any]:
    """The shop's installations, for cursor pagination on ``Installation.id``."""
    stmt = sa.select(Installation).where(Installation.shop_id == shop_id)
    if status:
        stmt = stmt.where(Installation.status == status)
    return stmt


def views_of(session: DbSession, installations: list[Installation]) -> list[dict[str, Any]]:
    """``installation_view`` for each installation, loading their apps in one query."""
    app_ids = {installation.app_id for installation in installations}
    apps = {app.id: app for app in session.scalars(sa.select(App).where(App.id.in_(app_ids)))} if app_ids else {}
    return [installation_view(installation, apps.get(installation.app_id)) for installation in installations]


def installed_apps(session: DbSession, *, shop_id: str) -> list[tuple[Installation, App]]:
    """The shop's active installations with their apps, newest first (for the merchant's page)."""
    rows = session.execute(
        sa.select(Installation, App)
        .join(App, App.id == Installation.app_id)
        .where(Installation.shop_id == shop_id, Installation.status == "active")
        .order_by(Installation.id.desc())
    )
    return [(installation, app) for installation, app in rows]
