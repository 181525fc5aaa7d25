"""Plugin rules: upload, activation, invocation (with the point's policy, limits and budget), the
invocation log, health and ``plugin.failing``.

Module bytes of an installed app's plugin: the ``plugins`` row with ``app_version_id`` = the
installation's app version and ``module_path`` = the ``PluginActivation.module``. Order at a point:
the shop's own activations by ``position`` (then age), then installed apps' activations by age.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime as dt
import hashlib
import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import jsonschema
import sqlalchemy as sa
import structlog
from flask import Flask

from souk_platform.apps.models import Installation
from souk_platform.apps.services import enabled_plugins
from souk_platform.core.versions import check_version
from souk_platform.db import DbSession
from souk_platform.events.models import OutboxEvent
from souk_platform.events.services import emit
from souk_platform.extensions.services import EXTENSION_POINTS, ExtensionPoint, FailurePolicy, PluginOutput
from souk_platform.plugins.errors import (
    ActivationNotFound,
    AlreadyActivated,
    InvalidPlugin,
    InvalidPluginConfig,
    InvalidPluginModule,
    InvocationNotFound,
    PluginNotFound,
)
from souk_platform.plugins.models import Plugin, PluginInvocation, ShopPluginActivation
from souk_platform.plugins.runtime import runtime_for
from souk_sandbox import InvalidModule, Limits, validate

log = structlog.get_logger("souk.plugins")

MAX_CONFIG_BYTES = 64 * 1024
PIPELINE_BUDGET_MS = 2000  # per run of a point; app.config SOUK_PLUGIN_BUDGET_MS overrides it
INPUT_RETENTION = dt.timedelta(days=7)  # full inputs kept this long for replay, then purged
LOG_RETENTION = dt.timedelta(days=30)  # invocation rows (outcome, cost) kept this long
FAILING_WINDOW = dt.timedelta(minutes=10)
FAILING_THRESHOLD = 5  # failures within FAILING_WINDOW that emit plugin.failing (once per window)
BUDGET_EXHAUSTED = "budget_exhausted"  # outcome of a plugin skipped because the pipeline budget was spent


# --- upload ---------------------------------------------------------------------------------------


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
    try:
        info = validate(module)
    except InvalidModule as error:
        raise InvalidPluginModule(
            error.message,
            errors={"module_base64": [error.message, *error.details]},
            module_error=error.code,
            details=list(error.details),
        ) from None
    plugin = Plugin(
        shop_id=shop_id,
        name=name,
        point=point,
        sha256=info.sha256,
        size_bytes=info.size_bytes,
        module=bytes(module),
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


# --- activations ---------------------------------------------------------------------------------


def _check_config(plugin: Plugin, config: Mapping[str, Any]) -> None:
    if _json_size(config) > MAX_CONFIG_BYTES:
        raise InvalidPluginConfig("The configuration is larger than 64 KiB.", errors={"config": ["At most 64 KiB."]})
    if plugin.config_schema is None:
        return
    problems = sorted(
        jsonschema.Draft202012Validator(plugin.config_schema).iter_errors(config), key=lambda e: list(e.path)
    )
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


# --- invocation ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ActivePlugin:
    """One plugin to run at a point, from either kind of activation."""

    activation_id: str
    plugin: Plugin
    config: dict[str, Any]
    on_failure: FailurePolicy


def active_plugins(session: DbSession, *, shop_id: str, point: str) -> list[ActivePlugin]:
    """The shop's enabled plugins at ``point`` in running order (own by position, then installed apps')."""
    default = EXTENSION_POINTS[point].on_failure
    own = session.execute(
        sa.select(ShopPluginActivation, Plugin)
        .join(Plugin, Plugin.id == ShopPluginActivation.plugin_id)
        .where(
            ShopPluginActivation.shop_id == shop_id,
            ShopPluginActivation.enabled.is_(True),
            Plugin.point == point,
        )
        .order_by(ShopPluginActivation.position, ShopPluginActivation.created_at, ShopPluginActivation.id)
    ).all()
    active = [
        ActivePlugin(a.id, p, dict(a.config), FailurePolicy(a.on_failure) if a.on_failure else default) for a, p in own
    ]
    for activation in enabled_plugins(session, shop_id=shop_id, point=point):
        installation = session.get(Installation, activation.installation_id)
        plugin = (
            session.scalar(
                sa.select(Plugin).where(
                    Plugin.app_version_id == installation.app_version_id,
                    Plugin.module_path == activation.module,
                    Plugin.point == point,
                )
            )
            if installation is not None
            else None
        )
        if plugin is None:
            log.warning(
                "app plugin has no stored module; skipped", activation_id=activation.id, module=activation.module
            )
            continue
        active.append(ActivePlugin(activation.id, plugin, dict(activation.config), default))
    return active


def _line_count(payload: Mapping[str, Any]) -> int:
    for holder in (payload, payload.get("cart"), payload.get("order")):
        if isinstance(holder, Mapping) and isinstance(holder.get("lines"), list):
            return len(holder["lines"])
    return 0


def _json_default(value: Any) -> Any:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def invoke_plugins(
    session: DbSession,
    *,
    app: Flask,
    shop_id: str,
    point: ExtensionPoint,
    payload: Mapping[str, Any],
    active: Sequence[ActivePlugin],
    now: dt.datetime,
) -> list[PluginOutput]:
    """Run ``active`` in order on ``payload`` (+ each one's ``config``); log every call; return the good outputs.

    A failure follows the activation's policy: CONTINUE skips the plugin; ABORT stops the pipeline
    and adds a deny. Once the pipeline budget is spent the remaining plugins are skipped (and logged).
    """
    runtime = runtime_for(app)
    budget_ms = int(app.config.get("SOUK_PLUGIN_BUDGET_MS", PIPELINE_BUDGET_MS))
    limits = Limits.for_lines(_line_count(payload))
    started = time.monotonic()
    outputs: list[PluginOutput] = []
    for entry in active:
        plugin = entry.plugin
        document = {**payload, "config": entry.config}
        input_json = json.dumps(document, ensure_ascii=False, separators=(",", ":"), default=_json_default).encode()
        remaining_ms = budget_ms - (time.monotonic() - started) * 1000
        if remaining_ms < 1:
            log.warning("plugin pipeline budget spent; plugin skipped", point=point.name, plugin_id=plugin.id)
            _record(
                session,
                shop_id,
                entry,
                point,
                input_json,
                BUDGET_EXHAUSTED,
                "The pipeline's 2 s budget was spent.",
                now=now,
            )
            continue
        call_limits = dataclasses.replace(limits, deadline_ms=max(1, min(limits.deadline_ms, int(remaining_ms))))
        result = runtime.load(plugin).invoke_json(
            input_json, limits=call_limits, output_validator=point.output_problems
        )
        _record(
            session,
            shop_id,
            entry,
            point,
            input_json,
            result.outcome.value,
            result.message,
            now=now,
            output=result.output,
            fuel=result.fuel_consumed,
            elapsed_us=result.elapsed_us,
        )
        if result.ok:
            outputs.append(PluginOutput(plugin.id, plugin.name, result.output))
            continue
        log.warning(
            "plugin failed", point=point.name, plugin_id=plugin.id, outcome=result.outcome.value, message=result.message
        )
        _note_failure(session, shop_id=shop_id, plugin=plugin, now=now)
        if entry.on_failure is FailurePolicy.ABORT:
            reason = f"the plugin failed ({result.outcome.value}) and is set to fail closed"
            outputs.append(PluginOutput(plugin.id, plugin.name, {"allow": False, "reason": reason}))
            break
    return outputs


def _record(
    session: DbSession,
    shop_id: str,
    entry: ActivePlugin,
    point: ExtensionPoint,
    input_json: bytes,
    outcome: str,
    message: str,
    *,
    now: dt.datetime,
    output: Any = None,
    fuel: int = 0,
    elapsed_us: int = 0,
) -> None:
    session.add(
        PluginInvocation(
            shop_id=shop_id,
            plugin_id=entry.plugin.id,
            activation_id=entry.activation_id,
            point=point.name,
            outcome=outcome,
            message=message[:500],
            fuel=fuel,
            elapsed_us=elapsed_us,
            input_sha256=hashlib.sha256(input_json).hexdigest(),
            input=input_json.decode(),
            output=output,
            module_sha256=entry.plugin.sha256,
            created_at=now,
        )
    )


def _failure_filter() -> sa.ColumnElement[bool]:
    return PluginInvocation.outcome.not_in(["ok", BUDGET_EXHAUSTED])


def _note_failure(session: DbSession, *, shop_id: str, plugin: Plugin, now: dt.datetime) -> None:
    """Emit ``plugin.failing`` when failures in the last window reach the threshold, once per window."""
    session.flush()
    since = now - FAILING_WINDOW
    failures = session.scalar(
        sa.select(sa.func.count())
        .select_from(PluginInvocation)
        .where(
            PluginInvocation.shop_id == shop_id,
            PluginInvocation.plugin_id == plugin.id,
            PluginInvocation.created_at > since,
            _failure_filter(),
        )
    )
    if (failures or 0) < FAILING_THRESHOLD:
        return
    already = session.scalar(
        sa.select(OutboxEvent.id).where(
            OutboxEvent.shop_id == shop_id,
            OutboxEvent.type == "plugin.failing",
            OutboxEvent.subject_id == plugin.id,
            OutboxEvent.created_at > since,
        )
    )
    if already is not None:
        return
    event = emit(
        session,
        shop_id=shop_id,
        type="plugin.failing",
        subject_type="plugin",
        subject_id=plugin.id,
        payload={
            "plugin_id": plugin.id,
            "name": plugin.name,
            "point": plugin.point,
            "app_version_id": plugin.app_version_id,
            "failures": failures,
            "window_minutes": int(FAILING_WINDOW.total_seconds() // 60),
            "version": 1,
        },
    )
    event.created_at = now  # stamped with the app clock, the one the once-per-window check reads


# --- log, export, health, purge ---------------------------------------------------------------------


def invocations_stmt(
    shop_id: str, *, plugin_id: str | None = None, point: str | None = None, outcome: str | None = None
) -> sa.Select[Any]:
    stmt = sa.select(PluginInvocation).where(PluginInvocation.shop_id == shop_id)
    if plugin_id:
        stmt = stmt.where(PluginInvocation.plugin_id == plugin_id)
    if point:
        stmt = stmt.where(PluginInvocation.point == point)
    if outcome:
        stmt = stmt.where(PluginInvocation.outcome == outcome)
    return stmt


def get_invocation(session: DbSession, *, shop_id: str, invocation_id: str) -> PluginInvocation:
    invocation = session.get(PluginInvocation, invocation_id)
    if invocation is None or invocation.shop_id != shop_id:
        raise InvocationNotFound(f"There is no plugin invocation {invocation_id} in this shop.")
    return invocation


def export_invocation(session: DbSession, *, shop_id: str, invocation_id: str) -> dict[str, Any]:
    """The replay document for ``souk-plugin replay``: ``{point, input, output, outcome, module_sha256}``."""
    invocation = get_invocation(session, shop_id=shop_id, invocation_id=invocation_id)
    if invocation.input is None:
        raise InvalidPlugin(
            f"The input of invocation {invocation_id} was purged after the {INPUT_RETENTION.days}-day "
            "retention window; it can no longer be replayed."
        )
    return {
        "id": invocation.id,
        "point": invocation.point,
        "plugin_id": invocation.plugin_id,
        "input": json.loads(invocation.input),
        "input_sha256": invocation.input_sha256,
        "output": invocation.output,
        "outcome": invocation.outcome,
        "message": invocation.message,
        "module_sha256": invocation.module_sha256,
        "fuel": invocation.fuel,
        "elapsed_us": invocation.elapsed_us,
        "created_at": invocation.created_at.isoformat(),
    }


def plugin_health(
    session: DbSession, *, shop_id: str, plugin_id: str, now: dt.datetime, window_minutes: int = 60
) -> dict[str, Any]:
    """Calls, failures, failure rate and counts by outcome for (shop, plugin) over the last ``window_minutes``."""
    plugin = get_plugin(session, shop_id=shop_id, plugin_id=plugin_id)
    rows = session.execute(
        sa.select(PluginInvocation.outcome, sa.func.count())
        .where(
            PluginInvocation.shop_id == shop_id,
            PluginInvocation.plugin_id == plugin.id,
            PluginInvocation.created_at > now - dt.timedelta(minutes=window_minutes),
        )
        .group_by(PluginInvocation.outcome)
    ).all()
    by_outcome = {outcome: int(count) for outcome, count in rows}
    calls = sum(by_outcome.values())
    failures = sum(count for outcome, count in by_outcome.items() if outcome not in ("ok", BUDGET_EXHAUSTED))
    return {
        "plugin_id": plugin.id,
        "window_minutes": window_minutes,
        "calls": calls,
        "failures": failures,
        "failure_rate": round(failures / calls, 4) if calls else 0.0,
        "by_outcome": by_outcome,
        "failing": failures >= FAILING_THRESHOLD,
    }


def purge_invocations(session: DbSession, *, now: dt.datetime) -> tuple[int, int]:
    """Drop full inputs past the input retention and rows past the log retention; (inputs, rows) purged."""
    inputs = session.execute(
        sa.update(PluginInvocation)
        .where(PluginInvocation.created_at < now - INPUT_RETENTION, PluginInvocation.input.is_not(None))
        .values(input=None)
    ).rowcount  # type: ignore[attr-defined]
    rows = session.execute(
        sa.delete(PluginInvocation).where(PluginInvocation.created_at < now - LOG_RETENTION)
    ).rowcount  # type: ignore[attr-defined]
    return int(inputs or 0), int(rows or 0)
