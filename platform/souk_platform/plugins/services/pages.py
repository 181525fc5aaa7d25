"""What the merchant's and the developer's pages show: activations of both kinds with their last day's
health, changing and reordering them, and an app's plugins and invocations across shops."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from souk_platform.apps.models import App, AppVersion, Installation, PluginActivation
from souk_platform.core.versions import check_version
from souk_platform.db import DbSession
from souk_platform.events.services import emit
from souk_platform.extensions.services import EXTENSION_POINTS
from souk_platform.plugins.errors import ActivationNotFound, InvocationNotFound
from souk_platform.plugins.invocation_log import FAILING_THRESHOLD, failure_filter
from souk_platform.plugins.models import Plugin, PluginInvocation, ShopPluginActivation
from souk_platform.plugins.services.activations import (
    _app_activations,
    _check_config_against,
    get_activation,
    update_activation,
)
from souk_platform.plugins.services.uploads import plugins_stmt

HEALTH_WINDOW = dt.timedelta(hours=24)  # failure rates on the pages cover the last day


@dataclass(frozen=True, slots=True)
class Health:
    calls: int = 0
    failures: int = 0

    @property
    def failure_rate(self) -> float:
        return self.failures / self.calls if self.calls else 0.0

    @property
    def failing(self) -> bool:
        return self.failures >= FAILING_THRESHOLD


def _health_by_plugin(session: DbSession, *where: sa.ColumnElement[bool], since: dt.datetime) -> dict[str, Health]:
    rows = session.execute(
        sa.select(
            PluginInvocation.plugin_id,
            sa.func.count(),
            sa.func.count().filter(failure_filter()),
        )
        .where(*where, PluginInvocation.created_at > since)
        .group_by(PluginInvocation.plugin_id)
    )
    return {plugin_id: Health(int(calls), int(failures)) for plugin_id, calls, failures in rows}


@dataclass(frozen=True, slots=True)
class ShopPluginEntry:
    """One activation on the merchant's Plugins page: the shop's own upload or an installed app's plugin."""

    kind: str  # "own" | "app"
    activation_id: str
    point: str
    name: str
    plugin: Plugin | None  # None: the app has not uploaded this module yet
    app_name: str | None
    enabled: bool
    position: int | None  # own plugins only; apps' run after them, oldest install first
    config: dict[str, Any]
    config_schema: dict[str, Any] | None
    on_failure: str
    health: Health


def shop_plugin_entries(session: DbSession, *, shop_id: str, now: dt.datetime) -> list[ShopPluginEntry]:
    """Every activation of the shop, enabled or not, by point and in running order, with its last day's health."""
    health = _health_by_plugin(session, PluginInvocation.shop_id == shop_id, since=now - HEALTH_WINDOW)
    entries: list[ShopPluginEntry] = []
    own = session.execute(
        sa.select(ShopPluginActivation, Plugin)
        .join(Plugin, Plugin.id == ShopPluginActivation.plugin_id)
        .where(ShopPluginActivation.shop_id == shop_id)
        .order_by(ShopPluginActivation.position, ShopPluginActivation.created_at, ShopPluginActivation.id)
    )
    for activation, plugin in own:
        default = EXTENSION_POINTS[plugin.point].on_failure.value
        entries.append(
            ShopPluginEntry(
                "own",
                activation.id,
                plugin.point,
                plugin.name,
                plugin,
                None,
                activation.enabled,
                activation.position,
                dict(activation.config),
                plugin.config_schema,
                activation.on_failure or default,
                health.get(plugin.id, Health()),
            )
        )
    apps = _app_activations(session, shop_id=shop_id)
    names = dict(session.execute(sa.select(App.id, App.name).where(App.id.in_({a.app_id for a, _ in apps}))).all())
    for app_activation, module in apps:
        entries.append(
            ShopPluginEntry(
                "app",
                app_activation.id,
                app_activation.point,
                app_activation.module,
                module,
                names.get(app_activation.app_id),
                app_activation.enabled,
                None,
                dict(app_activation.config),
                _app_config_schema(session, app_activation, module),
                EXTENSION_POINTS[app_activation.point].on_failure.value,
                health.get(module.id, Health()) if module else Health(),
            )
        )
    order = {name: index for index, name in enumerate(EXTENSION_POINTS)}
    return sorted(entries, key=lambda entry: order.get(entry.point, len(order)))  # stable: running order kept


def get_shop_plugin_entry(session: DbSession, *, shop_id: str, activation_id: str, now: dt.datetime) -> ShopPluginEntry:
    for entry in shop_plugin_entries(session, shop_id=shop_id, now=now):
        if entry.activation_id == activation_id:
            return entry
    raise ActivationNotFound(f"There is no plugin activation {activation_id} in this shop.")


def _app_config_schema(
    session: DbSession, activation: PluginActivation, plugin: Plugin | None
) -> dict[str, Any] | None:
    """The config schema of an app's plugin: its stored module's, else the installed version's manifest."""
    if plugin is not None:
        return plugin.config_schema
    installation = session.get(Installation, activation.installation_id)
    version = session.get(AppVersion, installation.app_version_id) if installation else None
    for entry in version.manifest.get("plugins", []) if version else []:
        if entry["module"] == activation.module:
            return entry.get("config_schema") or None
    return None


