"""Rating pages: a shop owner rates an app on its market page; the developer replies in the console."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from souk_marketplace.listings import services as listings
from souk_marketplace.listings.storefront import render_app_page
from souk_marketplace.ratings import services
from souk_marketplace.ratings.errors import AlreadyReplied, InvalidRating
from souk_marketplace.ratings.forms import RatingForm, ReplyForm
from souk_platform.apps.services import get_developer_app
from souk_platform.apps.views import developer_required
from souk_platform.core.clock import app_now
from souk_platform.core.errors import SoukError
from souk_platform.db import db
from souk_platform.shops.services import membership
from souk_platform.web.auth import current_user, login_required

bp = Blueprint("ratings", __name__)

CONSOLE_LIMIT = 200  # the most recent ratings on the console page; the API pages through all of them


@bp.post("/market/apps/<ref>/rating")
@login_required
def rate(ref: str) -> Any:
    entry = listings.find_listed(db.session, ref)
    user = current_user()
    assert user is not None
    form = RatingForm()
    if not form.validate_on_submit():
        return render_app_page(entry, rating_form=form)
    member = membership(db.session, shop_id=form.shop_id.data or "", user_id=user.id)
    if member is None or member.role != "owner":
        form.shop_id.errors = [_("Choose one of the shops you own.")]
        return render_app_page(entry, rating_form=form)
    try:
        services.rate_app(
            db.session,
            app_id=entry.app.id,
            shop_id=member.shop_id,
            stars=int(form.stars.data or 0),
            text=form.text.data or "",
            now=app_now(),
        )
    except InvalidRating as exc:
        db.session.rollback()
        for field, messages in (exc.errors or {}).items():
            form[field].errors = list(messages)
        return render_app_page(entry, rating_form=form)
    except SoukError as exc:  # never installed, or not used for a day yet
        db.session.rollback()
        form.shop_id.errors = [exc.detail]
        return render_app_page(entry, rating_form=form)
    db.session.commit()
    flash(_("Thank you: your rating is published."), "success")
    return redirect(url_for("market.app_page", ref=entry.listing.slug))


def _render_console(app_id: str, reply_errors: dict[str, list[str]] | None = None) -> str:
    user = current_user()
    assert user is not None
    app = get_developer_app(db.session, developer_id=user.id, app_id=app_id)
    return render_template(
        "ratings/console.html",
        app=app,
        summary=services.summary(db.session, app.id),
        ratings=services.recent(db.session, app.id, limit=CONSOLE_LIMIT),
        reply_form=ReplyForm(formdata=None),
        reply_errors=reply_errors or {},
        listing=listings.listing_for_app(db.session, app.id),
    )


@bp.get("/developer/apps/<app_id>/ratings")
@developer_required
def console(app_id: str) -> str:
    return _render_console(app_id)


@bp.post("/developer/apps/<app_id>/ratings/<rating_id>/reply")
@developer_required
def reply(app_id: str, rating_id: str) -> Any:
    user = current_user()
    assert user is not None
    app = get_developer_app(db.session, developer_id=user.id, app_id=app_id)
    form = ReplyForm()
    if not form.validate_on_submit():
        return _render_console(app.id, {rating_id: list(form.text.errors)})
    try:
        services.reply(db.session, app_id=app.id, rating_id=rating_id, text=form.text.data or "", now=app_now())
    except InvalidRating as exc:
        db.session.rollback()
        return _render_console(app.id, {rating_id: [exc.detail]})
    except AlreadyReplied as exc:  # the page no longer shows a form for it: say so at the top
        db.session.rollback()
        flash(exc.detail, "error")
        return redirect(url_for("ratings.console", app_id=app.id))
    db.session.commit()
    flash(_("Your reply is published under the rating."), "success")
    return redirect(url_for("ratings.console", app_id=app.id))
