"""Plugin rules: a shop's uploads and an app version's modules, activation, invocation (with the point's
policy, limits and budget), the invocation log, health and ``plugin.failing``, and what the merchant's
and the developer's pages show.

Module bytes of an installed app's plugin: the ``plugins`` row with ``app_version_id`` = the
installation's app version and ``module_path`` = the ``PluginActivation.module`` (uploaded by the app
with ``upload_app_module``). Order at a point: the shop's own activations by ``position`` (then age),
then installed apps' activations by age. Invocation rows outlive a rolled-back caller
(``invocation_log``).
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

from souk_platform.apps.models import App, AppVersion, Installation, PluginActivation
from souk_platform.core.ids import new_id
from souk_platform.core.versions import check_version
from souk_platform.db import DbSession
from souk_platform.events.services import emit
from souk_platform.extensions.services import EXTENSION_POINTS, ExtensionPoint, FailurePolicy, PluginOutput
from souk_platform.jobs.runner import enqueue_after_commit
from souk_platform.observability import metrics_of
from souk_platform.plugins.errors import (
    ActivationNotFound,
    AlreadyActivated,
    AppVersionNotFound,
    InvalidPlugin,
    InvalidPluginConfig,
    InvalidPluginModule,
    InvocationNotFound,
    ModuleAlreadyStored,
    ModuleNotDeclared,
    PluginNotFound,
)
from souk_platform.plugins.invocation_log import (
    BUDGET_EXHAUSTED,
    FAILING_THRESHOLD,
    NOT_COMPILED,
    failure_filter,
    is_failure,
    note_failure,
    record,
)
from souk_platform.plugins.models import Plugin, PluginInvocation, ShopPluginActivation
from souk_platform.plugins.runtime import runtime_for
from souk_sandbox import (
    CompiledModule,
    InvalidModule,
    Limits,
    ModuleNotCompiled,
    artifact_key,
    compile_checked,
)

log = structlog.get_logger("souk.plugins")

MAX_CONFIG_BYTES = 64 * 1024
PIPELINE_BUDGET_MS = 2000  # per run of a point; app.config SOUK_PLUGIN_BUDGET_MS overrides it
INPUT_RETENTION = dt.timedelta(days=7)  # full inputs kept this long for replay, then purged
LOG_RETENTION = dt.timedelta(days=30)  # invocation rows (outcome, cost) kept this long


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


# --- an app version's modules ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DeclaredModule:
    """A module path the version's manifest declares, the points it runs at, and its stored row if any."""

    path: str
    points: list[str]
    config_schema: dict[str, Any] | None
    plugin: Plugin | None


def app_versions_stmt(app_id: str) -> sa.Select[Any]:
    return sa.select(AppVersion).where(AppVersion.app_id == app_id)


def get_app_version(session: DbSession, *, app_id: str, version_id: str) -> AppVersion:
    """One of the app's versions; another app's version is ``AppVersionNotFound`` (never confirmed)."""
    version = session.scalar(sa.select(AppVersion).where(AppVersion.id == version_id, AppVersion.app_id == app_id))
    if version is None:
        raise AppVersionNotFound(f"Your app has no version {version_id}.")
    return version


def declared_modules(session: DbSession, versions: Sequence[AppVersion]) -> dict[str, list[DeclaredModule]]:
    """Version id → the modules its manifest declares (in manifest order), with what is stored for each."""
    stored: dict[tuple[str, str], Plugin] = {}
    if versions:
        rows = session.scalars(sa.select(Plugin).where(Plugin.app_version_id.in_([v.id for v in versions])))
        stored = {(row.app_version_id or "", row.module_path or ""): row for row in rows}
    out: dict[str, list[DeclaredModule]] = {}
    for version in versions:
        by_path: dict[str, DeclaredModule] = {}
        for entry in version.manifest.get("plugins", []):
            known = by_path.get(entry["module"])
            if known is not None:
                known.points.append(entry["point"])
                continue
            by_path[entry["module"]] = DeclaredModule(
                entry["module"],
                [entry["point"]],
                entry.get("config_schema") or None,
                stored.get((version.id, entry["module"])),
            )
        out[version.id] = list(by_path.values())
    return out


