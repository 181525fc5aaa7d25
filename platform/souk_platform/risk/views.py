"""Shop admin pages for risk control (docs/architecture.md §5.13, §14): the dashboard, the decisions with the rules
that fired, the review queue (approve or reject, once), the block and allow lists, each rule's settings with a
preview of what they would have decided yesterday, and the platform admin's view across shops.

Each page calls the same services as the API, so a merchant's form is refused for the same reasons.
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
from souk_platform.core.money import format_money, to_minor_units
from souk_platform.customers.models import Customer
from souk_platform.db import db
from souk_platform.reports.services import shop_zone
from souk_platform.risk import services
from souk_platform.risk.forms import ListEntryForm, ReviewForm, SettingsForm
from souk_platform.risk.models import OUTCOMES, REVIEW_STATUSES, RiskDecision, RiskListEntry, RiskReview
from souk_platform.risk.rules import RULES
from souk_platform.shops.services import get_shop
from souk_platform.web import once
from souk_platform.web.auth import admin_required, shop_role_required, signed_in_user
from souk_platform.web.links import add_link

bp = Blueprint("shop_risk", __name__)

PAGE_SIZE = 100
DASHBOARD_DAYS = 14

RULE_LABELS = {
    "customer_dense_orders": _l("Dense buying by one customer"),
    "ip_many_customers": _l("Many customers on one IP"),
    "customer_many_ips": _l("One customer from many IPs"),
    "device_many_customers": _l("Many accounts on one device"),
    "new_account_high_value": _l("New account, high-value order"),
}
KIND_LABELS = {"customer": _l("customer"), "ip": _l("IP address"), "device": _l("device")}


@bp.record_once
def _link(state: Any) -> None:
    add_link(state.app, "shop", "shop_risk.decisions", _l("Risk control"))
    add_link(state.app, "admin", "shop_risk.across_shops", _l("Risk across shops"))


def rule_label(name: str) -> str:
    """A fired rule in the merchant's words: a built-in rule, a list entry or an app's plugin."""
    if name in RULE_LABELS:
        return str(RULE_LABELS[name])
    if name.startswith(("block_list:", "allow_list:")):
        which, _sep, kind = name.partition(":")
        kind_label = str(KIND_LABELS.get(kind, kind))
        if which == "block_list":
            return _("On the block list (%(kind)s)", kind=kind_label)
        return _("On the allow list (%(kind)s)", kind=kind_label)
    if name.startswith("plugin:"):
        return _("App plugin %(name)s", name=name.removeprefix("plugin:"))
    return name


def figures(rule: dict[str, Any], currency: str) -> str:
    """What the rule saw against its threshold, e.g. "6 (limit 5) within 60 minutes"."""
    if rule.get("seen") is None:
        return ""
    if rule["rule"] == "new_account_high_value":
        return _(
            "%(seen)s (from %(threshold)s), account younger than %(hours)s hours",
            seen=format_money(rule["seen"], currency),
            threshold=format_money(rule["threshold"], currency),
            hours=rule["window_minutes"] // 60,
        )
    return _(
        "%(seen)s (limit %(threshold)s) within %(minutes)s minutes",
        seen=rule["seen"],
        threshold=rule["threshold"],
        minutes=rule["window_minutes"],
    )


def _helpers(currency: str) -> dict[str, Any]:
    return {"rule_label": rule_label, "figures": lambda rule: figures(rule, currency)}


@bp.get("/shops/<shop_id>/risk")
@shop_role_required("owner", "staff")
def decisions(shop_id: str) -> str:
    shop = get_shop(db.session, shop_id)
    outcome = request.args.get("outcome") if request.args.get("outcome") in OUTCOMES else None
    rule = request.args.get("rule") if request.args.get("rule") in RULES else None
    rows = list(
        db.session.scalars(
            services.decisions_stmt(shop_id, outcome=outcome, rule=rule)
            .order_by(RiskDecision.id.desc())
            .limit(PAGE_SIZE)
        )
    )
    names = _customer_names(shop_id, {d.customer_id for d in rows if d.customer_id})
    open_reviews = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(RiskReview)
        .where(RiskReview.shop_id == shop_id, RiskReview.status == "open")
    )
    return render_template(
        "risk/decisions.html",
        shop=shop,
        rows=rows,
        names=names,
        outcome=outcome,
        rule=rule,
        outcomes=OUTCOMES,
        rules=RULE_LABELS,
        open_reviews=open_reviews,
        **_helpers(shop.currency),
    )


def _customer_names(shop_id: str, ids: set[str]) -> dict[str, str]:
    if not ids:
        return {}
    rows = db.session.execute(
        sa.select(Customer.id, Customer.name).where(Customer.shop_id == shop_id, Customer.id.in_(ids))
    )
    return {customer_id: name for customer_id, name in rows}


@bp.get("/shops/<shop_id>/risk/reviews")
@shop_role_required("owner", "staff")
def reviews(shop_id: str) -> str:
    shop = get_shop(db.session, shop_id)
    asked = request.args.get("status", "open")
    status = asked if asked in REVIEW_STATUSES else None
    rows = list(
        db.session.scalars(
            services.reviews_stmt(shop_id, status=status).order_by(RiskReview.id.desc()).limit(PAGE_SIZE)
        )
    )
    decided = {
        d.id: d
        for d in db.session.scalars(
            sa.select(RiskDecision).where(RiskDecision.id.in_([r.decision_id for r in rows] or [""]))
        )
    }
    forms = {r.id: ReviewForm(formdata=None) for r in rows if r.status == "open"}
    return render_template(
        "risk/reviews.html",
        shop=shop,
        rows=rows,
        decided=decided,
        forms=forms,
        status=status,
        statuses=REVIEW_STATUSES,
        names=_customer_names(shop_id, {r.customer_id for r in rows if r.customer_id}),
        **_helpers(shop.currency),
    )


@bp.post("/shops/<shop_id>/risk/reviews/<review_id>")
@shop_role_required("owner")
def close_review(shop_id: str, review_id: str) -> Response:
    """Approve or reject a held order (the same services as the API), once however often the form is sent."""
    target = url_for("shop_risk.reviews", shop_id=shop_id)
    form = ReviewForm()
    if not form.validate_on_submit():
        flash(_("The form was incomplete; try again."), "error")
        return redirect(target)
    now = app_now()
    user_id = signed_in_user().id
    earlier = once.claim(db.session, form=form, user_id=user_id, now=now)
    if earlier:
        return once.already_done(earlier)
    close = services.approve_review if form.verdict.data == "approve" else services.reject_review
    try:
        close(db.session, shop_id=shop_id, review_id=review_id, now=now, by="staff", note=form.note.data or None)
    except SoukError as error:
        db.session.rollback()
        flash(error.detail, "error")
        return redirect(target)
    if form.verdict.data == "approve":
        flash(_("Approved: the order now awaits payment."), "success")
    else:
        flash(_("Rejected: the order was cancelled and its stock and points given back."), "success")
    return once.done(db.session, form=form, user_id=user_id, target=target)


@bp.route("/shops/<shop_id>/risk/lists", methods=["GET", "POST"])
@shop_role_required("owner", "staff")
def lists(shop_id: str) -> Any:
    shop = get_shop(db.session, shop_id)
    form = ListEntryForm()
    now = app_now()
    if form.validate_on_submit():
        fields = {
            "list": form.list.data,
            "kind": form.kind.data,
            "value": form.value.data or "",
            "note": form.note.data or None,
            "expires_at": now + dt.timedelta(days=form.days.data) if form.days.data else None,
        }
        try:
            services.create_entry(db.session, shop_id=shop_id, fields=fields, now=now)
            db.session.commit()
        except SoukError as error:
            db.session.rollback()
            form.value.errors = [*form.value.errors, error.detail]
        else:
            flash(_("Added to the list."), "success")
            return redirect(url_for("shop_risk.lists", shop_id=shop_id))
    rows = list(db.session.scalars(services.entries_stmt(shop_id).order_by(RiskListEntry.id.desc()).limit(500)))
    return render_template(
        "risk/lists.html",
        shop=shop,
        form=form,
        rows=[services.entry_view(entry, now) for entry in rows],
        kinds=KIND_LABELS,
        names=_customer_names(shop_id, {e.value for e in rows if e.kind == "customer"}),
    )


@bp.post("/shops/<shop_id>/risk/lists/<entry_id>/delete")
@shop_role_required("owner", "staff")
def delete_entry(shop_id: str, entry_id: str) -> Response:
    try:
        services.delete_entry(db.session, shop_id=shop_id, entry_id=entry_id, expected_version=None)
        db.session.commit()
    except SoukError as error:
        db.session.rollback()
        flash(error.detail, "error")
    else:
        flash(_("Removed from the list."), "success")
    return redirect(url_for("shop_risk.lists", shop_id=shop_id))


@bp.route("/shops/<shop_id>/risk/settings", methods=["GET", "POST"])
@shop_role_required("owner")
def settings(shop_id: str) -> Any:
    shop = get_shop(db.session, shop_id)
    view = services.risk_settings_view(shop)
    form = SettingsForm()
    if request.method == "GET":
        for rule in view["rules"]:
            name = rule["rule"]
            threshold = rule["threshold"]
            if name == "new_account_high_value":
                threshold = f"{threshold / 100:.2f}"
            getattr(form, f"{name}_threshold").data = threshold
            getattr(form, f"{name}_window").data = rule["window"]
            getattr(form, f"{name}_outcome").data = rule["outcome"]
        form.review_expiry_hours.data = view["review_expiry_hours"]
        form.review_expiry_action.data = view["review_expiry_action"]
    if form.validate_on_submit():
        saved = _save_settings(shop_id, form)
        if saved is not None:
            return saved
    return render_template("risk/settings.html", shop=shop, form=form, rules=RULE_LABELS, view=view)


def _form_rules(form: SettingsForm) -> list[dict[str, Any]] | None:
    """The form's rules as the API's ``rules`` (the amount in fen); None, with the field's error, if it is not one."""
    amount_field = form.new_account_high_value_threshold
    try:
        amount = to_minor_units(str(amount_field.data or "").removeprefix("¥").removesuffix("元").strip())
    except ValueError:
        amount_field.errors = [_("Enter an amount in yuan like 1000 or 1000.50.")]
        return None
    return [
        {
            "rule": name,
            "threshold": amount if name == "new_account_high_value" else getattr(form, f"{name}_threshold").data,
            "window": getattr(form, f"{name}_window").data,
            "outcome": getattr(form, f"{name}_outcome").data,
        }
        for name in RULES
    ]


