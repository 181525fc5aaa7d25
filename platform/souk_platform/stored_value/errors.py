"""Errors the stored-value and cashback domain raises."""

from __future__ import annotations

from souk_platform.core.errors import Unprocessable


class InvalidAmount(Unprocessable):
    code = "invalid-amount"
    title = "Invalid amount"


class RefundExceedsSpent(Unprocessable):
    code = "stored-value-refund-exceeds-spent"
    title = "More stored value than the order spent"
