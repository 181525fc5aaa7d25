from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from souk_platform.db import Base, UTCDateTime, Versioned, created_column, id_column, shop_column


class App(Versioned, Base):
    """An OAuth client owned by a developer. Public clients (no secret) must use PKCE."""

    __tablename__ = "apps"

    id: Mapped[str] = id_column("app")
    developer_id: Mapped[str] = mapped_column(sa.ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    client_id: Mapped[str] = mapped_column(sa.String(64), unique=True)
    client_type: Mapped[str] = mapped_column(sa.String(16))  # "confidential" | "public"
    client_secret_hash: Mapped[str | None] = mapped_column(sa.String(64))  # sha256 hex; None for public
    client_secret_hint: Mapped[str | None] = mapped_column(sa.String(8))
    # During a rotation the previous secret keeps working until this moment.
    previous_secret_hash: Mapped[str | None] = mapped_column(sa.String(64))
    previous_secret_expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # Signs the deliveries of the endpoints its manifest declares (webhooks.app_endpoints); sealed.
    webhook_secret_sealed: Mapped[str | None] = mapped_column(sa.Text)
    previous_webhook_secret_sealed: Mapped[str | None] = mapped_column(sa.Text)
    previous_webhook_secret_expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(sa.String(16), default="active")  # "active" | "suspended"
    current_version_id: Mapped[str | None] = mapped_column(sa.String(64))
    created_at: Mapped[dt.datetime] = created_column()


class AppVersion(Base):
    """One immutable manifest of an app. A manifest change creates a new version."""

    __tablename__ = "app_versions"
    __table_args__ = (sa.UniqueConstraint("app_id", "number"),)

    id: Mapped[str] = id_column("apv")
    app_id: Mapped[str] = mapped_column(sa.ForeignKey("apps.id"), index=True)
    number: Mapped[int] = mapped_column(sa.Integer)
    manifest: Mapped[dict[str, Any]] = mapped_column()  # the validated manifest, normalised
    scopes: Mapped[list[Any]] = mapped_column()  # requested scopes, sorted
    redirect_uris: Mapped[list[Any]] = mapped_column()
    created_at: Mapped[dt.datetime] = created_column()


class Installation(Versioned, Base):
    """An app installed on a shop with the scopes the merchant granted.

    At most one active installation per (app, shop); an uninstall ends it and a reinstall starts a
    new row. Tokens (``access_tokens.installation_id``) and rate limits hang off the installation.
    """

    __tablename__ = "installations"
    __table_args__ = (sa.Index("ix_installations_app_shop", "app_id", "shop_id"),)

    id: Mapped[str] = id_column("ins")
    app_id: Mapped[str] = mapped_column(sa.ForeignKey("apps.id"))
    shop_id: Mapped[str] = shop_column()
    app_version_id: Mapped[str] = mapped_column(sa.ForeignKey("app_versions.id"))
    granted_scopes: Mapped[list[Any]] = mapped_column()
    status: Mapped[str] = mapped_column(sa.String(16), default="active")  # "active" | "uninstalled"
    installed_by: Mapped[str | None] = mapped_column(sa.ForeignKey("users.id"))
    installed_at: Mapped[dt.datetime] = created_column()
    uninstalled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class PluginActivation(Versioned, Base):
    """One plugin of an installed app's version, switched on (or off) for the installation's shop.

    Installing an app activates its version's plugins; uninstalling disables them. ``config`` is the
    merchant's settings for the plugin, validated against the manifest's ``config_schema``.
    """

    __tablename__ = "plugin_activations"
    __table_args__ = (sa.UniqueConstraint("installation_id", "point", "module"),)

    id: Mapped[str] = id_column("pla")
    installation_id: Mapped[str] = mapped_column(sa.ForeignKey("installations.id"), index=True)
    shop_id: Mapped[str] = shop_column()
    app_id: Mapped[str] = mapped_column(sa.ForeignKey("apps.id"), index=True)
    point: Mapped[str] = mapped_column(sa.String(64))
    module: Mapped[str] = mapped_column(sa.String(200))
    config: Mapped[dict[str, Any]] = mapped_column(default=dict)
    enabled: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = created_column()
