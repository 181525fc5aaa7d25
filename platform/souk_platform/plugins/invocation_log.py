"""Writing the invocation log so that it outlives the caller's transaction.

A plugin call is recorded in the caller's session, so a successful unit of work commits its log rows
at no extra cost, and is also remembered in ``session.info``. When the unit of work rolls back (a
checkout denied by ``order.validate``, a later step raising), exactly those calls matter most, so
right after the rollback the remembered rows are written again in a short transaction of their own,
on the same session: the same connection, so on SQLite no second writer waits for the lock the
request held (it was released by the rollback), and the test suite's SAVEPOINT session sees them.
A SAVEPOINT rolling back puts its rows back into the enclosing transaction. Failure counts and
``plugin.failing`` are computed from the rows, so they survive with them; nothing else of the
rolled-back work is written.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
import structlog
from flask import Flask
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from souk_platform.db import DbSession, db
from souk_platform.events.models import OutboxEvent
from souk_platform.events.services import emit
from souk_platform.jobs.runner import install_session_hooks as install_job_hooks
from souk_platform.plugins.models import Plugin, PluginInvocation

log = structlog.get_logger("souk.plugins")

FAILING_WINDOW = dt.timedelta(minutes=10)
FAILING_THRESHOLD = 5  # failures within FAILING_WINDOW that emit plugin.failing (once per window)
BUDGET_EXHAUSTED = "budget_exhausted"  # outcome of a plugin skipped because the pipeline budget was spent
# A plugin skipped because this server has no compiled code for it yet (compiling is queued): not
# the plugin's fault, so it does not count toward ``plugin.failing``.
NOT_COMPILED = "not_compiled"
NOT_FAILURES = ("ok", BUDGET_EXHAUSTED, NOT_COMPILED)

_UNCOMMITTED = "souk.plugin_invocations"


@dataclass(slots=True)
class _Remembered:
    fields: dict[str, Any]  # the row's columns, id included, to build it again
    row: PluginInvocation


def record(session: DbSession, fields: dict[str, Any]) -> PluginInvocation:
    """Add one invocation row (``fields`` are its columns, with its id) that survives a rollback."""
    row = PluginInvocation(**fields)
    session.add(row)
    session.info.setdefault(_UNCOMMITTED, []).append(_Remembered(fields, row))
    return row


def is_failure(outcome: str) -> bool:
    return outcome not in NOT_FAILURES


def failure_filter() -> sa.ColumnElement[bool]:
    return PluginInvocation.outcome.not_in(NOT_FAILURES)


def note_failure(session: DbSession, *, shop_id: str, plugin: Plugin, now: dt.datetime) -> None:
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
            failure_filter(),
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
    emit(
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
        created_at=now,  # stamped with the app clock, the one the once-per-window check reads
    )


def _add_again(session: Session, remembered: list[_Remembered]) -> None:
    """Add fresh rows for ``remembered`` (no SQL yet)."""
    for entry in remembered:
        entry.row = PluginInvocation(**entry.fields)
        session.add(entry.row)


def _check_failures_again(session: Session, remembered: list[_Remembered]) -> None:
    """Redo the ``plugin.failing`` checks the failures among ``remembered`` feed."""
    failed: dict[tuple[str, str], dt.datetime] = {}
    for entry in remembered:
        if is_failure(entry.fields["outcome"]):
            key = (entry.fields["shop_id"], entry.fields["plugin_id"])
            failed[key] = max(entry.fields["created_at"], failed.get(key, entry.fields["created_at"]))
    for (shop_id, plugin_id), now in failed.items():
        plugin = session.get(Plugin, plugin_id)
        if plugin is not None:
            note_failure(session, shop_id=shop_id, plugin=plugin, now=now)


def _after_commit(session: Session) -> None:
    if session.get_nested_transaction() is None:  # the whole unit of work, not a SAVEPOINT, committed
        session.info.pop(_UNCOMMITTED, None)


def _after_soft_rollback(session: Session, previous: SessionTransaction) -> None:
    remembered: list[_Remembered] | None = session.info.get(_UNCOMMITTED)
    if not remembered:
        return
    if previous.nested:
        # A SAVEPOINT rolled back: its rows were expunged; the enclosing transaction gets them back
        # (a plugin.failing it emitted is not redone here: the next failure emits it).
        _add_again(session, [entry for entry in remembered if entry.row not in session])
        return
    if previous.parent is not None:
        return  # a failed flush: the unit of work itself rolls back next, and lands below
    del session.info[_UNCOMMITTED]
    try:
        _add_again(session, remembered)
        _check_failures_again(session, remembered)
        session.commit()
    except Exception:
        # Never let the log mask the error that caused the rollback.
        log.exception("plugin invocation log could not be written after a rollback", rows=len(remembered))
        session.rollback()


def _roll_back_what_was_left(_error: BaseException | None) -> None:
    # A request that neither committed nor rolled back (a page that raised, say) would have its
    # session closed, which fires no rollback event: roll back now, so its plugin calls are written.
    if db.session.registry.has() and db.session.info.get(_UNCOMMITTED):
        db.session.rollback()


def install(app: Flask) -> None:
    """Wire the log into SQLAlchemy sessions (once per process, after the job hooks) and ``app``'s requests.

    Order matters: the job hooks drop the jobs of a rolled-back transaction first, so the short
    transaction that writes the log does not send them.
    """
    install_job_hooks()
    if not event.contains(Session, "after_commit", _after_commit):
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_soft_rollback", _after_soft_rollback)
    app.teardown_request(_roll_back_what_was_left)
