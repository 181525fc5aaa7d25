"""Webhook console pages: a developer's endpoints and delivery log per app (across the shops that installed
it), and a shop owner's own endpoints.

Both show the endpoints (with a banner for any the platform turned off), the delivery log with filters,
each delivery with every attempt, and the actions: resend, recover what failed since a time, send a test
event, turn an endpoint back on. The shop owner also adds, rotates and deletes endpoints; a new signing
secret is shown once, in the response to the form that made it. The rules live in ``webhooks.services``;
another developer's app or another shop's endpoint is a 404.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any, cast

from flask import Blueprint, Flask, current_app, flash, redirect, render_template, request, url_for
from flask.blueprints import BlueprintSetupState
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from souk_platform.api.pagination import page_of
from souk_platform.apps.models import App
from souk_platform.apps.services import get_developer_app
from souk_platform.apps.views import developer_required
from souk_platform.core.clock import Clock
from souk_platform.db import db
from souk_platform.shops.services import get_shop
from souk_platform.web.auth import current_user, shop_role_required
from souk_platform.web.forms import EmptyForm
from souk_platform.web.links import add_link
from souk_platform.webhooks import catalogue, services
from souk_platform.webhooks.errors import InvalidSubscription, SubscriptionDisabled
from souk_platform.webhooks.forms import EndpointForm, RecoverForm
from souk_platform.webhooks.models import WebhookDelivery, WebhookSubscription
from souk_platform.webhooks.runtime import allow_loopback, runtime_for
from souk_platform.webhooks.services import ConsoleOwner

bp = Blueprint("webhook_pages", __name__)

PAGE_SIZE = 50
STATUSES = ("pending", "succeeded", "failed")
STATUS_NAMES = {"pending": _l("Pending"), "succeeded": _l("Delivered"), "failed": _l("Failed")}
REASONS = {
    services.DISABLED_BY_REQUEST: _l("Turned off by hand."),
    services.DISABLED_GONE: _l("The endpoint answered 410 Gone."),
    services.DISABLED_FAILING: _l("Every delivery to it failed for 5 days."),
}
_FIELD_PROBLEMS = {
    "url": _l("This URL cannot receive webhooks."),
    "topics": _l("These topics cannot be used."),
}


@bp.record_once
def _links(state: BlueprintSetupState) -> None:
    app = cast(Flask, state.app)
    add_link(app, "app_console", "webhook_pages.app_webhooks", _l("Webhooks"))
    add_link(app, "shop", "webhook_pages.shop_webhooks", _l("Webhooks"))


@dataclass(frozen=True)
class Console:
    """Which console a page belongs to, and how its links are built (``app_…`` or ``shop_…`` views)."""

    owner: ConsoleOwner
    kind: str  # "app" | "shop"

    def url(self, view: str, **values: Any) -> str:
        if self.kind == "app":
            values["app_id"] = self.owner.app_id
        else:
            values["shop_id"] = self.owner.shop_id
        return url_for(f"webhook_pages.{self.kind}_{view}", **values)


def _clock() -> Clock:
    clock: Clock = current_app.extensions["souk.clock"]
    return clock


def _app_console(app_id: str) -> tuple[App, Console]:
    user = current_user()
    assert user is not None  # developer_required
    app = get_developer_app(db.session, developer_id=user.id, app_id=app_id)  # another developer's: 404
    return app, Console(ConsoleOwner(app_id=app.id), "app")


def _shop_console(shop_id: str) -> Console:
    return Console(ConsoleOwner(shop_id=shop_id), "shop")


def _event_types() -> list[str]:
    return sorted({*catalogue.CATALOGUE, services.TEST_EVENT_TYPE})


def _filters() -> dict[str, str | None]:
    """The log filters from the query string; unknown values are ignored (never an error page)."""
    status = request.args.get("status") or None
    event_type = request.args.get("event_type") or None
    return {
        "status": status if status in STATUSES else None,
        "event_type": event_type if event_type in _event_types() else None,
    }


def _recover_form() -> RecoverForm:
    form = RecoverForm(formdata=None)
    form.since.data = (_clock().now() - dt.timedelta(days=1)).replace(tzinfo=None, second=0, microsecond=0)
    return form


def _render_console(console: Console, template: str, **context: Any) -> str:
    filters = _filters()
    stmt = services.console_deliveries_stmt(console.owner, **filters)
    page = page_of(db.session, stmt, WebhookDelivery.id, limit=PAGE_SIZE, cursor=request.args.get("cursor") or None)
    endpoints = services.console_endpoints(db.session, console.owner)
    context.setdefault("recover_forms", {})
    return render_template(
        template,
        console=console,
        endpoints=endpoints,
        urls={e.subscription.id: e.subscription.url for e in endpoints},
        page=page,
        filters=filters,
        statuses=STATUSES,
        event_types=_event_types(),
        status_names=STATUS_NAMES,
        reasons=REASONS,
        by_request=services.DISABLED_BY_REQUEST,
        action_form=EmptyForm(),
        blank_recover_form=_recover_form(),
        **context,
    )


def _render_delivery(console: Console, delivery_id: str, **context: Any) -> str:
    delivery = services.console_delivery(db.session, console.owner, delivery_id)
    return render_template(
        "webhooks/delivery.html",
        console=console,
        delivery=delivery,
        subscription=db.session.get(WebhookSubscription, delivery.subscription_id),
        attempts=services.attempts_of(db.session, delivery),
        body=_pretty(delivery.body),
        status_names=STATUS_NAMES,
        action_form=EmptyForm(),
        **context,
    )


def _pretty(text: str | None) -> str | None:
    if text is None:
        return None
    try:
        return json.dumps(json.loads(text), ensure_ascii=False, indent=2)
    except ValueError:
        return text


def _form_ok() -> bool:
    if EmptyForm().validate_on_submit():
        return True
    flash(_("The form has expired. Please try again."), "error")
    return False


def _refused_because_disabled() -> None:
    db.session.rollback()
    flash(_("This endpoint is turned off: turn it on again first."), "error")


# --- actions shared by both consoles ----------------------------------------------------------


def _resend(console: Console, delivery_id: str) -> Any:
    delivery = services.console_delivery(db.session, console.owner, delivery_id)
    subscription = db.session.get(WebhookSubscription, delivery.subscription_id)
    if _form_ok() and subscription is not None:
        try:
            services.resend_delivery(
                db.session,
                shop_id=delivery.shop_id,
                delivery_id=delivery.id,
                installation_id=subscription.installation_id,
                clock=_clock(),
            )
        except SubscriptionDisabled:
            _refused_because_disabled()
        else:
            db.session.commit()
            flash(_("The delivery will be sent again in a moment, with the same webhook-id."), "success")
    return redirect(console.url("delivery", delivery_id=delivery_id))


def _send_test(console: Console, subscription_id: str) -> Any:
    subscription = services.console_subscription(db.session, console.owner, subscription_id)
    if _form_ok():
        try:
            delivery = services.send_test_event(
                db.session,
                shop_id=subscription.shop_id,
                subscription_id=subscription.id,
                installation_id=subscription.installation_id,
                clock=_clock(),
            )
        except SubscriptionDisabled:
            _refused_because_disabled()
        else:
            delivery_id = delivery.id
            db.session.commit()
            flash(_("A test event is on its way. Reload this page to see how the endpoint answered."), "success")
            return redirect(console.url("delivery", delivery_id=delivery_id))
    return redirect(console.url("webhooks"))


def _recover(console: Console, subscription_id: str, render: Any) -> Any:
    subscription = services.console_subscription(db.session, console.owner, subscription_id)
    form = RecoverForm()
    if form.validate_on_submit():
        since = cast(dt.datetime, form.since.data).replace(tzinfo=dt.UTC)
        try:
            recovered = services.recover_failed(
                db.session,
                shop_id=subscription.shop_id,
                subscription_id=subscription.id,
                installation_id=subscription.installation_id,
                since=since,
                clock=_clock(),
            )
        except SubscriptionDisabled:
            _refused_because_disabled()
        except InvalidSubscription:
            db.session.rollback()
            form.since.errors = [_("Deliveries are kept for 14 days: choose a time within them.")]
            return render(recover_forms={subscription.id: form})
        else:
            db.session.commit()
            flash(
                ngettext(
                    "%(num)d failed delivery will be sent again.",
                    "%(num)d failed deliveries will be sent again.",
                    len(recovered),
                ),
                "success",
            )
        return redirect(console.url("webhooks"))
    return render(recover_forms={subscription.id: form})


def _enable(console: Console, subscription_id: str) -> Any:
    subscription = services.console_subscription(db.session, console.owner, subscription_id)
    if _form_ok():
        services.update_subscription(
            db.session,
            shop_id=subscription.shop_id,
            subscription_id=subscription.id,
            installation_id=subscription.installation_id,
            granted_scopes=None,
            changes={"enabled": True},
            expected_version=None,
        )
        db.session.commit()
        flash(_("The endpoint is on again. Recover the deliveries that failed while it was off."), "success")
    return redirect(console.url("webhooks"))


# --- the developer console ------------------------------------------------------------------------


@bp.get("/developer/apps/<app_id>/webhooks")
@developer_required
def app_webhooks(app_id: str) -> Any:
    app, console = _app_console(app_id)
    return _render_console(console, "webhooks/app.html", app=app)


@bp.get("/developer/apps/<app_id>/webhooks/deliveries/<delivery_id>")
@developer_required
def app_delivery(app_id: str, delivery_id: str) -> Any:
    app, console = _app_console(app_id)
    return _render_delivery(console, delivery_id, app=app)


@bp.post("/developer/apps/<app_id>/webhooks/deliveries/<delivery_id>/resend")
@developer_required
def app_resend(app_id: str, delivery_id: str) -> Any:
    return _resend(_app_console(app_id)[1], delivery_id)


@bp.post("/developer/apps/<app_id>/webhooks/endpoints/<subscription_id>/test")
@developer_required
def app_test(app_id: str, subscription_id: str) -> Any:
    return _send_test(_app_console(app_id)[1], subscription_id)


@bp.post("/developer/apps/<app_id>/webhooks/endpoints/<subscription_id>/recover")
@developer_required
def app_recover(app_id: str, subscription_id: str) -> Any:
    app, console = _app_console(app_id)
    return _recover(
        console, subscription_id, lambda **ctx: _render_console(console, "webhooks/app.html", app=app, **ctx)
    )


@bp.post("/developer/apps/<app_id>/webhooks/endpoints/<subscription_id>/enable")
@developer_required
def app_enable(app_id: str, subscription_id: str) -> Any:
    return _enable(_app_console(app_id)[1], subscription_id)


# --- the shop owner's endpoints ---------------------------------------------------------------------


def _render_shop(console: Console, *, form: EndpointForm | None = None, **context: Any) -> str:
    return _render_console(
        console,
        "webhooks/shop.html",
        shop=get_shop(db.session, cast(str, console.owner.shop_id)),
        form=form or EndpointForm(formdata=None),
        topic_catalogue=sorted(catalogue.CATALOGUE.items()),
        **context,
    )


@bp.route("/shops/<shop_id>/webhooks", methods=["GET", "POST"])
@shop_role_required("owner")
def shop_webhooks(shop_id: str) -> Any:
    console = _shop_console(shop_id)
    form = EndpointForm()
    if not form.validate_on_submit():
        return _render_shop(console, form=form)
    try:
        subscription, secret = services.create_subscription(
            db.session,
            shop_id=shop_id,
            url=(form.url.data or "").strip(),
            topics=form.topic_list(),
            description=form.description.data or "",
            installation_id=None,
            granted_scopes=None,
            box=runtime_for(current_app._get_current_object()).box,  # type: ignore[attr-defined]
            clock=_clock(),
            allow_loopback=allow_loopback(current_app),
        )
    except InvalidSubscription as exc:
        db.session.rollback()
        for field, messages in (exc.errors or {}).items():
            if field in _FIELD_PROBLEMS:
                getattr(form, field).errors = [str(_FIELD_PROBLEMS[field]), *messages]
        return _render_shop(console, form=form)
    shown = (subscription.id, secret)
    db.session.commit()
    flash(_("Endpoint added. Copy its signing secret now: it will not be shown again."), "success")
    return _render_shop(console, shown_secret=shown)


@bp.get("/shops/<shop_id>/webhooks/deliveries/<delivery_id>")
@shop_role_required("owner")
def shop_delivery(shop_id: str, delivery_id: str) -> Any:
    return _render_delivery(_shop_console(shop_id), delivery_id, shop=get_shop(db.session, shop_id))


@bp.post("/shops/<shop_id>/webhooks/deliveries/<delivery_id>/resend")
@shop_role_required("owner")
def shop_resend(shop_id: str, delivery_id: str) -> Any:
    return _resend(_shop_console(shop_id), delivery_id)


@bp.post("/shops/<shop_id>/webhooks/endpoints/<subscription_id>/test")
@shop_role_required("owner")
def shop_test(shop_id: str, subscription_id: str) -> Any:
    return _send_test(_shop_console(shop_id), subscription_id)


@bp.post("/shops/<shop_id>/webhooks/endpoints/<subscription_id>/recover")
@shop_role_required("owner")
def shop_recover(shop_id: str, subscription_id: str) -> Any:
    console = _shop_console(shop_id)
    return _recover(console, subscription_id, lambda **ctx: _render_shop(console, **ctx))


@bp.post("/shops/<shop_id>/webhooks/endpoints/<subscription_id>/enable")
@shop_role_required("owner")
def shop_enable(shop_id: str, subscription_id: str) -> Any:
    return _enable(_shop_console(shop_id), subscription_id)


@bp.post("/shops/<shop_id>/webhooks/endpoints/<subscription_id>/rotate-secret")
@shop_role_required("owner")
def shop_rotate_secret(shop_id: str, subscription_id: str) -> Any:
    console = _shop_console(shop_id)
    subscription = services.console_subscription(db.session, console.owner, subscription_id)
    if not _form_ok():
        return redirect(console.url("webhooks"))
    rotated, secret = services.rotate_secret(
        db.session,
        shop_id=shop_id,
        subscription_id=subscription.id,
        installation_id=None,
        box=runtime_for(current_app._get_current_object()).box,  # type: ignore[attr-defined]
        clock=_clock(),
    )
    shown = (rotated.id, secret)
    db.session.commit()
    flash(_("New signing secret issued. The previous one keeps signing too for 24 hours."), "success")
    return _render_shop(console, shown_secret=shown)


@bp.post("/shops/<shop_id>/webhooks/endpoints/<subscription_id>/delete")
@shop_role_required("owner")
def shop_delete(shop_id: str, subscription_id: str) -> Any:
    console = _shop_console(shop_id)
    subscription = services.console_subscription(db.session, console.owner, subscription_id)
    if _form_ok():
        services.delete_subscription(db.session, shop_id=shop_id, subscription_id=subscription.id, installation_id=None)
        db.session.commit()
        flash(_("Endpoint deleted, with its delivery log."), "success")
    return redirect(console.url("webhooks"))
