"""Carts and checkout: thin views over ``checkout.services``."""

from __future__ import annotations

from typing import Any

from flask import request
from flask.views import MethodView

from souk_platform.api import current_principal, etag, expected_version, idempotent, requires, transactional
from souk_platform.api.parsing import Blueprint
from souk_platform.checkout import services
from souk_platform.checkout.schemas import (
    CartCreateSchema,
    CartLineInSchema,
    CartLineQuantitySchema,
    CartSchema,
    CheckoutSchema,
)
from souk_platform.core.clock import app_now
from souk_platform.db import db
from souk_platform.orders.schemas import OrderDetailSchema

blp = Blueprint(
    "carts", __name__, url_prefix="/carts", description="Carts and the checkout that turns one into an order"
)


def _priced(cart: Any) -> Any:
    priced = services.preview_cart(db.session, cart=cart, now=app_now())
    return priced, etag(cart.version)


@blp.route("")
class CartList(MethodView):
    @requires("write_orders")
    @transactional
    @blp.arguments(CartCreateSchema)
    @blp.response(201, CartSchema)
    def post(self, body: dict[str, Any]) -> Any:
        """Open a cart, optionally for a customer and with lines"""
        cart = services.create_cart(
            db.session,
            shop_id=current_principal().shop_id,
            customer_id=body["customer_id"],
            lines=body["lines"],
            now=app_now(),
        )
        priced, headers = _priced(cart)
        return priced, 201, headers


@blp.route("/<cart_id>")
class CartResource(MethodView):
    @requires("read_orders")
    @blp.response(200, CartSchema)
    def get(self, cart_id: str) -> Any:
        """A cart with a priced preview (current prices, stock and automatic promotions)"""
        cart = services.get_cart(db.session, shop_id=current_principal().shop_id, cart_id=cart_id)
        priced, headers = _priced(cart)
        return priced, 200, headers


@blp.route("/<cart_id>/lines")
class CartLines(MethodView):
    @requires("write_orders")
    @transactional
    @blp.arguments(CartLineInSchema)
    @blp.response(201, CartSchema)
    @blp.alt_response(412, description="If-Match names a stale version of the cart")
    def post(self, body: dict[str, Any], cart_id: str) -> Any:
        """Add a SKU to the cart (adding a SKU already in it raises that line's quantity)"""
        cart = services.add_cart_line(
            db.session,
            shop_id=current_principal().shop_id,
            cart_id=cart_id,
            sku_id=body["sku_id"],
            quantity=body["quantity"],
            now=app_now(),
            expected_version=expected_version(),
        )
        priced, headers = _priced(cart)
        return priced, 201, headers


@blp.route("/<cart_id>/lines/<line_id>")
class CartLineResource(MethodView):
    @requires("write_orders")
    @transactional
    @blp.arguments(CartLineQuantitySchema)
    @blp.response(200, CartSchema)
    @blp.alt_response(412, description="If-Match names a stale version of the cart")
    def patch(self, body: dict[str, Any], cart_id: str, line_id: str) -> Any:
        """Change a line's quantity"""
        cart = services.set_cart_line_quantity(
            db.session,
            shop_id=current_principal().shop_id,
            cart_id=cart_id,
            line_id=line_id,
            quantity=body["quantity"],
            now=app_now(),
            expected_version=expected_version(),
        )
        priced, headers = _priced(cart)
        return priced, 200, headers

    @requires("write_orders")
    @transactional
    @blp.response(200, CartSchema)
    @blp.alt_response(412, description="If-Match names a stale version of the cart")
    def delete(self, cart_id: str, line_id: str) -> Any:
        """Remove a line from the cart"""
        cart = services.remove_cart_line(
            db.session,
            shop_id=current_principal().shop_id,
            cart_id=cart_id,
            line_id=line_id,
            now=app_now(),
            expected_version=expected_version(),
        )
        priced, headers = _priced(cart)
        return priced, 200, headers


@blp.route("/<cart_id>/checkout")
class CartCheckout(MethodView):
    @requires("write_orders")
    @idempotent
    @blp.arguments(CheckoutSchema)
    @blp.response(201, OrderDetailSchema)
    @blp.alt_response(409, description="Out of stock, or the cart was already checked out")
    @blp.alt_response(422, description="Invalid cart, coupon, points or stored value; or rejected by risk control")
    def post(self, body: dict[str, Any], cart_id: str) -> Any:
        """Check the cart out: a pending_payment order with its stock reserved (in_review when risk control holds it)"""
        order = services.checkout(
            db.session,
            shop_id=current_principal().shop_id,
            cart_id=cart_id,
            customer_id=body["customer_id"],
            ip=request.remote_addr,
            coupon_codes=body["coupon_codes"],
            points_to_spend=body["points"],
            stored_value_to_spend=body["stored_value"],
            channel=body["channel"],
            device_id=body["device_id"],
            now=app_now(),
        )
        return order, 201, {"Location": f"/api/v1/orders/{order.id}", **etag(order.version)}
