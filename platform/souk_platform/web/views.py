"""Pages: home, login/logout, language switch, and the shop admin's access tokens."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from souk_platform.auth import services as auth_services
from souk_platform.auth.errors import BadCredentials
from souk_platform.auth.models import AccessToken
from souk_platform.core.money import format_money
from souk_platform.db import db
from souk_platform.shops.services import get_shop, shops_of
from souk_platform.web.auth import current_user, shop_role_required
from souk_platform.web.forms import EmptyForm, LoginForm, TokenForm
from souk_platform.web.i18n import LOCALE_NAMES, current_locale_code
from souk_platform.web.links import links_of

bp = Blueprint("web", __name__)


@bp.app_context_processor
def _layout_context() -> dict[str, Any]:
    return {
        "current_user": current_user(),
        "locale_names": LOCALE_NAMES,
        "locale_code": current_locale_code(),
        # Sections packages contribute (souk_platform.web.links): (endpoint, lazily translated label).
        "links": lambda area: links_of(current_app, area),
    }


@bp.app_template_filter("money")
def _money(amount: int, currency: str) -> str:
    """``{{ order.total|money(order.currency) }}`` in every template."""
    return format_money(amount, currency)


@bp.get("/")
def home() -> str:
    user = current_user()
    return render_template("home.html", shops=shops_of(db.session, user.id) if user else [])


@bp.get("/favicon.ico")
def favicon() -> Any:
    """Pages link the SVG icon; this answers clients that ask for the conventional path anyway."""
    return redirect(url_for("static", filename="favicon.svg"), code=301)


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = auth_services.authenticate(db.session, form.email.data or "", form.password.data or "")
        except BadCredentials:
            flash(_("The email or password is not right."), "error")
        else:
            # A language chosen before logging in is what the person reads now: it outlives the
            # fresh session and wins over the one stored on their account.
            chosen_locale = session.get("locale") or user.locale
            session.clear()
            session["user_id"] = user.id
            if chosen_locale:
                session["locale"] = chosen_locale
            target = request.args.get("next") or ""
            # Only same-site paths: never an open redirect.
            return redirect(target if target.startswith("/") and not target.startswith("//") else url_for("web.home"))
    return render_template("login.html", form=form)


@bp.post("/logout")
def logout() -> Any:
    if EmptyForm().validate_on_submit():
        session.clear()
    return redirect(url_for("web.home"))


@bp.get("/language/<code>")
def set_language(code: str) -> Any:
    if code not in current_app.config["SOUK_LOCALES"]:
        abort(404)
    session["locale"] = code
    target = request.args.get("next") or ""
    return redirect(target if target.startswith("/") and not target.startswith("//") else url_for("web.home"))


@bp.route("/shops/<shop_id>/tokens", methods=["GET", "POST"])
@shop_role_required("owner")
def tokens(shop_id: str) -> Any:
    form = TokenForm()
    shown_once = None
    if form.validate_on_submit():
        user = current_user()
        _new_token, shown_once = auth_services.create_access_token(
            db.session,
            shop_id=shop_id,
            name=form.name.data or "",
            scopes=form.scopes.data or [],
            created_by=user.id if user else None,
        )
        db.session.commit()
        flash(_("Token created. Copy it now: it will not be shown again."), "success")
        form = TokenForm(formdata=None)
    listed = db.session.scalars(
        sa.select(AccessToken).where(AccessToken.shop_id == shop_id).order_by(AccessToken.id.desc())
    ).all()
    return render_template(
        "shop/tokens.html",
        shop=get_shop(db.session, shop_id),
        form=form,
        tokens=listed,
        shown_once=shown_once,
        revoke_form=EmptyForm(),
    )


@bp.post("/shops/<shop_id>/tokens/<token_id>/revoke")
@shop_role_required("owner")
def revoke_token(shop_id: str, token_id: str) -> Any:
    if EmptyForm().validate_on_submit():
        auth_services.revoke_access_token(
            db.session, shop_id=shop_id, token_id=token_id, clock=current_app.extensions["souk.clock"]
        )
        db.session.commit()
        flash(_("Token revoked."), "success")
    return redirect(url_for("web.tokens", shop_id=shop_id))
