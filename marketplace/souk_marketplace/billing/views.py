"""Billing pages: the merchant's approval page, Charges and invoices; the developer's earnings and payouts."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from souk_marketplace.billing import errors, services
from souk_marketplace.billing.forms import DecisionForm, PayoutForm, RefundForm, to_minor_units
from souk_marketplace.billing.models import AppCharge, AppSubscription, Invoice
from souk_platform.apps.errors import AppNotFound
from souk_platform.apps.models import App
from souk_platform.apps.services import get_developer_app
from souk_platform.apps.views import developer_required
from souk_platform.core.clock import app_now
from souk_platform.core.money import format_money
from souk_platform.db import db
from souk_platform.shops.services import get_shop
from souk_platform.web.auth import shop_role_required, signed_in_user
from souk_platform.web.forms import EmptyForm

bp = Blueprint("billing_pages", __name__)

LIST_LIMIT = 100


def _terms() -> services.BillingTerms:
    return services.terms_from_config(current_app.config)


def plan_in_words(sub: AppSubscription) -> str:
    """The plan as the merchant reads it: price per interval, usage cap, trial."""
    price = format_money(sub.price, sub.currency)
    per = _("per year") if sub.interval == "year" else _("per month")
    if sub.free_reason:
        words = _(
            "Free (%(reason)s); normally %(price)s %(per)s",
            reason=sub.free_reason,
            price=format_money(sub.list_price, sub.currency),
            per=per,
        )
    elif sub.kind == "free":
        words = _("Free")
    elif sub.kind == "usage":
        cap = format_money(sub.usage_cap or 0, sub.currency)
        words = _(
            "%(price)s %(per)s, plus usage charged as you go, up to %(cap)s each month",
            price=price,
            per=per,
            cap=cap,
        )
    else:
        words = _("%(price)s %(per)s", price=price, per=per)
    if sub.trial_days and sub.price > 0:
        words += " · " + _("%(days)s-day free trial first (once per shop)", days=sub.trial_days)
    return words


def _target_or_404(shop_id: str, object_id: str) -> AppSubscription | AppCharge:
    try:
        return services.find_billing_object(db.session, shop_id=shop_id, object_id=object_id)
    except (errors.SubscriptionNotFound, errors.ChargeNotFound):
        abort(404)


@bp.route("/shops/<shop_id>/billing/approve/<object_id>", methods=["GET", "POST"])
@shop_role_required("owner")
def approve(shop_id: str, object_id: str) -> Any:
    target = _target_or_404(shop_id, object_id)
    form = DecisionForm()
    error = None
    decided = form.approve.data or form.decline.data  # a post without either button decides nothing
    if form.validate_on_submit() and decided and target.status == "pending":
        user_id = signed_in_user().id
        try:
            if form.approve.data:
                target = services.approve(
                    db.session, shop_id=shop_id, object_id=object_id, user_id=user_id, terms=_terms(), now=app_now()
                )
            else:
                target = services.decline(
                    db.session, shop_id=shop_id, object_id=object_id, user_id=user_id, now=app_now()
                )
        except errors.ShopBalanceTooLow as exc:
            db.session.rollback()
            target = _target_or_404(shop_id, object_id)
            error = _(
                "Your shop balance is %(balance)s but this needs %(needed)s. Nothing was charged; "
                "approve again once your balance covers it.",
                balance=format_money(int(exc.extra["balance"]), exc.extra["currency"]),
                needed=format_money(int(exc.extra["needed"]), exc.extra["currency"]),
            )
        except (errors.NotPending, errors.SubscriptionNotChangeable):
            db.session.rollback()
            target = _target_or_404(shop_id, object_id)
        else:
            db.session.commit()
            key = "subscription_id" if isinstance(target, AppSubscription) else "charge_id"
            back = services.return_url_with(target.return_url or "", **{key: target.id, "status": target.status})
            if back:
                return redirect(back)  # the app's page: it reads the status from the query
            flash(_("Declined: nothing was charged.") if target.status == "declined" else _("Approved."), "success")
            return redirect(url_for("billing_pages.charges", shop_id=shop_id))
    app = db.session.get(App, target.app_id)
    return render_template(
        "billing/approve.html",
        shop=get_shop(db.session, shop_id),
        app=app,
        target=target,
        is_subscription=isinstance(target, AppSubscription),
        plan_words=plan_in_words(target) if isinstance(target, AppSubscription) else None,
        replaces=db.session.get(AppSubscription, target.replaces_id)
        if isinstance(target, AppSubscription) and target.replaces_id
        else None,
        form=form,
        error=error,
    )


@bp.get("/shops/<shop_id>/billing")
@shop_role_required("owner")
def charges(shop_id: str) -> Any:
    subs = list(
        db.session.scalars(services.subscriptions_stmt(shop_id).order_by(AppSubscription.id.desc()).limit(LIST_LIMIT))
    )
    shop_charges = list(
        db.session.scalars(services.charges_stmt(shop_id).order_by(AppCharge.id.desc()).limit(LIST_LIMIT))
    )
    refunds = services.refunds_of(db.session, [c.id for c in shop_charges])
    invoices = list(db.session.scalars(services.invoices_stmt(shop_id).order_by(Invoice.id.desc())))
    names = services.app_names(db.session, [s.app_id for s in subs] + [c.app_id for c in shop_charges])
    return render_template(
        "billing/charges.html",
        shop=get_shop(db.session, shop_id),
        subscriptions=subs,
        charges=shop_charges,
        refunds=[r for c in shop_charges for r in refunds[c.id]],
        invoices=invoices,
        names=names,
        plan_in_words=plan_in_words,
        cancel_form=EmptyForm(),
    )


@bp.post("/shops/<shop_id>/billing/subscriptions/<subscription_id>/cancel")
@shop_role_required("owner")
def cancel(shop_id: str, subscription_id: str) -> Any:
    if EmptyForm().validate_on_submit():
        try:
            services.cancel_subscription(
                db.session, shop_id=shop_id, subscription_id=subscription_id, app_id=None, now=app_now()
            )
        except errors.SubscriptionNotFound:
            abort(404)
        except errors.SubscriptionNotChangeable:
            db.session.rollback()
            flash(_("That subscription has already ended."), "error")
        else:
            db.session.commit()
            flash(_("The subscription is cancelled; the app will not charge you for it again."), "success")
    return redirect(url_for("billing_pages.charges", shop_id=shop_id))


@bp.get("/shops/<shop_id>/billing/invoices/<invoice_id>")
@shop_role_required("owner")
def invoice(shop_id: str, invoice_id: str) -> Any:
    try:
        found = services.get_invoice(db.session, shop_id=shop_id, invoice_id=invoice_id)
    except errors.InvoiceNotFound:
        abort(404)
    return render_template("billing/invoice.html", shop=get_shop(db.session, shop_id), invoice=found)


# -- the developer's side -------------------------------------------------------------------------


def _owned_app(app_id: str) -> App:
    try:
        return get_developer_app(db.session, developer_id=signed_in_user().id, app_id=app_id)
    except AppNotFound:
        abort(404)  # another developer's app: never confirm it exists


def _render_app_billing(app: App, *, failed: tuple[str, RefundForm] | None = None) -> str:
    developer_id = signed_in_user().id
    app_charges = services.developer_charges(db.session, developer_id=developer_id, app_id=app.id)
    return render_template(
        "billing/app_billing.html",
        app=app,
        charges=app_charges,
        refunds=services.refunds_of(db.session, [c.id for c in app_charges]),
        months=services.earnings_report(db.session, developer_id=developer_id, app_id=app.id, by="month"),
        blank_form=RefundForm(formdata=None),
        failed_id=failed[0] if failed else None,
        failed_form=failed[1] if failed else None,
    )


@bp.get("/developer/apps/<app_id>/billing")
@developer_required
def app_billing(app_id: str) -> Any:
    return _render_app_billing(_owned_app(app_id))


@bp.post("/developer/apps/<app_id>/billing/charges/<charge_id>/refund")
@developer_required
def refund(app_id: str, charge_id: str) -> Any:
    app = _owned_app(app_id)
    try:
        charge = services.get_charge(db.session, charge_id=charge_id, app_id=app.id)
    except errors.ChargeNotFound:
        abort(404)
    form = RefundForm()
    if not form.validate_on_submit():
        return _render_app_billing(app, failed=(charge.id, form)), 422
    try:
        services.refund_charge(
            db.session,
            charge=charge,
            amount=to_minor_units(form.amount.data or ""),
            reason=form.reason.data or "",
            created_by=signed_in_user().id,
            now=app_now(),
        )
    except errors.OverRefund as exc:
        db.session.rollback()
        left = int(exc.extra["refundable"])
        form.amount.errors = [_("At most %(left)s is left to refund.", left=format_money(left, charge.currency))]
        return _render_app_billing(app, failed=(charge_id, form)), 422
    except (errors.ChargeNotRefundable, errors.DeveloperBalanceTooLow) as exc:
        db.session.rollback()
        form.amount.errors = [exc.detail]
        return _render_app_billing(app, failed=(charge_id, form)), 409
    db.session.commit()
    flash(_("Refunded: the money is back in the shop's balance."), "success")
    return redirect(url_for("billing_pages.app_billing", app_id=app.id))


@bp.get("/developer/earnings")
@developer_required
def earnings() -> Any:
    developer_id = signed_in_user().id
    by_app = services.earnings_report(db.session, developer_id=developer_id, by="app")
    return render_template(
        "billing/earnings.html",
        balances=services.developer_balances(db.session, developer_id=developer_id),
        by_app=by_app,
        by_month=services.earnings_report(db.session, developer_id=developer_id, by="month"),
        names=services.app_names(db.session, [line.key for line in by_app]),
        minimum=_terms().payout_minimum,
        hold_days=_terms().hold_days,
        payout_form=PayoutForm(formdata=None),
    )


@bp.post("/developer/payouts")
@developer_required
def request_payout() -> Any:
    form = PayoutForm()
    if form.validate_on_submit():
        currency = form.currency.data or ""
        try:
            payout = services.pay_out(
                db.session,
                developer_id=signed_in_user().id,
                currency=currency,
                trigger="request",
                minimum=_terms().payout_minimum,
                now=app_now(),
            )
        except errors.PayoutBelowMinimum as exc:
            db.session.rollback()
            flash(
                _(
                    "%(available)s is available; payouts start at %(minimum)s.",
                    available=format_money(int(exc.extra["available"]), currency),
                    minimum=format_money(int(exc.extra["minimum"]), currency),
                ),
                "error",
            )
            return redirect(url_for("billing_pages.earnings"))
        db.session.commit()
        flash(
            _(
                "Paid out %(amount)s (reference %(reference)s).",
                amount=format_money(payout.amount, currency),
                reference=payout.reference,
            ),
            "success",
        )
    return redirect(url_for("billing_pages.payouts"))


@bp.get("/developer/payouts")
@developer_required
def payouts() -> Any:
    return render_template(
        "billing/payouts.html", payouts=services.payouts_of(db.session, developer_id=signed_in_user().id)
    )
