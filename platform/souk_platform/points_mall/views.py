"""积分商城 pages (docs/architecture.md §5.14, §14): the merchant's items (create and edit with cash in yuan,
on and off sale) and redemptions (list, cancel), and the buyer-facing mall at ``/mall/<shop_id>``.

The mall page is public: anyone sees the items on sale. Souk has no customer log-in, so a customer redeems
through a **member link** the merchant opens for them (``/shops/<id>/points-mall/member-link``): the mall URL
with a token signed by the app's secret key naming the shop and the customer (30 days). The pages call the
services the API calls, so a form is refused for the same reasons.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeTimedSerializer
from werkzeug.wrappers import Response

from souk_platform.apps.models import App, Installation
from souk_platform.benefits.models import BenefitPackage
from souk_platform.catalog.models import Product, Sku
from souk_platform.core.clock import app_now
from souk_platform.core.errors import SoukError
from souk_platform.coupons.models import Coupon
from souk_platform.customers.models import Customer
from souk_platform.customers.services import get_customer
from souk_platform.db import db
from souk_platform.orders.services import settle_payment, start_payment
from souk_platform.points.services import points_balance
from souk_platform.points_mall import services
from souk_platform.points_mall.forms import (
    ItemEditForm,
    ItemFields,
    ItemForm,
    PayForm,
    RedeemForm,
    RedemptionCancelForm,
)
from souk_platform.points_mall.models import MallItem, MallRedemption
from souk_platform.shops.services import get_shop
from souk_platform.web import once
from souk_platform.web.auth import shop_role_required, signed_in_user
from souk_platform.web.forms import EmptyForm, refuse_nul_characters
from souk_platform.web.links import add_link
from souk_platform.web.lists import list_page
from souk_platform.web.refusals import refusal

bp = Blueprint("shop_points_mall", __name__)
bp.before_request(refuse_nul_characters)

PAGE_SIZE = 100
MEMBER_LINK_DAYS = 30
_SALT = "souk-points-mall-member"
_CANCELLABLE = ("in_review", "pending_payment", "paid")


@bp.record_once
def _link(state: Any) -> None:
    add_link(state.app, "shop", "shop_points_mall.items", _l("Points mall"))


def _signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key or "", salt=_SALT)


def member_token(shop_id: str, customer_id: str) -> str:
    """The signed token of a member link: the shop and the customer it lets redeem."""
    return str(_signer().dumps({"shop": shop_id, "customer": customer_id}))


def _member(shop_id: str) -> Customer | None:
    """The customer the request's member link names, if it is valid for this shop."""
    token = request.args.get("as") or ""
    if not token:
        return None
    try:
        claims = _signer().loads(token, max_age=MEMBER_LINK_DAYS * 86400)
    except BadSignature:
        return None
    if not isinstance(claims, dict) or claims.get("shop") != shop_id:
        return None
    return db.session.scalar(
        sa.select(Customer).where(Customer.shop_id == shop_id, Customer.id == str(claims.get("customer")))
    )


def _mall_url(shop_id: str, token: str | None) -> str:
    """The mall page, as the member of ``token`` sees it (``as`` is a keyword: passed through a dict)."""
    values: dict[str, Any] = {"shop_id": shop_id, "as": token}
    return url_for("shop_points_mall.mall", **values)


def _mark(form: Any, exc: SoukError) -> bool:
    """Put a service's per-field reasons beside the form's fields; False when none had a place."""
    marked = False
    for key, messages in (exc.errors or {}).items():
        field = getattr(form, key, None)
        if field is not None and hasattr(field, "errors"):
            field.errors = [*field.errors, *messages]
            marked = True
    return marked


def _fields(form: ItemFields) -> dict[str, Any]:
    return {
        "title": (form.title.data or "").strip(),
        "description": (form.description.data or "").strip(),
        "image_url": (form.image_url.data or "").strip() or None,
        "points": form.points.data,
        "cash": form.cash.minor or 0,
        "stock": form.stock.data,
        "per_member_limit": form.per_member_limit.data,
        "limit_period": form.limit_period.data,
        "min_level": int(form.min_level.data) if form.min_level.data else None,
        "status": form.status.data,
        "sort": form.sort.data or 0,
    }


