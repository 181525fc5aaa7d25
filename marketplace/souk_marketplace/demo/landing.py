"""The web side of the demo developer's apps, served by Souk itself so that installing one ends on a real page.

A real app's ``/callback`` trades the code for the shop's token and may then ask the merchant for a paid
plan. The demo apps have no server of their own: this page shows what the app received (the code, the
shop, the granted scopes — read from the one-use code, which stays unused) and, for an app with a paid
plan, asks for it through the billing service as the app's API call would, then sends the owner to
Souk's approval page (README tour step 9). Only the demo apps are served here (404 for anything else).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for

from souk_marketplace.billing import errors as billing_errors
from souk_marketplace.billing import services as billing
from souk_marketplace.billing.models import AppSubscription
from souk_marketplace.demo.apps import DEVELOPER_EMAIL, spec_of
from souk_platform.apps.models import App, Installation
from souk_platform.auth.models import User
from souk_platform.auth.services import hash_token
from souk_platform.core.clock import app_now
from souk_platform.db import db
from souk_platform.oauth.models import AuthorizationCode
from souk_platform.shops.services import get_shop, membership
from souk_platform.web.auth import current_user, shop_role_required
from souk_platform.web.forms import EmptyForm

bp = Blueprint("demo_apps", __name__)


def _demo_app_or_404(slug: str) -> tuple[dict[str, Any], App]:
    spec = spec_of(slug)
    app = None
    if spec is not None:
        app = db.session.scalar(
            sa.select(App)
            .join(User, User.id == App.developer_id)
            .where(User.email == DEVELOPER_EMAIL, App.name == spec["name"])
        )
    if spec is None or app is None:
        abort(404)
    return spec, app


def paid_plan(spec: dict[str, Any]) -> dict[str, Any] | None:
    return next((plan for plan in spec["pricing"] if plan.get("kind") == "recurring"), None)


@bp.get("/demo-apps/<slug>")
def about(slug: str) -> Any:
    """The demo app's home page, which is also the privacy policy its listing links to."""
    spec, app = _demo_app_or_404(slug)
    return render_template("demo_apps/about.html", spec=spec, app=app)


@bp.get("/demo-apps/<slug>/callback")
def callback(slug: str) -> Any:
    spec, app = _demo_app_or_404(slug)
    code = request.args.get("code", "")
    grant = None
    if code:
        grant = db.session.scalar(
            sa.select(AuthorizationCode).where(
                AuthorizationCode.code_hash == hash_token(code), AuthorizationCode.app_id == app.id
            )
        )
    installation_id = grant.installation_id if grant else request.args.get("installation", "")
    installation = db.session.get(Installation, installation_id) if installation_id else None
    viewer = current_user()
    if installation is not None and (
        installation.app_id != app.id
        or viewer is None  # only the shop's own staff see which shop installed it
        or membership(db.session, shop_id=installation.shop_id, user_id=viewer.id) is None
    ):
        installation = grant = None
    subscription = None
    if request.args.get("subscription_id"):
        subscription = db.session.get(AppSubscription, request.args["subscription_id"])
        if subscription is None or installation is None or subscription.installation_id != installation.id:
            subscription = None
    return render_template(
        "demo_apps/callback.html",
        spec=spec,
        app=app,
        code=code,
        state=request.args.get("state", ""),
        error=request.args.get("error", ""),
        grant=grant,
        installation=installation,
        shop=get_shop(db.session, installation.shop_id) if installation else None,
        plan=paid_plan(spec),
        subscription=subscription,
        form=EmptyForm(),
    )


@bp.post("/demo-apps/<slug>/shops/<shop_id>/installations/<installation_id>/plan")
@shop_role_required("owner")
def ask_for_plan(slug: str, shop_id: str, installation_id: str) -> Any:
    """What the app's ``POST /api/v1/billing/subscriptions`` does; then on to Souk's approval page."""
    spec, app = _demo_app_or_404(slug)
    plan = paid_plan(spec)
    installation = db.session.get(Installation, installation_id)
    if plan is None or not EmptyForm().validate_on_submit():
        abort(400)
    if installation is None or installation.app_id != app.id or installation.shop_id != shop_id:
        abort(404)
    back = str(current_app.config["SOUK_PUBLIC_URL"]).rstrip("/") + url_for(
        "demo_apps.callback", slug=slug, installation=installation.id
    )
    try:
        sub = billing.create_subscription(
            db.session,
            shop_id=shop_id,
            installation_id=installation.id,
            plan_id=plan["id"],
            return_url=back,
            terms=billing.terms_from_config(current_app.config),
            now=app_now(),
        )
    except billing_errors.AlreadyOnPlan:
        db.session.rollback()
        return redirect(back)
    db.session.commit()
    return redirect(url_for("billing_pages.approve", shop_id=shop_id, object_id=sub.id))
