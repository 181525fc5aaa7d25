"""Shop admin pages for benefits (docs/architecture.md §5.10): packages (list, create, edit) and the grants log.

Each page calls the same services as the API, so a merchant's form is refused for the same reasons,
shown next to the field it names.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from souk_platform.benefits import services
from souk_platform.benefits.errors import InvalidGrant, InvalidPackage, PackageDisabled
from souk_platform.benefits.forms import GrantForm, PackageForm
from souk_platform.benefits.models import GRANT_STATUSES, BenefitGrant, BenefitPackage
from souk_platform.core.clock import app_now
from souk_platform.core.money import format_money, to_minor_units
from souk_platform.customers.models import Customer
from souk_platform.db import db
from souk_platform.shops.services import get_shop
from souk_platform.web import once
from souk_platform.web.auth import shop_role_required, signed_in_user
from souk_platform.web.links import add_link

bp = Blueprint("shop_benefits", __name__)

PAGE_SIZE = 100
# The form's fields each item and trigger parameter comes from, to show a refusal next to its field.
_FIELD_OF = {
    "trigger_params.level": "level",
    "trigger_params.days": "dormant_days",
    "trigger_params.when": "birthday_when",
    "points": "points",
    "amount": "stored_value",
    "percent_off": "percent_off",
    "valid_days": "valid_days",
    "name": "name",
    "items": "points",
}


@bp.record_once
def _link(state: Any) -> None:
    add_link(state.app, "shop", "shop_benefits.packages", _l("Benefits"))


def describe_item(item: dict[str, Any], currency: str) -> str:
    """One item in the merchant's words: "200 points", "¥10.00 stored value", "5% off for 30 days"."""
    days = item.get("valid_days")
    kind = item["type"]
    if kind == "points":
        return _("%(points)s points", points=item["points"])
    if kind == "stored_value":
        return _("%(amount)s stored value", amount=format_money(item["amount"], currency))
    if kind == "member_discount":
        return _("%(percent)s%% off every order for %(days)s days", percent=item["percent_off"], days=days)
    if kind == "member_price":
        return _("Member price %(price)s for %(days)s days", price=format_money(item["price"], currency), days=days)
    if kind == "free_shipping":
        return _("Free shipping for %(days)s days", days=days)
    return _("%(name)s (from an app) for %(days)s days", name=item.get("name"), days=days)


def describe_trigger(package: BenefitPackage) -> str:
    params = package.trigger_params
    if package.trigger == "join":
        return _("On joining (入会礼)")
    if package.trigger == "level":
        return _("On reaching V%(level)s (成长礼)", level=params.get("level"))
    if package.trigger == "birthday":
        if params.get("when") == "month":
            return _("In the birthday month (生日礼)")
        return _("On the birthday (生日礼)")
    if package.trigger == "dormant":
        return _("After %(days)s days without a purchase (流失唤醒礼)", days=params.get("days"))
    return _("By hand only")


def _helpers(currency: str) -> dict[str, Any]:
    return {
        "describe_item": lambda item: describe_item(item, currency),
        "describe_trigger": describe_trigger,
    }


@bp.get("/shops/<shop_id>/benefits")
@shop_role_required("owner", "staff")
def packages(shop_id: str) -> str:
    shop = get_shop(db.session, shop_id)
    rows = db.session.scalars(services.packages_stmt(shop_id).order_by(BenefitPackage.id.desc()).limit(PAGE_SIZE))
    counts = dict(
        db.session.execute(
            sa.select(BenefitGrant.package_id, sa.func.count())
            .where(BenefitGrant.shop_id == shop_id)
            .group_by(BenefitGrant.package_id)
        ).all()
    )
    return render_template(
        "benefits/packages.html", shop=shop, packages=list(rows), counts=counts, **_helpers(shop.currency)
    )


def _fields(form: PackageForm, currency: str) -> dict[str, Any]:
    """The API's fields from the form; a ValueError names the form field that is wrong."""
    trigger = form.trigger.data
    params: dict[str, Any] = {}
    if trigger == "level":
        params["level"] = form.level.data
    elif trigger == "birthday":
        params["when"] = form.birthday_when.data
    elif trigger == "dormant":
        params["days"] = form.dormant_days.data
    items: list[dict[str, Any]] = []
    if form.points.data:
        items.append({"type": "points", "points": form.points.data})
    if (form.stored_value.data or "").strip():
        try:
            amount = to_minor_units(form.stored_value.data.strip().removeprefix("¥").removesuffix("元").strip())
        except ValueError:
            raise ValueError("stored_value") from None
        if amount:
            items.append({"type": "stored_value", "amount": amount})
    days = form.valid_days.data or 30
    if form.percent_off.data:
        items.append({"type": "member_discount", "percent_off": form.percent_off.data, "valid_days": days})
    if form.free_shipping.data:
        items.append({"type": "free_shipping", "valid_days": days})
    return {
        "name": form.name.data,
        "description": form.description.data or None,
        "trigger": trigger,
        "trigger_params": params,
        "items": items,
        "status": form.status.data,
    }


