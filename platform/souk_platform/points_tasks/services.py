"""Earning tasks: what customers do to earn points, checked and kept (docs/architecture.md §5.15).

Tasks are plain rows of the shop: a kind, the points it pays, a status, how often it pays (``period``, the
per-customer ``daily_cap`` and ``total_cap``) and a window. What a completion does — the checks, risk, the
ledger — is in ``completions.py``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from souk_platform.core.versions import check_version
from souk_platform.db import DbSession
from souk_platform.points_tasks.errors import InvalidTask, SignInTaskExists, TaskInUse, TaskNotFound
from souk_platform.points_tasks.models import PERIODS, TASK_KINDS, PointsTask, PointsTaskCompletion
from souk_platform.shops.models import Shop

__all__ = [
    "FIXED_PERIODS",
    "MAX_TASK_POINTS",
    "PROFILE_FIELDS",
    "create_task",
    "delete_task",
    "get_task",
    "task_view",
    "tasks_stmt",
    "update_task",
]

MAX_TASK_POINTS = 100_000
MAX_CAP = 10_000
MAX_BONUSES = 10
PROFILE_FIELDS = ("name", "phone", "email", "birthday", "gender", "source_channel")
INVITE_WHEN = ("registered", "first_order")
# Kinds whose period is fixed by what they are; the others pay per reference, optionally once per period.
FIXED_PERIODS = {"daily_sign_in": "day", "complete_profile": "once", "first_order": "once"}
REFERENCED_KINDS = ("post_review", "invite_friend")


def task_view(task: PointsTask) -> dict[str, Any]:
    return {
        "id": task.id,
        "name": task.name,
        "kind": task.kind,
        "points": task.points,
        "status": task.status,
        "period": task.period,
        "daily_cap": task.daily_cap,
        "total_cap": task.total_cap,
        "starts_at": task.starts_at,
        "ends_at": task.ends_at,
        "params": task.params,
        "version": task.version,
        "created_at": task.created_at,
        "updated_at": task.updated_at,
    }


def get_task(session: DbSession, *, shop_id: str, task_id: str, for_update: bool = False) -> PointsTask:
    """The shop's task, or 404 (another shop's task too)."""
    stmt = sa.select(PointsTask).where(PointsTask.shop_id == shop_id, PointsTask.id == task_id)
    if for_update:
        stmt = stmt.with_for_update()
    task = session.scalar(stmt)
    if task is None:
        raise TaskNotFound(f"No points task {task_id} in this shop.")
    return task


def tasks_stmt(shop_id: str, *, kind: str | None = None, status: str | None = None) -> sa.Select[Any]:
    stmt = sa.select(PointsTask).where(PointsTask.shop_id == shop_id)
    if kind:
        stmt = stmt.where(PointsTask.kind == kind)
    if status:
        stmt = stmt.where(PointsTask.status == status)
    return stmt


def _whole(value: Any, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _check_params(kind: str, params: Mapping[str, Any], errors: dict[str, list[str]]) -> dict[str, Any]:
    """The kind's params, checked and normalised (each problem named by its path under ``params``)."""
    allowed = {
        "daily_sign_in": {"streak_bonuses"},
        "complete_profile": {"profile_fields"},
        "invite_friend": {"when"},
    }.get(kind, set())
    for key in sorted(set(params) - allowed):
        errors[f"params.{key}"] = [f"Not a parameter of a {kind} task."]
    if kind == "daily_sign_in":
        bonuses = params.get("streak_bonuses", [])
        if not isinstance(bonuses, list) or len(bonuses) > MAX_BONUSES:
            errors["params.streak_bonuses"] = [f"A list of at most {MAX_BONUSES} bonuses."]
            return {}
        cleaned, seen = [], set()
        for i, bonus in enumerate(bonuses):
            if not isinstance(bonus, dict) or set(bonus) != {"days", "points"}:
                errors[f"params.streak_bonuses.{i}"] = ["Give days and points, nothing else."]
                continue
            if not _whole(bonus["days"], 2, 366):
                errors[f"params.streak_bonuses.{i}.days"] = ["Whole days from 2 to 366."]
            elif bonus["days"] in seen:
                errors[f"params.streak_bonuses.{i}.days"] = ["Each streak length once."]
            if not _whole(bonus["points"], 1, MAX_TASK_POINTS):
                errors[f"params.streak_bonuses.{i}.points"] = [f"From 1 to {MAX_TASK_POINTS}."]
            seen.add(bonus["days"])
            cleaned.append({"days": bonus["days"], "points": bonus["points"]})
        return {"streak_bonuses": sorted(cleaned, key=lambda b: b["days"])}
    if kind == "complete_profile":
        fields = params.get("profile_fields")
        if (
            not isinstance(fields, list)
            or not fields
            or any(f not in PROFILE_FIELDS for f in fields)
            or len(set(fields)) != len(fields)
        ):
            errors["params.profile_fields"] = [f"A list of distinct fields among: {', '.join(PROFILE_FIELDS)}."]
            return {}
        return {"profile_fields": list(fields)}
    if kind == "invite_friend":
        when = params.get("when", "registered")
        if when not in INVITE_WHEN:
            errors["params.when"] = [f"One of: {', '.join(INVITE_WHEN)}."]
        return {"when": when}
    return {}


