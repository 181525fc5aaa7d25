"""Checkout problems, each with a stable problem ``type`` code."""

from __future__ import annotations

from souk_platform.core.errors import InvalidState, NotFound, Unprocessable


class CartNotFound(NotFound):
    code = "cart-not-found"
    title = "No such cart"


class CartLineNotFound(NotFound):
    code = "cart-line-not-found"
    title = "No such cart line"


class CartNotOpen(InvalidState):
    code = "cart-not-open"
    title = "The cart was already checked out or abandoned"


class CartInvalid(Unprocessable):
    code = "cart-invalid"
    title = "The cart cannot be checked out"


class CheckoutInvalid(Unprocessable):
    code = "checkout-invalid"
    title = "The checkout request cannot be applied to this cart"


class OrderRejected(Unprocessable):
    """The ``order.validate`` step (risk control) denied the order; ``rule`` names the rule."""

    code = "order-rejected"
    title = "The order was rejected by risk control"