def unactivated_plugins(session: DbSession, *, shop_id: str) -> list[Plugin]:
    """The shop's own uploads that were never activated, newest first."""
    activated = sa.select(ShopPluginActivation.plugin_id).where(ShopPluginActivation.shop_id == shop_id)
    return list(
        session.scalars(
            plugins_stmt(shop_id).where(Plugin.id.not_in(activated)).order_by(Plugin.created_at.desc(), Plugin.id)
        )
    )


def update_app_activation(
    session: DbSession,
    *,
    shop_id: str,
    activation_id: str,
    changes: Mapping[str, Any],
    expected_version: int | None = None,
) -> PluginActivation:
    """Change ``enabled`` or ``config`` of an installed app's plugin in the shop (config checked like a shop's)."""
    activation = session.scalar(
        sa.select(PluginActivation).where(PluginActivation.id == activation_id, PluginActivation.shop_id == shop_id)
    )
    if activation is None:
        raise ActivationNotFound(f"There is no plugin activation {activation_id} in this shop.")
    check_version(activation.version, expected_version)
    if "config" in changes:
        plugin = next((p for a, p in _app_activations(session, shop_id=shop_id) if a.id == activation.id), None)
        _check_config_against(_app_config_schema(session, activation, plugin), changes["config"])
        activation.config = dict(changes["config"])
    if "enabled" in changes:
        activation.enabled = bool(changes["enabled"])
    session.flush()
    emit(
        session,
        shop_id=shop_id,
        type="plugin_activation.updated",
        subject_type="plugin_activation",
        subject_id=activation.id,
        payload={
            "id": activation.id,
            "app_id": activation.app_id,
            "module": activation.module,
            "point": activation.point,
            "enabled": activation.enabled,
            "on_failure": EXTENSION_POINTS[activation.point].on_failure.value,
            "version": activation.version,
        },
    )
    return activation


def change_shop_plugin(session: DbSession, *, shop_id: str, entry: ShopPluginEntry, changes: Mapping[str, Any]) -> None:
    """Change ``enabled`` or ``config`` of either kind of activation (for the merchant's pages)."""
    if entry.kind == "own":
        update_activation(session, shop_id=shop_id, activation_id=entry.activation_id, changes=changes)
    else:
        update_app_activation(session, shop_id=shop_id, activation_id=entry.activation_id, changes=changes)


def move_activation(session: DbSession, *, shop_id: str, activation_id: str, offset: int) -> None:
    """Move one of the shop's own activations ``offset`` places earlier (-) or later (+) at its point."""
    moved = get_activation(session, shop_id=shop_id, activation_id=activation_id)
    point = session.get(Plugin, moved.plugin_id).point  # type: ignore[union-attr]  # FK
    at_point = list(
        session.scalars(
            sa.select(ShopPluginActivation)
            .join(Plugin, Plugin.id == ShopPluginActivation.plugin_id)
            .where(ShopPluginActivation.shop_id == shop_id, Plugin.point == point)
            .order_by(ShopPluginActivation.position, ShopPluginActivation.created_at, ShopPluginActivation.id)
        )
    )
    index = at_point.index(moved)
    target = max(0, min(len(at_point) - 1, index + offset))
    at_point.insert(target, at_point.pop(index))
    for position, activation in enumerate(at_point):
        if activation.position != position:
            update_activation(session, shop_id=shop_id, activation_id=activation.id, changes={"position": position})


def app_invocations_stmt(app_id: str, *, point: str | None = None, outcome: str | None = None) -> sa.Select[Any]:
    """Invocations of the app's plugins in every shop (for its developer)."""
    stmt = sa.select(PluginInvocation).where(PluginInvocation.app_id == app_id)
    if point:
        stmt = stmt.where(PluginInvocation.point == point)
    if outcome:
        stmt = stmt.where(PluginInvocation.outcome == outcome)
    return stmt


def get_app_invocation(session: DbSession, *, app_id: str, invocation_id: str) -> PluginInvocation:
    invocation = session.get(PluginInvocation, invocation_id)
    if invocation is None or invocation.app_id != app_id:
        raise InvocationNotFound(f"Your app has no plugin invocation {invocation_id}.")
    return invocation


@dataclass(frozen=True, slots=True)
class AppPluginHealth:
    plugin: Plugin
    version_number: int
    shops: int  # shops where it ran in the window
    health: Health


def app_plugin_health(session: DbSession, *, app_id: str, now: dt.datetime) -> list[AppPluginHealth]:
    """Each stored module of the app's versions (newest version first) with its last day's calls in all shops."""
    since = now - HEALTH_WINDOW
    health = _health_by_plugin(session, PluginInvocation.app_id == app_id, since=since)
    shops = dict(
        session.execute(
            sa.select(PluginInvocation.plugin_id, sa.func.count(sa.distinct(PluginInvocation.shop_id)))
            .where(PluginInvocation.app_id == app_id, PluginInvocation.created_at > since)
            .group_by(PluginInvocation.plugin_id)
        ).all()
    )
    rows = session.execute(
        sa.select(Plugin, AppVersion.number)
        .join(AppVersion, AppVersion.id == Plugin.app_version_id)
        .where(AppVersion.app_id == app_id)
        .order_by(AppVersion.number.desc(), Plugin.module_path)
    )
    return [
        AppPluginHealth(plugin, number, int(shops.get(plugin.id, 0)), health.get(plugin.id, Health()))
        for plugin, number in rows
    ]
