"""Shop admin pages for messages (docs/architecture.md §5.11): channels and quiet hours, templates (edited with
a preview for a chosen customer, and sent from there), the message log and the engagement report.

Each page calls the same services as the API, so a form is refused for the same reasons, shown by its field.
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
from souk_platform.messaging import services
from souk_platform.messaging.errors import InvalidChannel, InvalidReportPeriod, InvalidTemplate
from souk_platform.messaging.forms import ChannelForm, PreviewForm, QuietHoursForm, SendForm, TemplateForm
from souk_platform.messaging.models import MESSAGE_STATUSES, Message, MessageChannel, MessageTemplate
from souk_platform.messaging.rendering import FIXED_VARIABLES
from souk_platform.reports.services import shop_zone
from souk_platform.shops.services import get_shop, shop_setting, update_shop
from souk_platform.web.auth import shop_role_required
from souk_platform.web.links import add_link

bp = Blueprint("shop_messaging", __name__)

PAGE_SIZE = 100
REPORT_DAYS = (7, 30, 90)  # the periods the report page offers
#: the report's words for each status: what became of a message, not the log's moment of sending
REPORT_LABELS = {
    "delivered": _l("Delivered to customers"),
    "clicked": _l("Clicked"),
    "sent": _l("Sent, awaiting the app"),
    "scheduled": _l("Scheduled (quiet hours)"),
    "queued": _l("Queued"),
    "failed": _l("Failed"),
    "suppressed": _l("Suppressed (daily cap)"),
}


@bp.record_once
def _link(state: Any) -> None:
    add_link(state.app, "shop", "shop_messaging.templates", _l("Messages"))


def status_label(status: str) -> str:
    return {
        "scheduled": _("Scheduled (quiet hours)"),
        "queued": _("Queued"),
        "sent": _("Sent"),
        "delivered": _("Delivered"),
        "failed": _("Failed"),
        "clicked": _("Clicked"),
        "suppressed": _("Suppressed (daily cap)"),
    }.get(status, status)


def source_label(source: str) -> str:
    return {
        "api": _("API"),
        "manual": _("By hand"),
        "journey": _("Journey"),
        "demo": _("Demo"),
    }.get(source, _("Other"))


def kind_label(kind: str) -> str:
    return {"email": _("Email"), "inbox": _("In-app inbox"), "app": _("An app's channel")}.get(kind, kind)


def channel_label(channel: dict[str, Any]) -> str:
    if channel["built_in"]:
        return kind_label(channel["kind"])
    if channel["kind"] == "app":
        return f"{channel['name']} · {channel['app_name'] or ''}"
    return channel["name"]


def _helpers() -> dict[str, Any]:
    return {
        "status_label": status_label,
        "kind_label": kind_label,
        "channel_label": channel_label,
        "source_label": source_label,
    }


def _channels(shop_id: str) -> list[dict[str, Any]]:
    services.ensure_built_in_channels(db.session, shop_id=shop_id)
    db.session.commit()
    rows = list(db.session.scalars(services.channels_stmt(shop_id).order_by(MessageChannel.id)))
    return services.channel_views(db.session, rows)


@bp.route("/shops/<shop_id>/message-channels", methods=["GET", "POST"])
@shop_role_required("owner", "staff")
def channels(shop_id: str) -> Any:
    """Channels with their caps and senders, and the shop's quiet hours."""
    shop = get_shop(db.session, shop_id)
    views = _channels(shop_id)
    quiet = QuietHoursForm(prefix="quiet")
    errors: dict[str, list[str]] = {}
    if request.method == "POST" and request.form.get("form") == "quiet" and quiet.validate_on_submit():
        start, end = (quiet.quiet_start.data or "").strip() or None, (quiet.quiet_end.data or "").strip() or None
        try:
            update_shop(
                db.session,
                shop_id=shop_id,
                changes={"settings": {"quiet_hours_start": start, "quiet_hours_end": end}},
                expected_version=None,
            )
            db.session.commit()
        except SoukError:
            db.session.rollback()
            quiet.quiet_end.errors = [_("Give both times, or clear both.")]
        else:
            flash(_("Quiet hours saved."), "success")
            return redirect(url_for("shop_messaging.channels", shop_id=shop_id))
    elif request.method == "POST" and request.form.get("form") == "channel":
        form = ChannelForm()
        if form.validate_on_submit():
            channel_id = form.channel_id.data
            changes: dict[str, Any] = {
                "name": form.name.data,
                "status": form.status.data,
                "daily_cap": form.daily_cap.data or None,
            }
            if request.form.get("kind") == "email":
                changes["config"] = {
                    "from_address": (form.from_address.data or "").strip() or None,
                    "from_name": (form.from_name.data or "").strip() or None,
                }
            try:
                services.update_channel(
                    db.session, shop_id=shop_id, channel_id=channel_id, changes=changes, expected_version=None
                )
                db.session.commit()
            except InvalidChannel as error:
                db.session.rollback()
                errors[channel_id] = [m for messages in (error.errors or {}).values() for m in messages]
            else:
                flash(_("Channel saved."), "success")
                return redirect(url_for("shop_messaging.channels", shop_id=shop_id))
        else:
            errors[form.channel_id.data or ""] = [m for messages in form.errors.values() for m in messages]
    if request.method == "GET":
        quiet.quiet_start.data = shop_setting(shop, "quiet_hours_start") or ""
        quiet.quiet_end.data = shop_setting(shop, "quiet_hours_end") or ""
    return render_template(
        "messaging/channels.html", shop=shop, channels=views, quiet=quiet, errors=errors, **_helpers()
    )


