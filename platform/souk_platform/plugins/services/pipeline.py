"""Invocation: the plugins that run at a point in running order, and the pipeline runner with the point's
policy, limits and budget; compiled code for a stored module that lacks it."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
import sqlalchemy as sa
import structlog
from flask import Flask
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction, UOWTransaction, scoped_session

from souk_platform.apps.models import Installation, PluginActivation
from souk_platform.core.ids import new_id
from souk_platform.db import DbSession
from souk_platform.extensions.services import EXTENSION_POINTS, ExtensionPoint, FailurePolicy, PluginOutput
from souk_platform.jobs.runner import enqueue_after_commit
from souk_platform.observability import metrics_of
from souk_platform.plugins.invocation_log import BUDGET_EXHAUSTED, NOT_COMPILED, note_failure, record
from souk_platform.plugins.models import Plugin, ShopPluginActivation
from souk_platform.plugins.runtime import runtime_for
from souk_platform.plugins.services.activations import _app_activations
from souk_sandbox import InvalidModule, Limits, ModuleNotCompiled, artifact_key, compile_checked

log = structlog.get_logger("souk.plugins")

PIPELINE_BUDGET_MS = 2000  # per run of a point; app.config SOUK_PLUGIN_BUDGET_MS overrides it


@dataclass(frozen=True, slots=True)
class ActivePlugin:
    """One plugin to run at a point, from either kind of activation (``app_id`` set for an app's)."""

    activation_id: str
    plugin: Plugin
    config: dict[str, Any]
    on_failure: FailurePolicy
    app_id: str | None = None


def active_plugins(session: DbSession, *, shop_id: str, point: str) -> list[ActivePlugin]:
    """The shop's enabled plugins at ``point`` in running order (own by position, then installed apps').

    Read for every point at once and kept for the rest of the transaction (a checkout runs four points,
    a payment three): two queries per transaction, not two per point. A flush or bulk statement that
    touches activations, plugins or installations in the transaction drops what was kept
    (``install_session_hooks``); another transaction's changes show from this session's next transaction.
    """
    own_session = session() if isinstance(session, scoped_session) else session
    kept: _KeptActivations | None = own_session.info.get(_KEPT)
    transaction = own_session.get_transaction()
    if kept is None or transaction is None or kept.transaction is not transaction or not _hooks_installed():
        kept = _KeptActivations(None, {})
    by_point = kept.by_shop.get(shop_id)
    if by_point is None:
        by_point = _read_active(session, shop_id)
        if kept.transaction is None:  # begun by the read, if not before
            kept = own_session.info[_KEPT] = _KeptActivations(own_session.get_transaction(), {})
        kept.by_shop[shop_id] = by_point
    return list(by_point.get(point, ()))


def _read_active(session: DbSession, shop_id: str) -> dict[str, list[ActivePlugin]]:
    """The shop's enabled plugins at every point, each point's in running order."""
    own = session.execute(
        sa.select(ShopPluginActivation, Plugin)
        .join(Plugin, Plugin.id == ShopPluginActivation.plugin_id)
        .where(ShopPluginActivation.shop_id == shop_id, ShopPluginActivation.enabled.is_(True))
        .order_by(ShopPluginActivation.position, ShopPluginActivation.created_at, ShopPluginActivation.id)
    ).all()
    by_point: dict[str, list[ActivePlugin]] = {}
    for a, p in own:
        spec = EXTENSION_POINTS.get(p.point)
        if spec is None:  # a point no longer in the table runs nothing
            continue
        policy = FailurePolicy(a.on_failure) if a.on_failure else spec.on_failure
        by_point.setdefault(p.point, []).append(ActivePlugin(a.id, p, dict(a.config), policy))
    for activation, plugin in _app_activations(session, shop_id=shop_id):
        if not activation.enabled or activation.point not in EXTENSION_POINTS:
            continue
        if plugin is None:
            log.warning(
                "app plugin has no stored module; skipped", activation_id=activation.id, module=activation.module
            )
            continue
        default = EXTENSION_POINTS[activation.point].on_failure
        by_point.setdefault(activation.point, []).append(
            ActivePlugin(activation.id, plugin, dict(activation.config), default, activation.app_id)
        )
    return by_point


# --- what active_plugins keeps for the rest of a transaction -----------------------------------------

_KEPT = "souk.active_plugins"


@dataclass(slots=True)
class _KeptActivations:
    transaction: SessionTransaction | None
    by_shop: dict[str, dict[str, list[ActivePlugin]]]


# Rows whose change can change which plugins run where.
_WATCHED = (ShopPluginActivation, PluginActivation, Installation, Plugin)


def _forget_after_flush(session: Session, _flush_context: UOWTransaction) -> None:
    if _KEPT in session.info and any(
        isinstance(row, _WATCHED) for rows in (session.new, session.dirty, session.deleted) for row in rows
    ):
        del session.info[_KEPT]


def _forget_on_bulk_statement(state: ORMExecuteState) -> None:
    mapper = state.bind_mapper
    if (state.is_update or state.is_delete) and mapper is not None and issubclass(mapper.class_, _WATCHED):
        state.session.info.pop(_KEPT, None)


def _forget_on_rollback(session: Session, _previous: SessionTransaction) -> None:
    # A SAVEPOINT rolling back may take back activations read after they were flushed.
    session.info.pop(_KEPT, None)


def _hooks_installed() -> bool:
    return event.contains(Session, "do_orm_execute", _forget_on_bulk_statement)


def install_session_hooks() -> None:
    """Let ``active_plugins`` keep what it read for the transaction (once per process; idempotent)."""
    if not _hooks_installed():
        event.listen(Session, "after_flush", _forget_after_flush)
        event.listen(Session, "after_soft_rollback", _forget_on_rollback)
        event.listen(Session, "do_orm_execute", _forget_on_bulk_statement)


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
    """Compact UTF-8 JSON, dates as ``isoformat()``: orjson (a 200-line order in 0.05 ms, not 0.6 ms), or the
    stdlib for what orjson refuses (an integer beyond 64 bits)."""
    try:
        return orjson.dumps(document, option=orjson.OPT_NON_STR_KEYS, default=_json_default)
    except orjson.JSONEncodeError:
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
    No transaction is open while the module compiles (seconds of CPU): on SQLite an open one would hold
    the write lock and every request would wait behind it. The code is written in a second, short one
    that checks again, so two runs at once store it once.
    """
    key = artifact_key()
    row = session.execute(
        sa.select(Plugin.module, Plugin.compiled_key, Plugin.compiled.is_not(None)).where(Plugin.id == plugin_id)
    ).one_or_none()
    session.rollback()  # ends the read before the long compile
    if row is None or (row.compiled_key == key and row[2]):
        return False
    try:
        compiled = compile_checked(row.module)
    except InvalidModule as error:
        log.warning("stored plugin module does not compile", plugin_id=plugin_id, code=error.code)
        return False
    plugin = session.get(Plugin, plugin_id, with_for_update=True)
    if plugin is None or (plugin.compiled is not None and plugin.compiled_key == key):
        return False
    plugin.compiled, plugin.compiled_key = compiled.artifact, compiled.artifact_key
    session.flush()
    return True