def _fill(form: PackageForm, package: BenefitPackage) -> None:
    form.name.data, form.description.data = package.name, package.description
    form.trigger.data, form.status.data = package.trigger, package.status
    form.level.data = package.trigger_params.get("level", 3)
    form.birthday_when.data = package.trigger_params.get("when", "day")
    form.dormant_days.data = package.trigger_params.get("days", 90)
    for item in package.items:
        if item["type"] == "points":
            form.points.data = item["points"]
        elif item["type"] == "stored_value":
            form.stored_value.data = f"{item['amount'] / 100:.2f}"
        elif item["type"] == "member_discount":
            form.percent_off.data, form.valid_days.data = item["percent_off"], item["valid_days"]
        elif item["type"] == "free_shipping":
            form.free_shipping.data, form.valid_days.data = True, item["valid_days"]


def _show_refusal(form: PackageForm, error: InvalidPackage) -> None:
    for key, messages in (error.errors or {}).items():
        tail = key.split(".", 2)[-1] if key.startswith("items.") else key
        field = getattr(form, _FIELD_OF.get(tail, _FIELD_OF.get(key, "name")))
        field.errors = [*field.errors, *messages]


@bp.route("/shops/<shop_id>/benefits/new", methods=["GET", "POST"])
@bp.route("/shops/<shop_id>/benefits/<package_id>/edit", methods=["GET", "POST"])
@shop_role_required("owner")
def edit_package(shop_id: str, package_id: str | None = None) -> Any:
    shop = get_shop(db.session, shop_id)
    package = services.get_package(db.session, shop_id=shop_id, package_id=package_id) if package_id else None
    form = PackageForm()
    if request.method == "GET" and package is not None:
        _fill(form, package)
    if form.validate_on_submit():
        try:
            fields = _fields(form, shop.currency)
        except ValueError:
            form.stored_value.errors = [_("Enter an amount in yuan like 10 or 10.50.")]
        else:
            if not fields["items"]:
                form.points.errors = [_("Give the package at least one item.")]
            else:
                saved = _save(shop_id, package, fields, form)
                if saved is not None:
                    return saved
    return render_template("benefits/edit.html", shop=shop, package=package, form=form)


def _save(shop_id: str, package: BenefitPackage | None, fields: dict[str, Any], form: PackageForm) -> Response | None:
    try:
        if package is None:
            services.create_package(db.session, shop_id=shop_id, fields=fields)
        else:
            # Items the form does not show (member prices, app items) are kept as they were.
            kept = [i for i in package.items if i["type"] in ("member_price", "app_item", "coupon")]
            services.update_package(
                db.session,
                shop_id=shop_id,
                package_id=package.id,
                changes={**fields, "items": fields["items"] + kept},
                expected_version=None,
            )
        db.session.commit()
    except InvalidPackage as error:
        db.session.rollback()
        _show_refusal(form, error)
        return None
    flash(_("Benefit package saved."), "success")
    return redirect(url_for("shop_benefits.packages", shop_id=shop_id))


@bp.get("/shops/<shop_id>/benefit-grants")
@shop_role_required("owner", "staff")
def grants(shop_id: str) -> str:
    shop = get_shop(db.session, shop_id)
    status = request.args.get("status") if request.args.get("status") in GRANT_STATUSES else None
    package_id = request.args.get("package_id") or None
    rows = db.session.execute(
        services.grants_stmt(shop_id, status=status, package_id=package_id)
        .add_columns(Customer.name, BenefitPackage.name)
        .join(Customer, Customer.id == BenefitGrant.customer_id)
        .join(BenefitPackage, BenefitPackage.id == BenefitGrant.package_id)
        .order_by(BenefitGrant.id.desc())
        .limit(PAGE_SIZE)
    ).all()
    return render_template(
        "benefits/grants.html",
        shop=shop,
        rows=rows,
        status=status,
        statuses=GRANT_STATUSES,
        **_helpers(shop.currency),
    )


@bp.route("/shops/<shop_id>/benefits/<package_id>/grant", methods=["GET", "POST"])
@shop_role_required("owner")
def grant_package(shop_id: str, package_id: str) -> Any:
    """Give a package to chosen customers now, once per occasion (the same service as the API)."""
    shop = get_shop(db.session, shop_id)
    package = services.get_package(db.session, shop_id=shop_id, package_id=package_id)
    form = GrantForm()
    customers = db.session.execute(
        sa.select(Customer.id, Customer.name, Customer.phone)
        .where(Customer.shop_id == shop_id)
        .order_by(Customer.name)
        .limit(500)
    ).all()
    form.customer_ids.choices = [(c.id, f"{c.name} · {c.phone}" if c.phone else c.name) for c in customers]
    if form.validate_on_submit():
        now = app_now()
        user_id = signed_in_user().id
        earlier = once.claim(db.session, form=form, user_id=user_id, now=now)
        if earlier:
            return once.already_done(earlier)
        try:
            result = services.grant_by_hand(
                db.session,
                shop_id=shop_id,
                package_id=package.id,
                customer_ids=form.customer_ids.data or [],
                period=(form.period.data or "").strip() or None,
                note=(form.note.data or "").strip() or None,
                now=now,
            )
        except (InvalidGrant, PackageDisabled) as error:
            db.session.rollback()
            form.customer_ids.errors = [*form.customer_ids.errors, error.detail]
        else:
            flash(
                _(
                    "Granted to %(granted)s customers; %(already)s already had it for this occasion.",
                    granted=len(result["granted"]),
                    already=len(result["already_granted"]),
                ),
                "success",
            )
            target = url_for("shop_benefits.grants", shop_id=shop_id, package_id=package.id)
            return once.done(db.session, form=form, user_id=user_id, target=target)
    return render_template("benefits/grant.html", shop=shop, package=package, form=form, **_helpers(shop.currency))