@bp.get("/shops/<shop_id>/message-templates")
@shop_role_required("owner", "staff")
def templates(shop_id: str) -> str:
    shop = get_shop(db.session, shop_id)
    rows = list(
        db.session.scalars(services.templates_stmt(shop_id).order_by(MessageTemplate.id.desc()).limit(PAGE_SIZE))
    )
    return render_template("messaging/templates.html", shop=shop, templates=rows, **_helpers())


def _customer_choices(shop_id: str) -> list[tuple[str, str]]:
    customers = db.session.execute(
        sa.select(Customer.id, Customer.name, Customer.phone, Customer.email)
        .where(Customer.shop_id == shop_id)
        .order_by(Customer.name, Customer.id)
        .limit(500)
    ).all()
    return [(c.id, " · ".join(part for part in (c.name, c.phone or c.email) if part)) for c in customers]


def _fields(form: TemplateForm) -> dict[str, Any]:
    variables = [v.strip() for v in (form.variables.data or "").replace("，", ",").split(",") if v.strip()]
    return {
        "name": form.name.data,
        "channel_kind": form.channel_kind.data,
        "subject": form.subject.data or "",
        "body": form.body.data or "",
        "variables": variables,
    }


def _show_refusal(form: TemplateForm, error: InvalidTemplate) -> None:
    for key, messages in (error.errors or {}).items():
        name = key.split(".", 1)[0]
        field = getattr(form, name if name in ("name", "subject", "body", "variables", "channel_kind") else "body")
        field.errors = [*field.errors, *messages]


@bp.route("/shops/<shop_id>/message-templates/new", methods=["GET", "POST"])
@bp.route("/shops/<shop_id>/message-templates/<template_id>/edit", methods=["GET", "POST"])
@shop_role_required("owner")
def edit_template(shop_id: str, template_id: str | None = None) -> Any:
    shop = get_shop(db.session, shop_id)
    template = services.get_template(db.session, shop_id=shop_id, template_id=template_id) if template_id else None
    form = TemplateForm()
    if request.method == "GET" and template is not None:
        form.name.data, form.channel_kind.data = template.name, template.channel_kind
        form.subject.data, form.body.data = template.subject, template.body
        form.variables.data = ", ".join(template.variables)
    if form.validate_on_submit():
        saved = _save(shop_id, template, _fields(form), form)
        if saved is not None:
            return saved
    return render_template(
        "messaging/edit.html", shop=shop, template=template, form=form, fixed=FIXED_VARIABLES, **_helpers()
    )


def _save(shop_id: str, template: MessageTemplate | None, fields: dict[str, Any], form: TemplateForm) -> Any:
    try:
        if template is None:
            saved = services.create_template(db.session, shop_id=shop_id, fields=fields)
        else:
            saved = services.update_template(
                db.session, shop_id=shop_id, template_id=template.id, changes=fields, expected_version=None
            )
        db.session.commit()
    except InvalidTemplate as error:
        db.session.rollback()
        _show_refusal(form, error)
        return None
    flash(_("Template saved."), "success")
    return redirect(url_for("shop_messaging.template", shop_id=shop_id, template_id=saved.id))


