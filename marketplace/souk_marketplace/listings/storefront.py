"""The public market: browse, search and sort listed apps; an app's page with plans, ratings and Install."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request
from flask_babel import gettext as _
from wtforms.fields.choices import SelectChoice

from souk_marketplace.listings import services
from souk_marketplace.listings.urls import install_link
from souk_marketplace.ratings import services as ratings
from souk_marketplace.ratings.forms import RatingForm
from souk_platform.auth.models import User
from souk_platform.auth.scopes import describe
from souk_platform.core.clock import app_now
from souk_platform.core.money import format_money
from souk_platform.db import db
from souk_platform.shops.services import shops_of
from souk_platform.web.auth import current_user
from souk_platform.web.i18n import current_locale_code

bp = Blueprint("market", __name__)

PAGE_SIZE = 24


def plan_words(plan: dict[str, Any]) -> str:
    """A pricing plan of the manifest in plain words, prices as money."""
    kind = plan.get("kind")
    price = format_money(int(plan.get("price") or 0), str(plan.get("currency") or "CNY"))
    if kind == "free":
        words = _("Free")
    elif kind == "one_time":
        words = _("%(price)s, paid once", price=price)
    elif kind == "recurring" and plan.get("interval") == "year":
        words = _("%(price)s a year", price=price)
    elif kind == "recurring":
        words = _("%(price)s a month", price=price)
    else:
        cap = format_money(int(plan.get("usage_cap") or 0), str(plan.get("currency") or "CNY"))
        words = _("%(price)s base price, plus usage charges up to %(cap)s", price=price, cap=cap)
    if plan.get("trial_days"):
        words += " · " + _("%(days)d-day free trial", days=int(plan["trial_days"]))
    return words


def _page_number() -> int:
    raw = request.args.get("page", "1")
    return int(raw) if raw.isdigit() and 0 < int(raw) <= 1000 else 1


@bp.get("/market")
def index() -> str:
    q = request.args.get("q", "").strip()[:200]
    category = request.args.get("category") or None
    if category not in services.CATEGORIES:
        category = None
    sort = request.args.get("sort", "featured")
    if sort not in services.SORTS:
        sort = "featured"
    page = _page_number()
    entries = services.search_market(
        db.session, q=q, category=category, sort=sort, limit=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE
    )
    return render_template(
        "market/index.html",
        entries=entries[:PAGE_SIZE],
        more=len(entries) > PAGE_SIZE,
        page=page,
        q=q,
        category=category,
        sort=sort,
        categories=services.CATEGORIES,
        counts=services.category_counts(db.session),
        sorts={
            "featured": _("Featured"),
            "installs": _("Most installed"),
            "rating": _("Best rated"),
            "newest": _("Newest"),
        },
        texts_for=services.texts_for,
        locale_code=current_locale_code(),
    )


def _rating_form_for(entry: services.MarketEntry, user: User | None, form: RatingForm | None) -> RatingForm | None:
    """The rating form when the viewer owns a shop that used the app for a day (None otherwise).

    A submitted form comes back with its errors whatever the shops: the person must see why.
    """
    if user is None:
        return None
    now = app_now()
    owned = [shop for shop, role in shops_of(db.session, user.id) if role == "owner"]
    eligible = [shop for shop in owned if ratings.can_rate(db.session, app_id=entry.app.id, shop_id=shop.id, now=now)]
    if form is not None and not eligible:
        eligible = owned
    if not eligible:
        return None
    if form is None:
        form = RatingForm(formdata=None)
        own = ratings.shop_rating(db.session, app_id=entry.app.id, shop_id=eligible[0].id)
        if own is not None:
            form.stars.data, form.text.data = own.stars, own.text
    form.shop_id.choices = [SelectChoice(shop.id, shop.name) for shop in eligible]
    return form


def render_app_page(entry: services.MarketEntry, *, rating_form: RatingForm | None = None) -> str:
    """The app's page (ratings.views re-renders it with a rating form's errors)."""
    user = current_user()
    kind, url = install_link(entry.app, entry.version, entry.submission, with_state=True)
    return render_template(
        "market/app.html",
        entry=entry,
        texts=services.texts_for(entry.submission.texts, current_locale_code()),
        category=services.CATEGORIES.get(entry.listing.category or "", ""),
        plans=[(plan, plan_words(plan)) for plan in entry.version.manifest.get("pricing") or []],
        scopes=[(scope, describe(scope)) for scope in entry.version.scopes],
        summary=ratings.summary(db.session, entry.app.id),
        recent=ratings.recent(db.session, entry.app.id),
        changelog=services.changelog_of(db.session, entry.listing.id),
        developer=db.session.get(User, entry.app.developer_id),
        install_kind=kind,
        install_url=url,
        rating_form=_rating_form_for(entry, user, rating_form),
    )


@bp.get("/market/apps/<ref>")
def app_page(ref: str) -> str:
    return render_app_page(services.find_listed(db.session, ref))  # not listed: a 404 page