def _save_settings(shop_id: str, form: SettingsForm) -> Response | None:
    rules = _form_rules(form)
    if rules is None:
        return None
    try:
        services.update_risk_settings(
            db.session,
            shop_id=shop_id,
            fields={
                "rules": rules,
                "review_expiry_hours": form.review_expiry_hours.data,
                "review_expiry_action": form.review_expiry_action.data,
            },
            expected_version=None,
        )
        db.session.commit()
    except SoukError as error:
        db.session.rollback()
        flash(error.detail, "error")
        return None
    flash(_("Risk settings saved."), "success")
    return redirect(url_for("shop_risk.settings", shop_id=shop_id))


@bp.post("/shops/<shop_id>/risk/settings/preview")
@shop_role_required("owner")
def preview_settings(shop_id: str) -> str:
    """The settings form as typed, with what it would have decided yesterday (nothing is saved)."""
    shop = get_shop(db.session, shop_id)
    form = SettingsForm()
    replay = None
    if form.validate_on_submit() and (rules := _form_rules(form)) is not None:
        try:
            start, end = services.replay_period(shop, now=app_now())
            replay = services.replay_thresholds(
                db.session, shop=shop, thresholds={"rules": rules}, start=start, end=end
            )
        except SoukError as error:
            flash(error.detail, "error")
        else:
            replay["day"] = start.astimezone(shop_zone(shop.timezone or "UTC")).date()
            replay["names"] = _customer_names(shop_id, {s["customer_id"] for s in replay["sample"] if s["customer_id"]})
    db.session.rollback()
    return render_template(
        "risk/settings.html",
        shop=shop,
        form=form,
        rules=RULE_LABELS,
        view=services.risk_settings_view(shop),
        replay=replay,
        **_helpers(shop.currency),
    )


@bp.get("/shops/<shop_id>/risk/dashboard")
@shop_role_required("owner", "staff")
def dashboard(shop_id: str) -> str:
    shop = get_shop(db.session, shop_id)
    board = services.risk_dashboard(db.session, shop=shop, days=DASHBOARD_DAYS, now=app_now())
    busiest = max([day["total"] for day in board["per_day"]] + [1])
    return render_template(
        "risk/dashboard.html",
        shop=shop,
        board=board,
        busiest=busiest,
        names=_customer_names(shop_id, {row["customer_id"] for row in board["top_customers"]}),
        **_helpers(shop.currency),
    )


@bp.get("/admin/risk")
@admin_required
def across_shops() -> str:
    """Platform admins: risk in every shop over the last 7 days."""
    return render_template(
        "risk/admin.html", shops=services.risk_across_shops(db.session, now=app_now(), days=7), **_helpers("CNY")
    )
