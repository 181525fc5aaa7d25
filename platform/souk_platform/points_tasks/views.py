"""Shop admin pages for points operations (docs/architecture.md §5.15, §14): earning tasks (list, create, edit,
pause), the points policy (a point's value typed in yuan) and the points liability with its monthly chart.

Each page calls the same services as the API, so a form is refused for the same reasons, shown beside the
field it names or as a flash.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from souk_platform.core.clock import app_now
from souk_platform.core.errors import SoukError
from souk_platform.customers.models import Customer
from souk_platform.db import db
from souk_platform.points.liability import points_liability
from souk_platform.points.policy import points_policy_view, update_points_policy
from souk_platform.points_tasks import completions, services
from souk_platform.points_tasks.forms import (
    KIND_LABELS,
    PERIOD_LABELS,
    PROFILE_LABELS,
    HeldCompletionForm,
    PolicyForm,
    StatusForm,
    TaskForm,
)
from souk_platform.points_tasks.models import PointsTask, PointsTaskCompletion
from souk_platform.reports.services import local_midnight, shop_zone
from souk_platform.shops.models import Shop
from souk_platform.shops.services import get_shop
from souk_platform.web import once
from souk_platform.web.auth import shop_role_required, signed_in_user
from souk_platform.web.forms import refuse_nul_characters, yuan_text
from souk_platform.web.links import add_link
from souk_platform.web.refusals import refusal

bp = Blueprint("shop_points", __name__)
bp.before_request(refuse_nul_characters)

PAGE_SIZE = 100


@bp.record_once
def _link(state: Any) -> None:
    add_link(state.app, "shop", "shop_points.tasks", _l("Points operations"))


def _labels() -> dict[str, Any]:
    return {"kinds": KIND_LABELS, "periods": PERIOD_LABELS, "profile_labels": PROFILE_LABELS}


# --- tasks ----------------------------------------------------------------------------------------


@bp.get("/shops/<shop_id>/points/tasks")
@shop_role_required("owner", "staff")
def tasks(shop_id: str) -> str:
    shop = get_shop(db.session, shop_id)
    rows = list(db.session.scalars(services.tasks_stmt(shop_id).order_by(PointsTask.id.desc()).limit(PAGE_SIZE)))
    counts = dict(
        db.session.execute(
            sa.select(PointsTaskCompletion.task_id, sa.func.count())
            .where(PointsTaskCompletion.shop_id == shop_id, PointsTaskCompletion.status == "completed")
            .group_by(PointsTaskCompletion.task_id)
        ).all()
    )
    zone = shop_zone(shop.timezone or "UTC")
    held = list(
        db.session.scalars(
            completions.completions_stmt(shop_id, status="in_review")
            .order_by(PointsTaskCompletion.id.desc())
            .limit(PAGE_SIZE)
        )
    )
    names = dict(
        db.session.execute(
            sa.select(Customer.id, Customer.name).where(
                Customer.shop_id == shop_id, Customer.id.in_([c.customer_id for c in held] or [""])
            )
        ).all()
    )
    return render_template(
        "points_tasks/tasks.html",
        shop=shop,
        rows=rows,
        counts=counts,
        held=held,
        held_forms={c.id: HeldCompletionForm(formdata=None) for c in held},
        task_names={t.id: t.name for t in rows},
        names=names,
        local=lambda when: when.astimezone(zone).strftime("%Y-%m-%d") if when else "",
        **_labels(),
    )


def _bonuses(text: str | None) -> list[dict[str, int]] | None:
    """ "7:50, 30:200" → [{days: 7, points: 50}, …]; None when it is not written that way."""
    bonuses = []
    for part in (text or "").replace("，", ",").split(","):
        if not part.strip():
            continue
        days, sep, points = part.replace("：", ":").partition(":")
        if not sep or not days.strip().isdigit() or not points.strip().isdigit():
            return None
        bonuses.append({"days": int(days), "points": int(points)})
    return bonuses


def _instant(shop: Shop, day: dt.date | None) -> dt.datetime | None:
    return None if day is None else local_midnight(day, shop_zone(shop.timezone or "UTC"))


def _task_fields(shop: Shop, form: TaskForm, kind: str) -> dict[str, Any] | None:
    """The form as the service's fields; None, with the field's error, when the bonuses are not legible."""
    params: dict[str, Any] = {}
    if kind == "daily_sign_in":
        bonuses = _bonuses(form.streak_bonuses.data)
        if bonuses is None:
            form.streak_bonuses.errors = [_("Write each bonus as days:points, e.g. 7:50, 30:200.")]
            return None
        params["streak_bonuses"] = bonuses
    elif kind == "complete_profile":
        params["profile_fields"] = list(form.profile_fields.data or [])
    elif kind == "invite_friend":
        params["when"] = form.invite_when.data
    period = form.period.data or None if kind in services.REFERENCED_KINDS else None
    return {
        "name": form.name.data,
        "points": form.points.data,
        "period": period,
        "daily_cap": form.daily_cap.data,
        "total_cap": form.total_cap.data,
        "starts_at": _instant(shop, form.starts_on.data),
        "ends_at": _instant(shop, form.ends_on.data),
        "status": form.status.data,
        "params": params,
    }


_FIELD_OF = {"starts_at": "starts_on", "ends_at": "ends_on"}


def _show_refusal(form: TaskForm, error: SoukError) -> None:
    """A service's reasons beside the fields they name, the rest as a flash."""
    shown = False
    for name, reasons in (error.errors or {}).items():
        field_name = _FIELD_OF.get(name, name)
        if field_name.startswith("params.streak_bonuses"):
            field_name = "streak_bonuses"
        elif field_name.startswith("params.profile_fields"):
            field_name = "profile_fields"
        elif field_name.startswith("params.when"):
            field_name = "invite_when"
        field = getattr(form, field_name, None)
        if field is not None:
            field.errors = list(field.errors or []) + [str(r) for r in reasons]
            shown = True
    flash(refusal(error, fields_explain=shown), "error")