@bp.route("/shops/<shop_id>/message-templates/<template_id>", methods=["GET", "POST"])
@shop_role_required("owner", "staff")
def template(shop_id: str, template_id: str) -> Any:
    """One template: preview it for a chosen customer, and send it to a customer on a channel of its kind."""
    shop = get_shop(db.session, shop_id)
    found = services.get_template(db.session, shop_id=shop_id, template_id=template_id)
    customers = _customer_choices(shop_id)
    channels = [c for c in _channels(shop_id) if c["kind"] == found.channel_kind and c["status"] == "active"]
    preview_form, send_form = PreviewForm(prefix="preview"), SendForm(prefix="send")
    preview_form.customer_id.choices = send_form.customer_id.choices = customers
    send_form.channel_id.choices = [(c["id"], channel_label(c)) for c in channels]
    preview: dict[str, Any] | None = None
    problem: str | None = None
    action = request.form.get("action")
    if action == "preview" and preview_form.validate_on_submit():
        try:
            preview = services.preview_template(
                db.session,
                shop_id=shop_id,
                template_id=found.id,
                customer_id=preview_form.customer_id.data,
                variables={},
            )
        except SoukError as error:
            problem = error.detail
        db.session.rollback()  # a preview writes nothing
        send_form.customer_id.data = preview_form.customer_id.data
    elif action == "send" and send_form.validate_on_submit():
        sent = _send(shop_id, found, send_form)
        if isinstance(sent, Response):
            return sent
        problem = sent
    return render_template(
        "messaging/template.html",
        shop=shop,
        template=found,
        preview_form=preview_form,
        send_form=send_form,
        preview=preview,
        problem=problem,
        channels=channels,
        **_helpers(),
    )


def _send(shop_id: str, template: MessageTemplate, form: SendForm) -> Response | str:
    """Send from the page: the form's key makes a resent form one message. A refusal comes back as text."""
    variables: dict[str, Any] = {name: "" for name in template.variables}
    if form.coupon_code.data:
        variables["coupon_code"] = form.coupon_code.data.strip()
    if form.coupon_name.data:
        variables["coupon_name"] = form.coupon_name.data.strip()
    try:
        message = services.send_message(
            db.session,
            shop_id=shop_id,
            customer_id=form.customer_id.data or "",
            channel_id=form.channel_id.data or "",
            template_id=template.id,
            variables=variables,
            source="manual",
            idempotency_key=f"web:{form.form_key.data}",
            now=app_now(),
        )
        db.session.commit()
    except SoukError as error:
        db.session.rollback()
        details = [m for messages in (error.errors or {}).values() for m in messages]
        return "; ".join(details) or error.detail
    flash(_("Message %(status)s.", status=status_label(message.status)), "success")
    return redirect(url_for("shop_messaging.log", shop_id=shop_id))


@bp.get("/shops/<shop_id>/messages")
@shop_role_required("owner", "staff")
def log(shop_id: str) -> str:
    """The message log, newest first; filter by status."""
    shop = get_shop(db.session, shop_id)
    status = request.args.get("status") if request.args.get("status") in MESSAGE_STATUSES else None
    rows = db.session.execute(
        services.messages_stmt(shop_id, status=status)
        .add_columns(Customer.name, MessageChannel.name, MessageChannel.kind, MessageChannel.key)
        .join(Customer, Customer.id == Message.customer_id)
        .join(MessageChannel, MessageChannel.id == Message.channel_id)
        .order_by(Message.id.desc())
        .limit(PAGE_SIZE)
    ).all()
    return render_template(
        "messaging/log.html", shop=shop, rows=rows, status=status, statuses=MESSAGE_STATUSES, **_helpers()
    )


@bp.get("/shops/<shop_id>/message-reports")
@shop_role_required("owner", "staff")
def report(shop_id: str) -> tuple[str, int]:
    """Engagement over the last 7, 30 or 90 local days: per channel (a bar chart and a table), template, journey."""
    shop = get_shop(db.session, shop_id)
    raw = request.args.get("days", "7")
    try:
        days = int(raw) if raw.isascii() and raw.isdigit() else -1
        start, end = services.report_period(shop, now=app_now(), days=days)
    except InvalidReportPeriod:
        flash(_("Choose a period of 1 to 366 days."), "error")
        return render_template("messaging/report.html", shop=shop, board=None, days=None, periods=REPORT_DAYS), 400
    board = services.message_report(db.session, shop_id=shop_id, start=start, end=end)
    busiest = max([row["total"] for row in board["channels"]] + [1])
    zone = shop_zone(shop.timezone or "UTC")
    return render_template(
        "messaging/report.html",
        shop=shop,
        board=board,
        days=days,
        periods=REPORT_DAYS,
        busiest=busiest,
        first_day=start.astimezone(zone).date(),
        last_day=(end - dt.timedelta(seconds=1)).astimezone(zone).date(),
        report_labels=REPORT_LABELS,
        **_helpers(),
    ), 200