def _checked(kind: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """A task's fields after the rules beyond their types; 422 naming every bad field."""
    errors: dict[str, list[str]] = {}
    name = values["name"].strip() if isinstance(values.get("name"), str) else ""
    if not name or not name.isprintable():
        errors["name"] = ["Give the task a name."]
    if kind not in TASK_KINDS:
        errors["kind"] = [f"One of: {', '.join(TASK_KINDS)}."]
        raise InvalidTask("The task is not valid.", errors=errors)
    if not _whole(values.get("points"), 1, MAX_TASK_POINTS):
        errors["points"] = [f"From 1 to {MAX_TASK_POINTS}."]
    period = values.get("period")
    fixed = FIXED_PERIODS.get(kind)
    if fixed is not None and period not in (None, fixed):
        errors["period"] = [f"A {kind} task pays once per {fixed}; leave period out or send {fixed!r}."]
    elif fixed is None and period is not None and period not in PERIODS:
        errors["period"] = [f"One of: {', '.join(PERIODS)}, or null to pay per reference."]
    for cap in ("daily_cap", "total_cap"):
        if values.get(cap) is not None and not _whole(values[cap], 1, MAX_CAP):
            errors[cap] = [f"From 1 to {MAX_CAP}, or null for no cap."]
    starts, ends = values.get("starts_at"), values.get("ends_at")
    if starts is not None and ends is not None and ends <= starts:
        errors["ends_at"] = ["Must be after starts_at."]
    params = _check_params(kind, values.get("params") or {}, errors)
    if errors:
        raise InvalidTask("The task is not valid.", errors=errors)
    return {
        "name": name,
        "points": values["points"],
        "period": fixed or period,
        "daily_cap": values.get("daily_cap"),
        "total_cap": values.get("total_cap"),
        "starts_at": starts,
        "ends_at": ends,
        "params": params,
        "status": values.get("status") or "active",
    }


def create_task(session: DbSession, *, shop_id: str, fields: Mapping[str, Any]) -> PointsTask:
    """Add a task; a shop has at most one daily sign-in task (409 ``sign-in-task-exists``)."""
    kind = fields.get("kind", "")
    values = _checked(kind, fields)
    if kind == "daily_sign_in":
        # The shop's row lock makes two parallel creations queue, so the second sees the first.
        session.execute(sa.select(Shop.id).where(Shop.id == shop_id).with_for_update())
        existing = session.scalar(
            sa.select(PointsTask.id).where(PointsTask.shop_id == shop_id, PointsTask.kind == "daily_sign_in")
        )
        if existing is not None:
            raise SignInTaskExists(f"The shop's daily sign-in task is {existing}; change that one.", task_id=existing)
    task = PointsTask(shop_id=shop_id, kind=kind, **values)
    session.add(task)
    session.flush()
    return task


def update_task(
    session: DbSession, *, shop_id: str, task_id: str, changes: Mapping[str, Any], expected_version: int | None
) -> PointsTask:
    """Change a task (its kind and period stay: completions were counted by them); 412 on a stale version."""
    task = get_task(session, shop_id=shop_id, task_id=task_id)
    check_version(task.version, expected_version)
    current = {
        key: getattr(task, key)
        for key in ("name", "points", "period", "daily_cap", "total_cap", "starts_at", "ends_at", "params", "status")
    }
    values = _checked(task.kind, {**current, **changes})
    changed = [key for key, value in values.items() if getattr(task, key) != value]
    for key in changed:
        setattr(task, key, values[key])
    if changed:
        session.flush()
    return task


def delete_task(session: DbSession, *, shop_id: str, task_id: str, expected_version: int | None) -> None:
    """Delete a task nobody completed (409 otherwise: pause it, so its completions keep their history)."""
    task = get_task(session, shop_id=shop_id, task_id=task_id, for_update=True)
    check_version(task.version, expected_version)
    done = session.scalar(sa.select(PointsTaskCompletion.id).where(PointsTaskCompletion.task_id == task.id).limit(1))
    if done is not None:
        raise TaskInUse(f"Task {task.id} has completions; pause it instead.")
    session.delete(task)
    session.flush()


def is_open(task: PointsTask, now: dt.datetime) -> bool:
    """Active and within its window."""
    return (
        task.status == "active"
        and (task.starts_at is None or task.starts_at <= now)
        and (task.ends_at is None or now < task.ends_at)
    )