def upload_app_module(
    session: DbSession, *, app_id: str, version_id: str, module_path: str, module: bytes
) -> tuple[Plugin, bool]:
    """Store the module the version's manifest declares at ``module_path``; (row, whether it is new).

    The same bytes again return the stored row (idempotent). Raises ``AppVersionNotFound`` (404),
    ``ModuleNotDeclared`` (422), ``InvalidPluginModule`` (422, as for a shop upload) and
    ``ModuleAlreadyStored`` (409) for other bytes at a stored path: versions are immutable.
    """
    version = get_app_version(session, app_id=app_id, version_id=version_id)
    declared = {entry.path: entry for entry in declared_modules(session, [version])[version.id]}
    target = declared.get(module_path)
    if target is None:
        listed = ", ".join(declared) or "none"
        raise ModuleNotDeclared(
            f"Version {version.number} does not declare the module {module_path!r} (declared: {listed}).",
            errors={"module": [f"Not declared in this version's manifest; declared: {listed}."]},
        )
    sha256 = hashlib.sha256(module).hexdigest()
    if target.plugin is not None:
        return _same_module(target.plugin, sha256, version), False
    compiled = _validated(module)
    info = compiled.info
    app = session.get(App, app_id)
    plugin = Plugin(
        shop_id=None,
        app_version_id=version.id,
        module_path=module_path,
        name=f"{app.name if app else app_id} · {module_path}"[:100],
        point=target.points[0],
        sha256=info.sha256,
        size_bytes=info.size_bytes,
        module=bytes(module),
        compiled=compiled.artifact,
        compiled_key=compiled.artifact_key,
        config_schema=target.config_schema,
    )
    try:
        with session.begin_nested():
            session.add(plugin)
    except sa.exc.IntegrityError:  # a concurrent upload of the same path won
        stored = session.scalar(
            sa.select(Plugin).where(Plugin.app_version_id == version.id, Plugin.module_path == module_path)
        )
        if stored is None:
            raise
        return _same_module(stored, sha256, version), False
    return plugin, True


def _same_module(stored: Plugin, sha256: str, version: AppVersion) -> Plugin:
    if stored.sha256 != sha256:
        raise ModuleAlreadyStored(
            f"Version {version.number} already has a different module at {stored.module_path!r} "
            f"(sha256 {stored.sha256}). Versions are immutable: publish a new version to change it."
        )
    return stored


# --- activations ---------------------------------------------------------------------------------


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


# --- invocation ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ActivePlugin:
    """One plugin to run at a point, from either kind of activation (``app_id`` set for an app's)."""

    activation_id: str
    plugin: Plugin
    config: dict[str, Any]
    on_failure: FailurePolicy
    app_id: str | None = None


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
    for activation, plugin in _app_activations(session, shop_id=shop_id, point=point):
        if plugin is None:
            log.warning(
                "app plugin has no stored module; skipped", activation_id=activation.id, module=activation.module
            )
            continue
        active.append(ActivePlugin(activation.id, plugin, dict(activation.config), default, activation.app_id))
    return active


def shops_with_plugins_at(session: DbSession, *, point: str) -> set[str]:
    """Ids of the shops with an enabled plugin at ``point`` (their own, or an active app installation's)."""
    own = (
        sa.select(ShopPluginActivation.shop_id)
        .join(Plugin, Plugin.id == ShopPluginActivation.plugin_id)
        .where(ShopPluginActivation.enabled.is_(True), Plugin.point == point)
    )
    apps = (
        sa.select(PluginActivation.shop_id)
        .join(Installation, Installation.id == PluginActivation.installation_id)
        .where(PluginActivation.point == point, PluginActivation.enabled.is_(True), Installation.status == "active")
    )
    return set(session.scalars(sa.union(own, apps)))


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


def _line_count(payload: Mapping[str, Any]) -> int:
    for holder in (payload, payload.get("cart"), payload.get("order")):
        if isinstance(holder, Mapping) and isinstance(holder.get("lines"), list):
            return len(holder["lines"])
    return 0


def _json_default(value: Any) -> Any:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _encode(document: Any) -> bytes:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"), default=_json_default).encode()


