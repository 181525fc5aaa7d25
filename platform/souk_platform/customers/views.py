"""Back-office pages for customers: the list with filters, and the customer 360 page.

The 360 page reads each domain through its own services — customers, member levels, orders, points,
stored value, tags and behaviour events — and fills its named template blocks (``coupon_wallet``,
``benefits``) with those domains' partials: the wallet and what the customer is entitled to now and why, with the
grants log (docs/architecture.md §14).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from souk_platform.behaviour.models import CustomerEvent
from souk_platform.behaviour.services import list_events_stmt
from souk_platform.benefits.models import BenefitGrant, BenefitPackage
from souk_platform.benefits.services import customer_benefits, grants_stmt
from souk_platform.benefits.views import describe_item
from souk_platform.catalog.services import product_titles, sku_codes
from souk_platform.core.clock import app_now
from souk_platform.core.errors import SoukError
from souk_platform.coupons.views import wallet_entries
from souk_platform.customers import services
from souk_platform.customers.forms import (
    AddIdentityForm,
    AddTagForm,
    CustomerFilterForm,
    ProfileForm,
    RemoveIdentityForm,
    RemoveTagForm,
    SetLevelForm,
    channel_choices,
    gender_choices,
)
from souk_platform.customers.models import Customer
from souk_platform.db import db
from souk_platform.ledger.models import LedgerEntry
from souk_platform.members.forms import multiplier_text, zhe_text
from souk_platform.members.models import MemberLevelChange
from souk_platform.members.services import LEVELS, get_level_config, level_history_stmt, set_customer_level
from souk_platform.orders.models import Order
from souk_platform.orders.services import list_orders_stmt
from souk_platform.points.services import account_entries_stmt, describe_entries, points_account_id, points_summary
from souk_platform.shops.services import get_shop
from souk_platform.stored_value.services import stored_value_summary
from souk_platform.tags.models import Tag
from souk_platform.tags.services import list_tags_stmt, tag_customers, untag_customer
from souk_platform.web.auth import shop_role_required
from souk_platform.web.forms import refuse_nul_characters
from souk_platform.web.i18n import current_locale_code
from souk_platform.web.links import add_link
from souk_platform.web.lists import list_page
from souk_platform.web.refusals import refusal

bp = Blueprint("shop_customers", __name__)
bp.before_request(refuse_nul_characters)

RECENT = 20  # rows of each history the 360 page shows
TIMELINE = 50  # behaviour events on the 360 page


@bp.record_once
def _link(state: Any) -> None:
    add_link(state.app, "shop", "shop_customers.customers", _l("Customers"))


def _level_names(shop_id: str) -> dict[int, str]:
    return {
        int(entry["level"]): str(entry["name"]) for entry in get_level_config(db.session, shop_id=shop_id)["levels"]
    }


def _level_choices(names: dict[int, str]) -> list[tuple[str, str]]:
    return [(str(level), f"V{level} · {names.get(level, '')}") for level in LEVELS]


def _tags(shop_id: str) -> list[Tag]:
    return list(db.session.scalars(list_tags_stmt(shop_id).order_by(Tag.name)))


@bp.get("/shops/<shop_id>/customers")
@shop_role_required("owner", "staff")
def customers(shop_id: str) -> Any:
    shop = get_shop(db.session, shop_id)
    names = _level_names(shop_id)
    form = CustomerFilterForm(request.args)
    form.level.choices = [("", _("All levels")), *_level_choices(names)]
    form.tag.choices = [("", _("All tags"))] + [(tag.id, tag.name) for tag in _tags(shop_id)]
    form.gender.choices = [("", _("Any gender")), *gender_choices()]
    form.source_channel.choices = [("", _("Any source")), *channel_choices()]
    found: list[dict[str, Any]] = []
    next_url = None
    valid = form.validate()
    if valid:
        stmt = services.search_customers_stmt(
            shop_id,
            q=(form.q.data or "").strip() or None,
            level=int(form.level.data) if form.level.data else None,
            tag=form.tag.data or None,
            min_spent=form.min_spent.minor,
            max_spent=form.max_spent.minor,
            gender=form.gender.data or None,
            source_channel=form.source_channel.data or None,
        )
        page, next_url = list_page(db.session, stmt, Customer.id)
        found = services.customer_views(db.session, shop_id=shop_id, customers=page.items)
    html = render_template(
        "customers/list.html", shop=shop, form=form, customers=found, level_names=names, next_url=next_url
    )
    return html, 200 if valid else 400


@bp.get("/shops/<shop_id>/customers/<customer_id>")
@shop_role_required("owner", "staff")
def customer(shop_id: str, customer_id: str) -> str:
    shop = get_shop(db.session, shop_id)
    try:
        found = services.get_customer(db.session, shop_id=shop_id, customer_id=customer_id)
    except SoukError:
        abort(404)
    (view,) = services.customer_views(db.session, shop_id=shop_id, customers=[found])
    names = _level_names(shop_id)
    carried = {tag["id"] for tag in view["tags"]}
    add_tag = AddTagForm()
    add_tag.tag_id.choices = [(t.id, t.name) for t in _tags(shop_id) if t.kind != "rule" and t.id not in carried]
    set_level = SetLevelForm(level=str(found.level))
    set_level.level.choices = _level_choices(names)
    events = db.session.scalars(
        list_events_stmt(shop_id, customer_id=customer_id)
        .order_by(CustomerEvent.occurred_at.desc(), CustomerEvent.id.desc())
        .limit(TIMELINE)
    ).all()
    viewed = {str(e.properties["product_id"]) for e in events if "product_id" in e.properties}
    points_entries = db.session.scalars(
        account_entries_stmt(points_account_id(db.session, shop_id=shop_id, customer_id=customer_id))
        .order_by(LedgerEntry.id.desc())
        .limit(RECENT)
    ).all()
    benefits = customer_benefits(db.session, shop_id=shop_id, customer_id=customer_id, now=app_now())
    priced = [e["sku_id"] for e in benefits["entitlements"] if e["type"] == "member_price"]
    grants = db.session.execute(
        grants_stmt(shop_id, customer_id=customer_id)
        .add_columns(BenefitPackage.name)
        .join(BenefitPackage, BenefitPackage.id == BenefitGrant.package_id)
        .order_by(BenefitGrant.id.desc())
        .limit(RECENT)
    ).all()
    return render_template(
        "customers/detail.html",
        wallet=wallet_entries(shop_id, customer_id, limit=RECENT),
        benefits=benefits,
        grants=grants,
        sku_codes=sku_codes(db.session, shop_id=shop_id, sku_ids=priced),
        describe_item=lambda item: describe_item(item, shop.currency),
        zhe=zhe_text,
        times=multiplier_text,
        shop=shop,
        customer=view,
        level_names=names,
        level_history=db.session.scalars(
            level_history_stmt(shop_id, customer_id).order_by(MemberLevelChange.id.desc()).limit(RECENT)
        ).all(),
        orders=db.session.scalars(
            list_orders_stmt(shop_id, customer_id=customer_id).order_by(Order.created_at.desc()).limit(RECENT)
        ).all(),
        points=points_summary(db.session, shop_id=shop_id, customer_id=customer_id, now=app_now()),
        points_entries=describe_entries(db.session, points_entries),
        stored_value=stored_value_summary(db.session, shop_id=shop_id, customer_id=customer_id, recent=RECENT),
        events=events,
        product_titles=product_titles(db.session, shop_id=shop_id, product_ids=viewed),
        add_tag=add_tag,
        remove_tag=RemoveTagForm(),
        add_identity=AddIdentityForm(),
        remove_identity=RemoveIdentityForm(),
        genders=dict(gender_choices()),
        channels=dict(channel_choices()),
        set_level=set_level,
    )


def _back(shop_id: str, customer_id: str) -> Any:
    return redirect(url_for("shop_customers.customer", shop_id=shop_id, customer_id=customer_id))


@bp.post("/shops/<shop_id>/customers/<customer_id>/tags")
@shop_role_required("owner", "staff")
def add_customer_tag(shop_id: str, customer_id: str) -> Any:
    form = AddTagForm()
    form.tag_id.choices = [(t.id, t.name) for t in _tags(shop_id)]
    if not form.validate_on_submit():
        flash(_("Choose a tag."), "error")
        return _back(shop_id, customer_id)
    try:
        tag_customers(db.session, shop_id=shop_id, tag_id=form.tag_id.data or "", customer_ids=[customer_id])
    except SoukError as exc:
        db.session.rollback()
        flash(refusal(exc), "error")
    else:
        db.session.commit()
        flash(_("Tag added."), "success")
    return _back(shop_id, customer_id)


@bp.post("/shops/<shop_id>/customers/<customer_id>/tags/<tag_id>/remove")
@shop_role_required("owner", "staff")
def remove_customer_tag(shop_id: str, customer_id: str, tag_id: str) -> Any:
    if RemoveTagForm().validate_on_submit():
        try:
            untag_customer(db.session, shop_id=shop_id, tag_id=tag_id, customer_id=customer_id)
        except SoukError as exc:
            db.session.rollback()
            flash(refusal(exc), "error")
        else:
            db.session.commit()
            flash(_("Tag removed."), "success")
    return _back(shop_id, customer_id)


@bp.post("/shops/<shop_id>/customers/<customer_id>/level")
@shop_role_required("owner", "staff")
def set_level(shop_id: str, customer_id: str) -> Any:
    form = SetLevelForm()
    form.level.choices = _level_choices(_level_names(shop_id))
    if not form.validate_on_submit():
        flash(_("Choose a level and give a reason."), "error")
        return _back(shop_id, customer_id)
    try:
        changed = set_customer_level(
            db.session,
            shop_id=shop_id,
            customer_id=customer_id,
            level=int(form.level.data or 0),
            reason=(form.reason.data or "").strip(),
            now=app_now(),
        )
    except SoukError as exc:
        db.session.rollback()
        flash(refusal(exc), "error")
        return _back(shop_id, customer_id)
    db.session.commit()
    flash(_("Level changed.") if changed else _("The customer is already at that level."), "success")
    return _back(shop_id, customer_id)


def _explain(exc: SoukError) -> str:
    """A refusal, with the service's per-field reasons for an English reader (they name the very value)."""
    said = refusal(exc)
    if current_locale_code() == "zh_CN" or not exc.errors:
        return said
    return " ".join([said, *(message for messages in exc.errors.values() for message in messages)])


