"""Order, payment and refund problems, each with a stable problem ``type`` code."""

from __future__ import annotations

from souk_platform.core.errors import Conflict, InvalidState, NotFound, Unprocessable


class OrderNotFound(NotFound):
    code = "order-not-found"
    title = "No such order"


class PaymentNotFound(NotFound):
    code = "payment-not-found"
    title = "No such payment"


class IllegalTransition(InvalidState):
    """The state-machine table does not allow this move (code ``invalid-state-transition``)."""


class PaymentAlreadySettled(Conflict):
    code = "payment-already-settled"
    title = "The payment already has a different outcome"


class RefundInvalid(Unprocessable):
    code = "refund-invalid"
    title = "The refund request is not valid for this order"


class OverRefund(Unprocessable):
    code = "over-refund"
    title = "The refund is more than is left to refund"


class RefundRejected(Unprocessable):
    code = "refund-rejected"
    title = "The refund was rejected"


class ShopBalanceTooLow(Conflict):
    code = "insufficient-shop-balance"
    title = "The shop's balance cannot cover this refund"
