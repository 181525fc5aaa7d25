"""The invocation log as a shop reads it: listing, the replay document, health over a window, and the
retention purge."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import sqlalchemy as sa

from souk_platform.db import DbSession
from souk_platform.plugins.errors import InvalidPlugin, InvocationNotFound
from souk_platform.plugins.invocation_log import FAILING_THRESHOLD, is_failure
from souk_platform.plugins.models import PluginInvocation
from souk_platform.plugins.services.uploads import get_plugin

INPUT_RETENTION = dt.timedelta(days=7)  # full inputs kept this long for replay, then purged

LOG_RETENTION = dt.timedelta(days=30)  # invocation rows (outcome, cost) kept this long


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