@bp.route("/shops/<shop_id>/customers/<customer_id>/edit", methods=["GET", "POST"])
@shop_role_required("owner", "staff")
def edit_customer(shop_id: str, customer_id: str) -> Any:
    """The profile editor: it sends the version it showed, so a form left open while someone else saved is
    refused (412) with nothing written (docs/architecture.md §5.6)."""
    shop = get_shop(db.session, shop_id)
    try:
        found = services.get_customer(db.session, shop_id=shop_id, customer_id=customer_id)
    except SoukError:
        abort(404)
    form = ProfileForm()
    if not form.is_submitted():
        form.version.data = str(found.version)
        for name in ("name", "phone", "email", "birthday", "gender"):
            getattr(form, name).data = getattr(found, name)
        form.source_channel.data = found.source_channel or ""
    elif form.validate():
        try:
            version = int(form.version.data or "")
        except ValueError:
            abort(400)
        try:
            services.update_customer(
                db.session,
                shop_id=shop_id,
                customer_id=found.id,
                changes=form.changes(),
                expected_version=version,
                version_required=True,
                now=app_now(),
            )
        except SoukError as exc:
            db.session.rollback()
            flash(refusal(exc, fields_explain=bool(exc.errors)), "error")
            for name, messages in (exc.errors or {}).items():
                field = getattr(form, name, None)
                if field is not None:
                    field.errors = [*field.errors, *messages]
        else:
            db.session.commit()
            flash(_("Profile saved."), "success")
            return _back(shop_id, customer_id)
    status = 422 if form.is_submitted() else 200
    return render_template("customers/edit.html", shop=shop, customer=found, form=form), status