def _choices(shop_id: str, form: ItemForm) -> None:
    """What a new item may give: the shop's SKUs, issued coupons, packages and installed apps."""
    none = [("", "—")]
    skus = db.session.execute(
        sa.select(Sku.id, Sku.title, Product.title.label("product"))
        .join(Product, Product.id == Sku.product_id)
        .where(Sku.shop_id == shop_id)
        .order_by(Product.title, Sku.title)
        .limit(500)
    ).all()
    form.sku_id.choices = none + [(row.id, f"{row.product} {row.title}") for row in skus]
    coupons = db.session.execute(
        sa.select(Coupon.id, Coupon.name)
        .where(Coupon.shop_id == shop_id, Coupon.distribution == "issued", Coupon.status == "active")
        .order_by(Coupon.name)
        .limit(500)
    ).all()
    form.coupon_id.choices = none + [(row.id, row.name) for row in coupons]
    packages = db.session.execute(
        sa.select(BenefitPackage.id, BenefitPackage.name).where(BenefitPackage.shop_id == shop_id).limit(500)
    ).all()
    form.package_id.choices = none + [(row.id, row.name) for row in packages]
    apps = db.session.execute(
        sa.select(Installation.id, App.name)
        .join(App, App.id == Installation.app_id)
        .where(Installation.shop_id == shop_id, Installation.status == "active")
        .limit(200)
    ).all()
    form.installation_id.choices = none + [(row.id, row.name) for row in apps]


# --- the merchant's pages ------------------------------------------------------------------------------


@bp.get("/shops/<shop_id>/points-mall/items", endpoint="items")
@shop_role_required("owner", "staff")
def item_list(shop_id: str) -> str:
    shop = get_shop(db.session, shop_id)
    rows = db.session.scalars(
        services.items_stmt(shop_id).order_by(MallItem.sort, MallItem.id.desc()).limit(PAGE_SIZE)
    ).all()
    sku_ids = {item.sku_id for item in rows if item.sku_id}
    available = {sku.id: sku.available for sku in db.session.scalars(sa.select(Sku).where(Sku.id.in_(sku_ids)))}
    customers = db.session.execute(
        sa.select(Customer.id, Customer.name).where(Customer.shop_id == shop_id).order_by(Customer.name).limit(500)
    ).all()
    return render_template(
        "points_mall/items.html",
        shop=shop,
        items=rows,
        available=available,
        customers=customers,
        toggle=EmptyForm(),
    )


@bp.route("/shops/<shop_id>/points-mall/items/new", methods=["GET", "POST"])
@shop_role_required("owner", "staff")
def new_item(shop_id: str) -> Any:
    shop = get_shop(db.session, shop_id)
    form = ItemForm()
    _choices(shop_id, form)
    if form.validate_on_submit():
        kind = form.kind.data
        fields = {
            **_fields(form),
            "kind": kind,
            "sku_id": (form.sku_id.data or None) if kind == "goods" else None,
            "coupon_id": (form.coupon_id.data or None) if kind == "coupon" else None,
            "package_id": (form.package_id.data or None) if kind == "benefit_package" else None,
            "installation_id": (form.installation_id.data or None) if kind == "app" else None,
            "app_item_code": ((form.app_item_code.data or "").strip() or None) if kind == "app" else None,
        }
        try:
            item = services.create_item(db.session, shop_id=shop_id, fields=fields)
        except SoukError as exc:
            db.session.rollback()
            if not _mark(form, exc):
                flash(_("The item was not created: %(reason)s", reason=refusal(exc)), "error")
        else:
            db.session.commit()
            flash(_("Item created."), "success")
            return redirect(url_for("shop_points_mall.items", shop_id=shop_id, _anchor=item.id))
    return render_template("points_mall/item_new.html", shop=shop, form=form)


@bp.route("/shops/<shop_id>/points-mall/items/<item_id>/edit", methods=["GET", "POST"])
@shop_role_required("owner", "staff")
def edit_item(shop_id: str, item_id: str) -> Any:
    shop = get_shop(db.session, shop_id)
    item = services.get_item(db.session, shop_id=shop_id, item_id=item_id)
    form = ItemEditForm(obj=item) if request.method == "GET" else ItemEditForm()
    if request.method == "GET":
        form.cash.data = f"{item.cash / 100:.2f}" if item.cash else ""
        form.min_level.data = str(item.min_level or "")
    if form.validate_on_submit():
        version = str(form.version.data or "")
        try:
            services.update_item(
                db.session,
                shop_id=shop_id,
                item_id=item.id,
                changes=_fields(form),
                expected_version=int(version) if version.isdigit() else -1,
            )
        except SoukError as exc:
            db.session.rollback()
            if not _mark(form, exc):
                flash(refusal(exc, fields_explain=True), "error")
        else:
            db.session.commit()
            flash(_("Item saved."), "success")
            return redirect(url_for("shop_points_mall.items", shop_id=shop_id, _anchor=item.id))
    return render_template("points_mall/item_edit.html", shop=shop, item=item, form=form)