def _with_config(encoded_payload: bytes, config_json: bytes) -> bytes:
    """``{**payload, "config": config}`` as compact JSON, from the payload encoded once per point."""
    if encoded_payload == b"{}":
        return b'{"config":' + config_json + b"}"
    return encoded_payload[:-1] + b',"config":' + config_json + b"}"


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
    The log rows are written even if the caller's transaction rolls back (``invocation_log``).
    """
    runtime = runtime_for(app)
    budget_ms = int(app.config.get("SOUK_PLUGIN_BUDGET_MS", PIPELINE_BUDGET_MS))
    limits = Limits.for_lines(_line_count(payload))
    started = time.monotonic()
    encoded_payload = _encode(payload)
    outputs: list[PluginOutput] = []
    for entry in active:
        plugin = entry.plugin
        input_json = _with_config(encoded_payload, _encode(entry.config))
        remaining_ms = budget_ms - (time.monotonic() - started) * 1000
        if remaining_ms < 1:
            log.warning("plugin pipeline budget spent; plugin skipped", point=point.name, plugin_id=plugin.id)
            message = "The pipeline's 2 s budget was spent."
            _log_call(session, shop_id, entry, point, input_json, BUDGET_EXHAUSTED, message, now=now)
            metrics_of(app).plugin_invocations.labels(point.name, BUDGET_EXHAUSTED).inc()
            continue
        call_limits = dataclasses.replace(limits, deadline_ms=max(1, min(limits.deadline_ms, int(remaining_ms))))
        try:
            loaded = runtime.load(plugin)
        except ModuleNotCompiled:
            # Never compile on this path (seconds of CPU for a hostile module): fail this call per the
            # policy and let a bounded job store code for this server's wasmtime.
            log.warning("plugin module has no usable compiled code; compile queued", plugin_id=plugin.id)
            message = (
                f"The module has no compiled code for this server's wasmtime ({runtime.sandbox.artifact_key}); "
                "it is being compiled in the background."
            )
            _log_call(session, shop_id, entry, point, input_json, NOT_COMPILED, message, now=now)
            metrics_of(app).plugin_invocations.labels(point.name, NOT_COMPILED).inc()
            enqueue_after_commit(session, "souk_platform.plugins.tasks.compile_plugin", plugin.id)
            if entry.on_failure is FailurePolicy.ABORT:
                reason = "the plugin is not ready to run and is set to fail closed"
                outputs.append(PluginOutput(plugin.id, plugin.name, {"allow": False, "reason": reason}))
                break
            continue
        result = loaded.invoke_json(input_json, limits=call_limits, output_validator=point.output_problems)
        message = result.message
        if result.ok:
            warnings = point.contract.output_warnings(payload, result.output)
            if warnings:
                log.warning("plugin output warning", point=point.name, plugin_id=plugin.id, warnings=warnings)
                message = "warning: " + " ".join(warnings)
        _log_call(
            session,
            shop_id,
            entry,
            point,
            input_json,
            result.outcome.value,
            message,
            now=now,
            output=result.output,
            fuel=result.fuel_consumed,
            elapsed_us=result.elapsed_us,
        )
        metrics_of(app).plugin_invocations.labels(point.name, result.outcome.value).inc()
        if result.ok:
            outputs.append(PluginOutput(plugin.id, plugin.name, result.output))
            continue
        log.warning(
            "plugin failed", point=point.name, plugin_id=plugin.id, outcome=result.outcome.value, message=result.message
        )
        note_failure(session, shop_id=shop_id, plugin=plugin, now=now)
        if entry.on_failure is FailurePolicy.ABORT:
            reason = f"the plugin failed ({result.outcome.value}) and is set to fail closed"
            outputs.append(PluginOutput(plugin.id, plugin.name, {"allow": False, "reason": reason}))
            break
    return outputs


def _log_call(
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
    record(
        session,
        {
            "id": new_id("pli"),
            "shop_id": shop_id,
            "plugin_id": entry.plugin.id,
            "activation_id": entry.activation_id,
            "app_id": entry.app_id,
            "point": point.name,
            "outcome": outcome,
            "message": message[:500],
            "fuel": fuel,
            "elapsed_us": elapsed_us,
            "input_sha256": hashlib.sha256(input_json).hexdigest(),
            "input": input_json.decode(),
            "output": output,
            "module_sha256": entry.plugin.sha256,
            "created_at": now,
        },
    )


def compile_stored_module(session: DbSession, *, plugin_id: str) -> bool:
    """Store compiled code for this server's wasmtime on a plugin that lacks it; whether it compiled now.

    For rows uploaded before compiled code was stored, or after a wasmtime upgrade. The module was
    accepted at upload; one now over the compile bounds keeps no code and keeps failing per policy.
    """
    plugin = session.get(Plugin, plugin_id)
    if plugin is None or (plugin.compiled is not None and plugin.compiled_key == artifact_key()):
        return False
    try:
        compiled = compile_checked(plugin.module)
    except InvalidModule as error:
        log.warning("stored plugin module does not compile", plugin_id=plugin_id, code=error.code)
        return False
    plugin.compiled, plugin.compiled_key = compiled.artifact, compiled.artifact_key
    session.flush()
    return True


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
    return replay_document(get_invocation(session, shop_id=shop_id, invocation_id=invocation_id))


def replay_document(invocation: PluginInvocation) -> dict[str, Any]:
    """One invocation as ``souk-plugin replay`` reads it; 422 once its input was purged."""
    invocation_id = invocation.id
    if invocation.input is None:
        raise InvalidPlugin(
            f"The input of invocation {invocation_id} was purged after the {INPUT_RETENTION.days}-day "
            "retention window; it can no longer be replayed."
        )
    return {
        "id": invocation.id,
        "point": invocation.point,
        "plugin_id": invocation.plugin_id,
        "app_id": invocation.app_id,
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
    failures = sum(count for outcome, count in by_outcome.items() if is_failure(outcome))
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


# --- what the merchant's and the developer's pages show ------------------------------------------------

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
