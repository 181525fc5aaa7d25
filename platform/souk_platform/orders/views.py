"""Shop admin pages for orders: the list, one order with its discounts and fees, and a test order.

A test order goes through the same checkout pipeline as an API checkout — extension points and
installed apps' plugins included — so a merchant can see what a plugin does to a real cart.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, flash, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from souk_platform.benefits.rights import package_names
from souk_platform.catalog.models import Product, Sku
from souk_platform.checkout.services import checkout, create_cart
from souk_platform.core.clock import app_now
from souk_platform.core.errors import SoukError
from souk_platform.core.money import format_money
from souk_platform.customers.models import Customer
from souk_platform.db import db
from souk_platform.orders import services
from souk_platform.orders.forms import TestOrderForm
from souk_platform.shops.services import get_shop
from souk_platform.web import once
from souk_platform.web.auth import shop_role_required, signed_in_user
from souk_platform.web.links import add_link

bp = Blueprint("shop_orders", __name__)

PAGE_SIZE = 50


@bp.record_once
def _link(state: Any) -> None:
    add_link(state.app, "shop", "shop_orders.orders", _l("Orders"))


@bp.get("/shops/<shop_id>/orders")
@shop_role_required("owner", "staff")
def orders(shop_id: str) -> str:
    recent = db.session.scalars(services.list_orders_stmt(shop_id).limit(PAGE_SIZE)).all()
    return render_template("orders/list.html", shop=get_shop(db.session, shop_id), orders=recent)


@bp.get("/shops/<shop_id>/orders/<order_id>")
@shop_role_required("owner", "staff")
def order(shop_id: str, order_id: str) -> str:
    found = services.get_order(db.session, shop_id=shop_id, order_id=order_id)
    names = package_names(
        db.session,
        shop_id=shop_id,
        package_ids=[line.benefit_package_id for line in found.lines]
        + [fee.get("benefit_package_id") for fee in found.fees],
    )
    return render_template("orders/detail.html", shop=get_shop(db.session, shop_id), order=found, package_names=names)


def _choices(shop_id: str, currency: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    skus = db.session.execute(
        sa.select(Sku.id, Product.title, Sku.code, Sku.price)
        .join(Product, Product.id == Sku.product_id)
        .where(Sku.shop_id == shop_id, Product.status == "active")
        .order_by(Product.title, Sku.code)
        .limit(200)
    ).all()
    sku_choices = [("", "—")] + [(s.id, f"{s.title} ({s.code}) · {format_money(s.price, currency)}") for s in skus]
    customers = db.session.execute(
        sa.select(Customer.id, Customer.name).where(Customer.shop_id == shop_id).order_by(Customer.name).limit(200)
    ).all()
    return sku_choices, [("", _("Guest"))] + [(c.id, c.name) for c in customers]


@bp.route("/shops/<shop_id>/orders/new", methods=["GET", "POST"])
@shop_role_required("owner", "staff")
def new_test_order(shop_id: str) -> Any:
    shop = get_shop(db.session, shop_id)
    form = TestOrderForm()
    sku_choices, customer_choices = _choices(shop_id, shop.currency)
    form.customer_id.choices = customer_choices
    for entry in form.lines:
        entry.form.sku_id.choices = sku_choices
    if form.validate_on_submit():
        lines = [
            {"sku_id": entry.form.sku_id.data, "quantity": entry.form.quantity.data or 1}
            for entry in form.lines
            if entry.form.sku_id.data
        ]
        if not lines:
            form.lines.errors.append(_("Choose at least one product."))
        else:
            user_id = signed_in_user().id
            earlier = once.claim(db.session, form=form, user_id=user_id, now=app_now())
            if earlier:
                return once.already_done(earlier)
            placed = _place(shop_id, form, lines)
            if placed is not None:
                target = url_for("shop_orders.order", shop_id=shop_id, order_id=placed)
                return once.done(db.session, form=form, user_id=user_id, target=target)
    return render_template("orders/new.html", shop=shop, form=form)


def _place(shop_id: str, form: TestOrderForm, lines: list[dict[str, Any]]) -> str | None:
    """Check out (and pay), committed by the caller; on a refusal show the pipeline's own words."""
    now = app_now()
    customer_id = form.customer_id.data or None
    code = (form.coupon_code.data or "").strip()
    try:
        cart = create_cart(db.session, shop_id=shop_id, customer_id=customer_id, lines=lines, now=now)
        order = checkout(
            db.session,
            shop_id=shop_id,
            cart_id=cart.id,
            customer_id=customer_id,
            ip="127.0.0.1",
            coupon_codes=[code] if code else [],
            points_to_spend=0,
            stored_value_to_spend=0,
            channel=form.channel.data,
            now=now,
        )
        if form.pay.data and order.status == "pending_payment":  # an order held for risk review waits
            payment, _created = services.start_payment(db.session, shop_id=shop_id, order_id=order.id, now=now)
            if payment.status == "pending":
                services.settle_payment(
                    db.session, shop_id=shop_id, payment_id=payment.id, callback={"outcome": "succeeded"}, now=now
                )
        db.session.flush()
    except SoukError as exc:
        db.session.rollback()
        flash(_("The checkout refused this order: %(reason)s", reason=exc.detail), "error")
        return None
    flash(_("Order placed."), "success")
    return order.id
