"""Plugin modules, a shop's activations of its own modules, and the invocation log.

Where module bytes come from: a shop's own upload is a ``plugins`` row with ``shop_id`` set; an app
version's module is a ``plugins`` row with ``shop_id`` NULL, keyed by ``(app_version_id, module_path)``
where ``module_path`` is the activation's ``module`` (``apps.models.PluginActivation.module``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, deferred, mapped_column

from souk_platform.db import ID_LENGTH, Base, JSONType, UTCDateTime, Versioned, created_column, id_column, shop_column


class Plugin(Base):
    """One validated ABI v1 module (≤ 256 KiB) for one extension point. Immutable once stored."""

    __tablename__ = "plugins"
    __table_args__ = (sa.UniqueConstraint("app_version_id", "module_path"),)

    id: Mapped[str] = id_column("plg")
    # The uploading shop; NULL for a module that belongs to an app version.
    shop_id: Mapped[str | None] = mapped_column(sa.String(ID_LENGTH), sa.ForeignKey("shops.id"), index=True)
    app_version_id: Mapped[str | None] = mapped_column(sa.String(ID_LENGTH), index=True)
    module_path: Mapped[str | None] = mapped_column(sa.String(200))
    name: Mapped[str] = mapped_column(sa.String(100))
    point: Mapped[str] = mapped_column(sa.String(64))
    sha256: Mapped[str] = mapped_column(sa.String(64), index=True)
    size_bytes: Mapped[int] = mapped_column(sa.Integer)
    # Loaded only on a runtime cache miss.
    module: Mapped[bytes] = deferred(mapped_column(sa.LargeBinary, nullable=False))
    # The module compiled once at upload (in a bounded child process), for the engine ``compiled_key``
    # names: a checkout loads this instead of compiling (docs/architecture.md §7.1). NULL for
    # rows uploaded before it existed, until the compile job fills it.
    compiled: Mapped[bytes | None] = deferred(mapped_column(sa.LargeBinary))
    compiled_key: Mapped[str | None] = mapped_column(sa.String(100))
    config_schema: Mapped[dict[str, Any] | None] = mapped_column()
    created_at: Mapped[dt.datetime] = created_column()


class ShopPluginActivation(Versioned, Base):
    """A shop's own plugin switched on at its point, with its place in the order and its config."""

    __tablename__ = "shop_plugin_activations"
    __table_args__ = (sa.UniqueConstraint("shop_id", "plugin_id"),)

    id: Mapped[str] = id_column("spa")
    shop_id: Mapped[str] = shop_column()
    plugin_id: Mapped[str] = mapped_column(sa.ForeignKey("plugins.id"), index=True)
    position: Mapped[int] = mapped_column(sa.Integer, default=0)
    config: Mapped[dict[str, Any]] = mapped_column(default=dict)
    enabled: Mapped[bool] = mapped_column(default=True)
    # "abort" or "continue"; NULL: the point's default (only order.validate may choose).
    on_failure: Mapped[str | None] = mapped_column(sa.String(16))
    created_at: Mapped[dt.datetime] = created_column()


class PluginInvocation(Base):
    """One plugin call at one point: outcome, cost, output and the exact input (kept for replay)."""

    __tablename__ = "plugin_invocations"
    __table_args__ = (
        sa.Index("ix_plugin_invocations_shop_id_plugin_id_created_at", "shop_id", "plugin_id", "created_at"),
        sa.Index("ix_plugin_invocations_app_id_id", "app_id", "id"),
    )

    id: Mapped[str] = id_column("pli")
    shop_id: Mapped[str] = shop_column()
    plugin_id: Mapped[str] = mapped_column(sa.ForeignKey("plugins.id"), index=True)
    activation_id: Mapped[str] = mapped_column(sa.String(ID_LENGTH))  # a shop's or an app installation's
    # The app whose plugin ran (NULL for a shop's own upload): the developer's "Plugin runs" read by it.
    app_id: Mapped[str | None] = mapped_column(sa.String(ID_LENGTH))
    point: Mapped[str] = mapped_column(sa.String(64))
    outcome: Mapped[str] = mapped_column(sa.String(32))
    message: Mapped[str] = mapped_column(sa.String(500), default="")
    fuel: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    elapsed_us: Mapped[int] = mapped_column(sa.Integer, default=0)
    input_sha256: Mapped[str] = mapped_column(sa.String(64))
    # The input bytes exactly as the plugin received them; NULL once purged after the retention window.
    input: Mapped[str | None] = mapped_column(sa.Text)
    output: Mapped[Any | None] = mapped_column(JSONType)
    module_sha256: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
