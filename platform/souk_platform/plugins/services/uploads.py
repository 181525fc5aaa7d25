"""A shop's own plugin uploads: the module checks at upload (ABI v1, bounds, config schema) and the
plugins a shop may see."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any

import jsonschema
import sqlalchemy as sa

from souk_platform.apps.models import Installation
from souk_platform.db import DbSession
from souk_platform.events.services import emit
from souk_platform.extensions.services import EXTENSION_POINTS
from souk_platform.plugins.errors import InvalidPlugin, InvalidPluginModule, PluginNotFound
from souk_platform.plugins.models import Plugin
from souk_sandbox import CompiledModule, InvalidModule, compile_checked

MAX_CONFIG_BYTES = 64 * 1024


def decode_module(module_base64: str) -> bytes:
    """Strict base64 → bytes, or a 422 naming the field."""
    try:
        return base64.b64decode(module_base64, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidPlugin(
            "module_base64 is not valid base64 (standard alphabet, with padding).",
            errors={"module_base64": ["Not valid base64."]},
        ) from None


def _json_size(document: Any) -> int:
    return len(json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode())


def _check_config_schema(config_schema: Mapping[str, Any]) -> None:
    if _json_size(config_schema) > MAX_CONFIG_BYTES:
        raise InvalidPlugin("config_schema is larger than 64 KiB.", errors={"config_schema": ["At most 64 KiB."]})
    try:
        jsonschema.Draft202012Validator.check_schema(config_schema)
    except jsonschema.SchemaError as error:
        raise InvalidPlugin(
            f"config_schema is not a valid JSON Schema (draft 2020-12): {error.message}",
            errors={"config_schema": [error.message]},
        ) from None


def upload_plugin(
    session: DbSession,
    *,
    shop_id: str,
    name: str,
    point: str,
    module: bytes,
    config_schema: Mapping[str, Any] | None = None,
) -> Plugin:
    """Validate ``module`` against ABI v1 and store it as the shop's own plugin for ``point``.

    Raises (storing nothing) ``InvalidPlugin`` for an unknown point or a bad config schema and
    ``InvalidPluginModule`` (with ``module_error`` and ``details``, e.g. the import names) for the module.
    """
    if point not in EXTENSION_POINTS:
        raise InvalidPlugin(
            f"Unknown extension point {point!r}; one of: {', '.join(EXTENSION_POINTS)}.",
            errors={"point": [f"Must be one of: {', '.join(EXTENSION_POINTS)}."]},
        )
    if config_schema is not None:
        _check_config_schema(config_schema)
    compiled = _validated(module)
    info = compiled.info
    plugin = Plugin(
        shop_id=shop_id,
        name=name,
        point=point,
        sha256=info.sha256,
        size_bytes=info.size_bytes,
        module=bytes(module),
        compiled=compiled.artifact,
        compiled_key=compiled.artifact_key,
        config_schema=dict(config_schema) if config_schema is not None else None,
    )
    session.add(plugin)
    session.flush()
    emit(
        session,
        shop_id=shop_id,
        type="plugin.uploaded",
        subject_type="plugin",
        subject_id=plugin.id,
        payload={"id": plugin.id, "name": name, "point": point, "sha256": info.sha256, "version": 1},
    )
    return plugin


def _validated(module: bytes) -> CompiledModule:
    """The sandbox's upload checks (ABI v1, no imports, ≤ 256 KiB, compiles within the sandbox's CPU and
    memory bounds) and the compiled code to store, or a 422 naming what is wrong."""
    try:
        return compile_checked(module)
    except InvalidModule as error:
        raise InvalidPluginModule(
            error.message,
            errors={"module_base64": [error.message, *error.details]},
            module_error=error.code,
            details=list(error.details),
        ) from None


def plugins_stmt(shop_id: str) -> sa.Select[Any]:
    return sa.select(Plugin).where(Plugin.shop_id == shop_id)


def get_plugin(session: DbSession, *, shop_id: str, plugin_id: str) -> Plugin:
    """A plugin the shop may see: its own upload, or a module of an app version installed in the shop."""
    plugin = session.get(Plugin, plugin_id)
    if plugin is not None and plugin.shop_id == shop_id:
        return plugin
    if plugin is not None and plugin.shop_id is None:
        installed = session.scalar(
            sa.select(Installation.id).where(
                Installation.shop_id == shop_id, Installation.app_version_id == plugin.app_version_id
            )
        )
        if installed is not None:
            return plugin
    raise PluginNotFound(f"There is no plugin {plugin_id} in this shop.")
