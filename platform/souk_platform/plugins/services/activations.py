"""Activations: the shop's own (position, config, failure policy), checked against the plugin's config
schema and the point, and installed apps' activations with their modules."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jsonschema
import sqlalchemy as sa

from souk_platform.apps.models import Installation, PluginActivation
from souk_platform.core.versions import check_version
from souk_platform.db import DbSession
from souk_platform.events.services import emit
from souk_platform.extensions.services import EXTENSION_POINTS, FailurePolicy
from souk_platform.plugins.errors import ActivationNotFound, AlreadyActivated, InvalidPlugin, InvalidPluginConfig
from souk_platform.plugins.models import Plugin, ShopPluginActivation
from souk_platform.plugins.services.uploads import MAX_CONFIG_BYTES, _json_size, get_plugin


def _check_config(plugin: Plugin, config: Mapping[str, Any]) -> None:
    _check_config_against(plugin.config_schema, config)


def _check_config_against(config_schema: Mapping[str, Any] | None, config: Mapping[str, Any]) -> None:
    if _json_size(config) > MAX_CONFIG_BYTES:
        raise InvalidPluginConfig("The configuration is larger than 64 KiB.", errors={"config": ["At most 64 KiB."]})
    if not config_schema:
        return
    problems = sorted(jsonschema.Draft202012Validator(config_schema).iter_errors(config), key=lambda e: list(e.path))
    if problems:
        messages = [f"{'/'.join(str(p) for p in e.absolute_path) or '(root)'}: {e.message}" for e in problems[:20]]
        raise InvalidPluginConfig(
            "The configuration does not match the plugin's config schema: " + "; ".join(messages),
            errors={"config": messages},
        )


def _check_on_failure(plugin: Plugin, on_failure: str | None) -> None:
    if on_failure == FailurePolicy.ABORT.value and not EXTENSION_POINTS[plugin.point].failure_configurable:
        raise InvalidPlugin(
            f"Plugins at {plugin.point} always continue on failure; only allow/deny points such as "
            "order.validate may fail closed.",
            errors={"on_failure": ["Only order.validate plugins may use abort."]},
        )


def create_activation(
    session: DbSession,
    *,
    shop_id: str,
    plugin_id: str,
    position: int = 0,
    config: Mapping[str, Any] | None = None,
    enabled: bool = True,
    on_failure: str | None = None,
) -> ShopPluginActivation:
    """Activate one of the shop's own plugins at its point. 404 for another shop's plugin, 409 if active."""
    plugin = get_plugin(session, shop_id=shop_id, plugin_id=plugin_id)
    if plugin.shop_id != shop_id:
        raise InvalidPlugin(
            "An app's plugin is activated by installing the app.", errors={"plugin_id": ["Not the shop's own."]}
        )
    config = dict(config or {})
    _check_config(plugin, config)
    _check_on_failure(plugin, on_failure)
    existing = session.scalar(
        sa.select(ShopPluginActivation.id).where(
            ShopPluginActivation.shop_id == shop_id, ShopPluginActivation.plugin_id == plugin_id
        )
    )
    if existing is not None:
        raise AlreadyActivated(f"Plugin {plugin_id} is already activated ({existing}); change it with PATCH.")
    activation = ShopPluginActivation(
        shop_id=shop_id, plugin_id=plugin_id, position=position, config=config, enabled=enabled, on_failure=on_failure
    )
    session.add(activation)
    session.flush()
    _emit_activation(session, activation, plugin, "plugin.activated")
    return activation


def _emit_activation(session: DbSession, activation: ShopPluginActivation, plugin: Plugin, type: str) -> None:
    emit(
        session,
        shop_id=activation.shop_id,
        type=type,
        subject_type="plugin_activation",
        subject_id=activation.id,
        payload={
            "id": activation.id,
            "plugin_id": plugin.id,
            "point": plugin.point,
            "position": activation.position,
            "enabled": activation.enabled,
            "on_failure": activation.on_failure,
            "version": activation.version,
        },
    )


def activations_stmt(shop_id: str) -> sa.Select[Any]:
    return sa.select(ShopPluginActivation).where(ShopPluginActivation.shop_id == shop_id)


def get_activation(session: DbSession, *, shop_id: str, activation_id: str) -> ShopPluginActivation:
    activation = session.get(ShopPluginActivation, activation_id)
    if activation is None or activation.shop_id != shop_id:
        raise ActivationNotFound(f"There is no plugin activation {activation_id} in this shop.")
    return activation


def update_activation(
    session: DbSession,
    *,
    shop_id: str,
    activation_id: str,
    changes: Mapping[str, Any],
    expected_version: int | None = None,
) -> ShopPluginActivation:
    """Change ``enabled``, ``position``, ``config`` or ``on_failure`` (None: the point's default)."""
    activation = get_activation(session, shop_id=shop_id, activation_id=activation_id)
    check_version(activation.version, expected_version)
    plugin = session.get(Plugin, activation.plugin_id)
    assert plugin is not None  # FK
    if "config" in changes:
        _check_config(plugin, changes["config"])
    if "on_failure" in changes:
        _check_on_failure(plugin, changes["on_failure"])
    for name in ("enabled", "position", "config", "on_failure"):
        if name in changes:
            setattr(activation, name, changes[name])
    session.flush()
    _emit_activation(session, activation, plugin, "plugin_activation.updated")
    return activation


def _app_activations(
    session: DbSession, *, shop_id: str, point: str | None = None
) -> list[tuple[PluginActivation, Plugin | None]]:
    """Installed apps' enabled-or-not activations of the shop (at ``point``), oldest first, with their modules.

    The module is the ``plugins`` row of the installation's app version at the activation's path; a
    module declared at several points is one row, run at each.
    """
    stmt = (
        sa.select(PluginActivation, Plugin)
        .join(Installation, Installation.id == PluginActivation.installation_id)
        .outerjoin(
            Plugin,
            sa.and_(
                Plugin.app_version_id == Installation.app_version_id,
                Plugin.module_path == PluginActivation.module,
                Plugin.shop_id.is_(None),
            ),
        )
        .where(PluginActivation.shop_id == shop_id, Installation.status == "active")
        .order_by(PluginActivation.created_at, PluginActivation.id)
    )
    if point is not None:
        stmt = stmt.where(PluginActivation.point == point, PluginActivation.enabled.is_(True))
    return [(activation, plugin) for activation, plugin in session.execute(stmt)]
