"""Errors the coupons domain raises."""

from __future__ import annotations

from souk_platform.core.errors import Conflict, InvalidState, NotFound, Unprocessable


class CouponNotFound(NotFound):
    code = "coupon-not-found"
    title = "No such coupon"


class CouponNotApplicable(Unprocessable):
    """A code that cannot be used on this order: unknown, expired, disabled, spend too low, or used up."""

    code = "coupon-not-applicable"
    title = "A coupon cannot be applied"


class InvalidCoupon(Unprocessable):
    code = "invalid-coupon"
    title = "The coupon's settings are not valid"


class DuplicateCouponCode(Conflict):
    code = "duplicate-coupon-code"
    title = "Another coupon already has this code"


class CouponInUse(Conflict):
    code = "coupon-in-use"
    title = "The coupon has redemptions"


class CouponNotClaimable(Conflict):
    """A customer's claim: the coupon is not public, not active or not in its window, or its limits are reached."""

    code = "coupon-not-claimable"
    title = "The customer cannot claim this coupon"


class CouponNotIssuable(Conflict):
    """Issuing into a wallet: the coupon is public, disabled or over, or its limits are reached."""

    code = "coupon-not-issuable"
    title = "The coupon cannot be issued to this customer"


class IllegalWalletMove(InvalidState):
    code = "invalid-state-transition"
    title = "The wallet coupon is not in a state that allows this"


class CouponIssueNotFound(NotFound):
    code = "coupon-issue-not-found"
    title = "No such coupon issue"


class InvalidIssue(Unprocessable):
    code = "invalid-coupon-issue"
    title = "The issue request is not valid"


class CouponPackNotFound(NotFound):
    code = "coupon-pack-not-found"
    title = "No such coupon pack"


class InvalidCouponPack(Unprocessable):
    code = "invalid-coupon-pack"
    title = "The coupon pack's settings are not valid"


class CouponPackUnavailable(Conflict):
    """Not on sale now, sold out, or the customer bought as many as allowed."""

    code = "coupon-pack-unavailable"
    title = "The coupon pack cannot be bought now"


class CouponPackNotRefundable(Conflict):
    code = "coupon-pack-not-refundable"
    title = "The coupon pack purchase cannot be refunded"