@bp.post("/shops/<shop_id>/customers/<customer_id>/identities")
@shop_role_required("owner", "staff")
def add_customer_identity(shop_id: str, customer_id: str) -> Any:
    form = AddIdentityForm()
    if not form.validate_on_submit():
        flash(_("Give the system and the id it knows the customer by."), "error")
        return _back(shop_id, customer_id)
    try:
        _identity, new = services.add_identity(
            db.session,
            shop_id=shop_id,
            customer_id=customer_id,
            provider=(form.provider.data or "").strip(),
            external_id=form.external_id.data or "",
        )
    except SoukError as exc:
        db.session.rollback()
        if exc.status == 404:
            abort(404)
        flash(_explain(exc), "error")
        return _back(shop_id, customer_id)
    db.session.commit()
    flash(_("Identity added.") if new else _("The customer already has this identity."), "success")
    return _back(shop_id, customer_id)


@bp.post("/shops/<shop_id>/customers/<customer_id>/identities/<identity_id>/remove")
@shop_role_required("owner", "staff")
def remove_customer_identity(shop_id: str, customer_id: str, identity_id: str) -> Any:
    if RemoveIdentityForm().validate_on_submit():
        try:
            services.remove_identity(db.session, shop_id=shop_id, customer_id=customer_id, identity_id=identity_id)
        except SoukError as exc:
            db.session.rollback()
            if exc.status == 404:
                abort(404)
            flash(refusal(exc), "error")
        else:
            db.session.commit()
            flash(_("Identity removed."), "success")
    return _back(shop_id, customer_id)