@bp.post("/shops/<shop_id>/points-mall/items/<item_id>/status")
@shop_role_required("owner", "staff")
def set_status(shop_id: str, item_id: str) -> Response:
    """Put an item on sale or take it off (the form's ``status``); redemptions made stay as they are."""
    form = EmptyForm()
    status = request.form.get("status")
    target = url_for("shop_points_mall.items", shop_id=shop_id)
    if not form.validate_on_submit() or status not in ("on_sale", "off_sale"):
        flash(_("The form was out of date: nothing was changed."), "error")
        return redirect(target)
    try:
        item = services.update_item(
            db.session, shop_id=shop_id, item_id=item_id, changes={"status": status}, expected_version=None
        )
    except SoukError as exc:
        db.session.rollback()
        flash(refusal(exc, fields_explain=True), "error")
        return redirect(target)
    db.session.commit()
    if status == "on_sale":
        flash(_("%(title)s is on sale.", title=item.title), "success")
    else:
        flash(_("%(title)s is off sale.", title=item.title), "success")
    return redirect(target)


@bp.get("/shops/<shop_id>/points-mall/member-link")
@shop_role_required("owner", "staff")
def member_link(shop_id: str) -> Response:
    """Open the mall as one of the shop's customers (the member link a shop would send them)."""
    customer = get_customer(db.session, shop_id=shop_id, customer_id=request.args.get("customer_id") or "")
    return redirect(_mall_url(shop_id, member_token(shop_id, customer.id)))


@bp.get("/shops/<shop_id>/points-mall/redemptions", endpoint="redemptions")
@shop_role_required("owner", "staff")
def redemption_list(shop_id: str) -> str:
    shop = get_shop(db.session, shop_id)
    status = request.args.get("status") or None
    stmt = services.redemptions_stmt(shop_id, status=status if status in _STATUSES else None)
    page, next_url = list_page(db.session, stmt, MallRedemption.id)
    rows: list[MallRedemption] = list(page.items)
    names = dict(
        db.session.execute(
            sa.select(Customer.id, Customer.name).where(
                Customer.shop_id == shop_id, Customer.id.in_({r.customer_id for r in rows})
            )
        ).all()
    )
    titles = dict(
        db.session.execute(
            sa.select(MallItem.id, MallItem.title).where(MallItem.id.in_({r.item_id for r in rows}))
        ).all()
    )
    cancel_forms = {r.id: RedemptionCancelForm() for r in rows if r.status in _CANCELLABLE and r.fulfilled_at is None}
    return render_template(
        "points_mall/redemptions.html",
        shop=shop,
        redemptions=rows,
        names=names,
        titles=titles,
        cancel_forms=cancel_forms,
        status=status,
        statuses=_STATUSES,
        next_url=next_url,
    )


_STATUSES = ("in_review", "pending_payment", "paid", "fulfilled", "cancelled", "refunded")


@bp.post("/shops/<shop_id>/points-mall/redemptions/<redemption_id>/cancel")
@shop_role_required("owner")
def cancel(shop_id: str, redemption_id: str) -> Response:
    """Cancel a redemption before it is fulfilled: points, money and stock back, done once."""
    services.get_redemption(db.session, shop_id=shop_id, redemption_id=redemption_id)
    target = url_for("shop_points_mall.redemptions", shop_id=shop_id)
    form = RedemptionCancelForm()
    if not form.validate_on_submit():
        flash(_("The form was out of date: nothing was changed."), "error")
        return redirect(target)
    now, user_id = app_now(), signed_in_user().id
    earlier = once.claim(db.session, form=form, user_id=user_id, now=now)
    if earlier:
        return once.already_done(earlier)
    try:
        services.cancel_redemption(
            db.session, shop_id=shop_id, redemption_id=redemption_id, reason="cancelled by the shop", now=now
        )
    except SoukError as exc:
        db.session.rollback()
        flash(_("The redemption was not cancelled: %(reason)s", reason=refusal(exc)), "error")
        return redirect(target)
    flash(_("Redemption cancelled: the points and any money paid went back to the member."), "success")
    return once.done(db.session, form=form, user_id=user_id, target=target)


