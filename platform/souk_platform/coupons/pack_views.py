"""Merchant pages for 付费券包 coupon packs (docs/architecture.md §5.9, §14): the list, a new pack with its
price typed in yuan and its issued coupons and quantities, editing the sale, putting a pack on or off sale,
and a pack's sales with a once-only refund of an unused pack.

The pages call the services the API calls (``coupons.packs``; a refund is the order's own refund,
``orders.services.create_refund``), so a form is refused for the same reasons, shown beside its field.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from souk_platform.core.clock import app_now
from souk_platform.core.errors import SoukError
from souk_platform.core.money import format_money
from souk_platform.coupons import packs, services
from souk_platform.coupons.forms import PackEditForm, PackForm, PackRefundForm
from souk_platform.coupons.models import Coupon, CouponPack, CouponPackPurchase
from souk_platform.customers.models import Customer
from souk_platform.db import db
from souk_platform.orders.services import create_refund
from souk_platform.shops.services import get_shop
from souk_platform.web import once
from souk_platform.web.auth import shop_role_required, signed_in_user
from souk_platform.web.forms import EmptyForm, refuse_nul_characters
from souk_platform.web.links import add_link
from souk_platform.web.lists import list_page
from souk_platform.web.refusals import refusal

bp = Blueprint("shop_coupon_packs", __name__)
bp.before_request(refuse_nul_characters)

PAGE_SIZE = 100
_SALE_FIELDS = ("name", "stock", "per_customer_limit", "refund_days", "status")


@bp.record_once
def _link(state: Any) -> None:
    add_link(state.app, "shop", "shop_coupon_packs.packs", _l("Coupon packs"))


def _coupon_names(shop_id: str) -> dict[str, str]:
    rows = db.session.execute(sa.select(Coupon.id, Coupon.name).where(Coupon.shop_id == shop_id)).all()
    return {row.id: row.name for row in rows}


@bp.get("/shops/<shop_id>/coupon-packs", endpoint="packs")
@shop_role_required("owner", "staff")
def pack_list(shop_id: str) -> str:
    shop = get_shop(db.session, shop_id)
    rows = db.session.scalars(packs.packs_stmt(shop_id).order_by(CouponPack.id.desc()).limit(PAGE_SIZE)).all()
    paid = dict(
        db.session.execute(
            sa.select(CouponPackPurchase.pack_id, sa.func.count())
            .where(CouponPackPurchase.shop_id == shop_id, CouponPackPurchase.status == "paid")
            .group_by(CouponPackPurchase.pack_id)
        ).all()
    )
    return render_template(
        "coupons/packs.html",
        shop=shop,
        packs=rows,
        paid=paid,
        coupon_names=_coupon_names(shop_id),
        toggle=EmptyForm(),
    )


def _issued_coupons(shop_id: str) -> list[tuple[str, str]]:
    """The coupons a pack may hold: the shop's active issued coupons."""
    rows = db.session.execute(
        services.coupons_stmt(shop_id)
        .with_only_columns(Coupon.id, Coupon.name, Coupon.code)
        .where(Coupon.distribution == "issued", Coupon.status == "active")
        .order_by(Coupon.name)
        .limit(500)
    ).all()
    return [("", "—")] + [(row.id, f"{row.name} ({row.code})" if row.code else row.name) for row in rows]


def _sale_fields(form: PackForm | PackEditForm) -> dict[str, Any]:
    return {
        "name": (form.name.data or "").strip(),
        "stock": form.stock.data,
        "per_customer_limit": form.per_customer_limit.data,
        "refund_days": form.refund_days.data,
        "status": form.status.data,
    }


def _mark(form: Any, exc: SoukError, field_of: dict[str, Any]) -> bool:
    """Put a service's per-field reasons beside the form's fields; False when none had a place."""
    marked = False
    for key, messages in (exc.errors or {}).items():
        field = field_of.get(key) or getattr(form, key, None)
        if field is not None and hasattr(field, "errors"):
            field.errors = [*field.errors, *messages]
            marked = True
    return marked


@bp.route("/shops/<shop_id>/coupon-packs/new", methods=["GET", "POST"])
@shop_role_required("owner", "staff")
def new_pack(shop_id: str) -> Any:
    shop = get_shop(db.session, shop_id)
    form = PackForm()
    choices = _issued_coupons(shop_id)
    for entry in form.items:
        entry.form.coupon_id.choices = choices
    if form.validate_on_submit():
        rows = [entry for entry in form.items if entry.form.coupon_id.data]
        if not rows:
            form.items.errors.append(_("Choose at least one coupon for the pack."))
        elif not form.price.minor:
            form.price.errors = [_("The price must be more than 0.")]
        else:
            fields = {
                **_sale_fields(form),
                "price": form.price.minor,
                "items": [{"coupon_id": e.form.coupon_id.data, "quantity": e.form.quantity.data or 1} for e in rows],
            }
            # The service names items by their place among the chosen rows: items.<i>.coupon_id.
            field_of: dict[str, Any] = {f"items.{i}.coupon_id": e.form.coupon_id for i, e in enumerate(rows)}
            field_of["items"] = field_of.get("items.0.coupon_id")
            try:
                pack = packs.create_pack(db.session, shop_id=shop_id, fields=fields)
            except SoukError as exc:
                db.session.rollback()
                if not _mark(form, exc, field_of):
                    flash(_("The coupon pack was not created: %(reason)s", reason=refusal(exc)), "error")
            else:
                db.session.commit()
                flash(_("Coupon pack created."), "success")
                return redirect(url_for("shop_coupon_packs.packs", shop_id=shop_id, _anchor=pack.id))
    return render_template("coupons/pack_new.html", shop=shop, form=form)