@bp.route("/shops/<shop_id>/points/tasks/new", methods=["GET", "POST"])
@shop_role_required("owner", "staff")
def new_task(shop_id: str) -> Any:
    shop = get_shop(db.session, shop_id)
    form = TaskForm()
    if request.method == "GET":
        form.points.data = 10
        form.streak_bonuses.data = "7:50"
        form.profile_fields.data = ["phone", "birthday"]
    if form.validate_on_submit() and (fields := _task_fields(shop, form, form.kind.data)) is not None:
        try:
            services.create_task(db.session, shop_id=shop_id, fields={**fields, "kind": form.kind.data})
            db.session.commit()
        except SoukError as error:
            db.session.rollback()
            _show_refusal(form, error)
        else:
            flash(_("Task created."), "success")
            return redirect(url_for("shop_points.tasks", shop_id=shop_id))
    status = 422 if request.method == "POST" else 200
    return render_template("points_tasks/task_form.html", shop=shop, form=form, task=None, **_labels()), status


@bp.route("/shops/<shop_id>/points/tasks/<task_id>", methods=["GET", "POST"])
@shop_role_required("owner", "staff")
def edit_task(shop_id: str, task_id: str) -> Any:
    shop = get_shop(db.session, shop_id)
    task = services.get_task(db.session, shop_id=shop_id, task_id=task_id)
    form = TaskForm()
    if request.method == "GET":
        zone = shop_zone(shop.timezone or "UTC")
        form.version.data = str(task.version)
        form.name.data, form.kind.data, form.points.data = task.name, task.kind, task.points
        form.period.data = task.period or ""
        form.daily_cap.data, form.total_cap.data, form.status.data = task.daily_cap, task.total_cap, task.status
        form.starts_on.data = task.starts_at.astimezone(zone).date() if task.starts_at else None
        form.ends_on.data = task.ends_at.astimezone(zone).date() if task.ends_at else None
        bonuses = task.params.get("streak_bonuses", [])
        form.streak_bonuses.data = ", ".join(f"{b['days']}:{b['points']}" for b in bonuses)
        form.profile_fields.data = task.params.get("profile_fields", [])
        form.invite_when.data = task.params.get("when", "registered")
    form.kind.data = task.kind  # the kind never changes
    if form.validate_on_submit() and (fields := _task_fields(shop, form, task.kind)) is not None:
        fields.pop("period")  # fixed once created
        try:
            services.update_task(
                db.session,
                shop_id=shop_id,
                task_id=task_id,
                changes=fields,
                expected_version=int(form.version.data) if (form.version.data or "").isdigit() else None,
            )
            db.session.commit()
        except SoukError as error:
            db.session.rollback()
            _show_refusal(form, error)
        else:
            flash(_("Task saved."), "success")
            return redirect(url_for("shop_points.tasks", shop_id=shop_id))
    status = 422 if request.method == "POST" else 200
    return render_template("points_tasks/task_form.html", shop=shop, form=form, task=task, **_labels()), status


