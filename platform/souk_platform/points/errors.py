"""Errors the points domain raises (and the customer check the loyalty domains share)."""

from __future__ import annotations

from souk_platform.core.errors import NotFound, Unprocessable


class CustomerNotFound(NotFound):
    code = "customer-not-found"
    title = "No such customer"


class InvalidPoints(Unprocessable):
    code = "invalid-points"
    title = "Invalid points amount"


class NothingToRefund(Unprocessable):
    code = "points-refund-exceeds-spent"
    title = "More points than the order spent"