@bp.route("/shops/<shop_id>/coupon-packs/<pack_id>/edit", methods=["GET", "POST"])
@shop_role_required("owner", "staff")
def edit_pack(shop_id: str, pack_id: str) -> Any:
    shop = get_shop(db.session, shop_id)
    pack = packs.get_pack(db.session, shop_id=shop_id, pack_id=pack_id)
    form = PackEditForm(obj=pack) if request.method == "GET" else PackEditForm()
    if form.validate_on_submit():
        version = str(form.version.data or "")
        try:
            packs.update_pack(
                db.session,
                shop_id=shop_id,
                pack_id=pack.id,
                changes=_sale_fields(form),
                expected_version=int(version) if version.isdigit() else -1,
            )
        except SoukError as exc:
            db.session.rollback()
            if not _mark(form, exc, {}):
                flash(refusal(exc, fields_explain=True), "error")
        else:
            db.session.commit()
            flash(_("Coupon pack saved."), "success")
            return redirect(url_for("shop_coupon_packs.packs", shop_id=shop_id, _anchor=pack.id))
    return render_template(
        "coupons/pack_edit.html", shop=shop, pack=pack, form=form, coupon_names=_coupon_names(shop_id)
    )


@bp.post("/shops/<shop_id>/coupon-packs/<pack_id>/status")
@shop_role_required("owner", "staff")
def set_status(shop_id: str, pack_id: str) -> Response:
    """Put a pack on sale or take it off (the form's ``status``); its buyers keep what they bought."""
    form = EmptyForm()
    status = request.form.get("status")
    target = url_for("shop_coupon_packs.packs", shop_id=shop_id)
    if not form.validate_on_submit() or status not in ("active", "disabled"):
        flash(_("The form was out of date: nothing was changed."), "error")
        return redirect(target)
    try:
        pack = packs.update_pack(
            db.session, shop_id=shop_id, pack_id=pack_id, changes={"status": status}, expected_version=None
        )
    except SoukError as exc:
        db.session.rollback()
        flash(refusal(exc, fields_explain=True), "error")
        return redirect(target)
    db.session.commit()
    flash(
        _("%(name)s is on sale.", name=pack.name) if status == "active" else _("%(name)s is off sale.", name=pack.name),
        "success",
    )
    return redirect(target)


@bp.get("/shops/<shop_id>/coupon-packs/<pack_id>/sales")
@shop_role_required("owner", "staff")
def sales(shop_id: str, pack_id: str) -> str:
    shop = get_shop(db.session, shop_id)
    pack = packs.get_pack(db.session, shop_id=shop_id, pack_id=pack_id)
    page, next_url = list_page(
        db.session, packs.purchases_stmt(db.session, shop_id=shop_id, pack_id=pack.id), CouponPackPurchase.id
    )
    purchases: list[CouponPackPurchase] = list(page.items)
    buyers = dict(
        db.session.execute(
            sa.select(Customer.id, Customer.name).where(
                Customer.shop_id == shop_id, Customer.id.in_({p.customer_id for p in purchases})
            )
        ).all()
    )
    refusals = packs.refund_refusals(db.session, pack=pack, purchases=purchases, now=app_now())
    refund_forms = {p.id: PackRefundForm() for p in purchases if refusals[p.id] is None}
    return render_template(
        "coupons/pack_sales.html",
        shop=shop,
        pack=pack,
        purchases=purchases,
        buyers=buyers,
        refusals=refusals,
        refund_forms=refund_forms,
        next_url=next_url,
        coupon_names=_coupon_names(shop_id),
    )


@bp.post("/shops/<shop_id>/coupon-packs/<pack_id>/sales/<purchase_id>/refund")
@shop_role_required("owner")
def refund(shop_id: str, pack_id: str, purchase_id: str) -> Response:
    """Refund one unused pack in full: the order's refund (money back through the ledger, the pack's
    unused coupons revoked, the pack back on sale), done once however often the form is sent."""
    purchase = packs.get_purchase(db.session, shop_id=shop_id, pack_id=pack_id, purchase_id=purchase_id)
    target = url_for("shop_coupon_packs.sales", shop_id=shop_id, pack_id=pack_id)
    form = PackRefundForm()
    if not form.validate_on_submit():
        flash(_("The form was out of date: nothing was refunded."), "error")
        return redirect(target)
    now = app_now()
    user_id = signed_in_user().id
    earlier = once.claim(db.session, form=form, user_id=user_id, now=now)
    if earlier:
        return once.already_done(earlier)
    try:
        done = create_refund(
            db.session,
            shop_id=shop_id,
            order_id=purchase.order_id,
            amount=None,
            lines=None,
            reason="Coupon pack refunded by the shop",
            restock=False,
            now=now,
        )
    except SoukError as exc:
        db.session.rollback()
        flash(_("The pack was not refunded: %(reason)s", reason=refusal(exc)), "error")
        return redirect(target)
    amount = format_money(done.amount + done.stored_value_amount, get_shop(db.session, shop_id).currency)
    flash(_("Refunded %(amount)s; the pack's unused coupons were taken back.", amount=amount), "success")
    return once.done(db.session, form=form, user_id=user_id, target=target)