@bp.post("/shops/<shop_id>/points/tasks/<task_id>/status")
@shop_role_required("owner", "staff")
def task_status(shop_id: str, task_id: str) -> Response:
    """Pause or resume a task, with the version the list showed."""
    form = StatusForm()
    if form.validate_on_submit():
        try:
            services.update_task(
                db.session,
                shop_id=shop_id,
                task_id=task_id,
                changes={"status": form.status.data},
                expected_version=int(form.version.data) if (form.version.data or "").isdigit() else None,
            )
            db.session.commit()
        except SoukError as error:
            db.session.rollback()
            flash(refusal(error), "error")
        else:
            flash(_("Task paused.") if form.status.data == "paused" else _("Task resumed."), "success")
    return redirect(url_for("shop_points.tasks", shop_id=shop_id))


@bp.post("/shops/<shop_id>/points/tasks/<task_id>/completions/<completion_id>")
@shop_role_required("owner")
def close_completion(shop_id: str, task_id: str, completion_id: str) -> Response:
    """Approve (the points are paid) or reject a held completion, once however often the form is sent."""
    target = url_for("shop_points.tasks", shop_id=shop_id)
    form = HeldCompletionForm()
    if not form.validate_on_submit():
        flash(_("The form was incomplete; try again."), "error")
        return redirect(target)
    now, user_id = app_now(), signed_in_user().id
    earlier = once.claim(db.session, form=form, user_id=user_id, now=now)
    if earlier:
        return once.already_done(earlier)
    close = completions.approve_completion if form.verdict.data == "approve" else completions.reject_completion
    try:
        close(db.session, shop_id=shop_id, task_id=task_id, completion_id=completion_id, now=now)
    except SoukError as error:
        db.session.rollback()
        flash(refusal(error), "error")
        return redirect(target)
    flash(
        _("Approved: the points were paid.") if form.verdict.data == "approve" else _("Rejected: no points."), "success"
    )
    return once.done(db.session, form=form, user_id=user_id, target=target)


# --- policy ---------------------------------------------------------------------------------------


@bp.route("/shops/<shop_id>/points/policy", methods=["GET", "POST"])
@shop_role_required("owner")
def policy(shop_id: str) -> Any:
    shop = get_shop(db.session, shop_id)
    view = points_policy_view(shop)
    form = PolicyForm()
    if request.method == "GET":
        form.version.data = str(view["version"])
        form.points_per_yuan.data = view["points_per_yuan"]
        form.point_value.data = yuan_text(view["point_value_fen"])
        form.max_spend_percent.data = view["max_spend_ratio_bp"] // 100
        form.max_points_per_order.data = view["max_points_per_order"]
        form.expiry_policy.data = view["expiry_policy"]
        form.expiry_days.data = view["expiry_days"]
    if form.validate_on_submit():
        changes = {
            "points_per_yuan": form.points_per_yuan.data,
            "point_value_fen": form.point_value.minor,
            "max_spend_ratio_bp": (form.max_spend_percent.data or 0) * 100,
            "max_points_per_order": form.max_points_per_order.data,
            "expiry_policy": form.expiry_policy.data,
            "expiry_days": form.expiry_days.data,
        }
        try:
            update_points_policy(
                db.session,
                shop_id=shop_id,
                changes=changes,
                expected_version=int(form.version.data) if (form.version.data or "").isdigit() else None,
            )
            db.session.commit()
        except SoukError as error:
            db.session.rollback()
            names = {"point_value_fen": "point_value", "max_spend_ratio_bp": "max_spend_percent"}
            for name, reasons in (error.errors or {}).items():
                field = getattr(form, names.get(name, name), None)
                if field is not None:
                    field.errors = [str(r) for r in reasons]
            flash(refusal(error, fields_explain=bool(error.errors)), "error")
        else:
            flash(_("Points policy saved."), "success")
            return redirect(url_for("shop_points.policy", shop_id=shop_id))
    status = 422 if request.method == "POST" else 200
    return render_template("points_tasks/policy.html", shop=shop, form=form, view=view), status


# --- liability ------------------------------------------------------------------------------------


@bp.get("/shops/<shop_id>/points/liability")
@shop_role_required("owner", "staff")
def liability(shop_id: str) -> str:
    shop = get_shop(db.session, shop_id)
    report = points_liability(db.session, shop=shop, now=app_now())
    tallest = max([m["issued"] for m in report["months"]] + [m["redeemed"] for m in report["months"]] + [1])
    return render_template("points_tasks/liability.html", shop=shop, report=report, tallest=tallest)