# --- the buyer's mall ----------------------------------------------------------------------------------


@bp.get("/mall/<shop_id>", endpoint="mall")
def mall(shop_id: str) -> str:
    """The shop's points mall as its customers see it: items on sale now; with a member link, redeeming."""
    shop = get_shop(db.session, shop_id)
    now = app_now()
    items = db.session.scalars(
        services.items_stmt(shop_id, status="on_sale")
        .where(
            sa.or_(MallItem.starts_at.is_(None), MallItem.starts_at <= now),
            sa.or_(MallItem.ends_at.is_(None), MallItem.ends_at > now),
        )
        .order_by(MallItem.sort, MallItem.id.desc())
        .limit(PAGE_SIZE)
    ).all()
    member = _member(shop_id)
    context: dict[str, Any] = {"shop": shop, "items": items, "member": member, "token": request.args.get("as")}
    if member is not None:
        context["balance"] = points_balance(db.session, shop_id=shop_id, customer_id=member.id)
        mine = db.session.scalars(
            services.redemptions_stmt(shop_id, customer_id=member.id).order_by(MallRedemption.id.desc()).limit(20)
        ).all()
        context["mine"] = mine
        context["titles"] = {item.id: item.title for item in items} | dict(
            db.session.execute(
                sa.select(MallItem.id, MallItem.title).where(MallItem.id.in_({r.item_id for r in mine}))
            ).all()
        )
        context["redeem_forms"] = {item.id: RedeemForm() for item in items}
        context["pay_forms"] = {r.id: PayForm() for r in mine if r.status == "pending_payment"}
    return render_template("points_mall/mall.html", **context)


@bp.post("/mall/<shop_id>/items/<item_id>/redeem")
def redeem(shop_id: str, item_id: str) -> Response:
    """A member redeems one unit of an item, from their member link; done once however often sent."""
    member = _member(shop_id)
    if member is None:
        abort(404)
    target = _mall_url(shop_id, request.args.get("as"))
    form = RedeemForm()
    if not form.validate_on_submit():
        flash(_("The form was out of date: nothing was changed."), "error")
        return redirect(target)
    now, owner = app_now(), f"customer:{member.id}"
    earlier = once.claim(db.session, form=form, user_id=owner, now=now)
    if earlier:
        return once.already_done(earlier)
    try:
        redemption = services.redeem(
            db.session,
            shop_id=shop_id,
            item_id=item_id,
            customer_id=member.id,
            quantity=1,
            ip=request.remote_addr,
            device_id=None,
            now=now,
        )
    except SoukError as exc:
        db.session.rollback()
        flash(_("Not redeemed: %(reason)s", reason=refusal(exc)), "error")
        return redirect(target)
    if redemption.status == "in_review":
        flash(_("Redeemed: the shop checks it before it goes ahead."), "success")
    elif redemption.status == "pending_payment":
        flash(_("Redeemed: pay the cash part to complete it."), "success")
    else:
        flash(_("Redeemed."), "success")
    return once.done(db.session, form=form, user_id=owner, target=target)


@bp.post("/mall/<shop_id>/redemptions/<redemption_id>/pay")
def pay(shop_id: str, redemption_id: str) -> Response:
    """A member pays the cash part of their redemption with the test payment provider (the demo's payment)."""
    member = _member(shop_id)
    if member is None:
        abort(404)
    redemption = services.get_redemption(db.session, shop_id=shop_id, redemption_id=redemption_id)
    if redemption.customer_id != member.id:
        abort(404)
    target = _mall_url(shop_id, request.args.get("as"))
    form = PayForm()
    if not form.validate_on_submit():
        flash(_("The form was out of date: nothing was changed."), "error")
        return redirect(target)
    now, owner = app_now(), f"customer:{member.id}"
    earlier = once.claim(db.session, form=form, user_id=owner, now=now)
    if earlier:
        return once.already_done(earlier)
    try:
        payment, _created = start_payment(db.session, shop_id=shop_id, order_id=redemption.order_id, now=now)
        if payment.status == "pending":
            settle_payment(
                db.session, shop_id=shop_id, payment_id=payment.id, callback={"outcome": "succeeded"}, now=now
            )
    except SoukError as exc:
        db.session.rollback()
        flash(_("Not paid: %(reason)s", reason=refusal(exc)), "error")
        return redirect(target)
    flash(_("Paid."), "success")
    return once.done(db.session, form=form, user_id=owner, target=target)
