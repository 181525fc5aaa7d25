"""Billing problems, each with a stable problem ``type`` code."""

from __future__ import annotations

from souk_platform.core.errors import Conflict, Forbidden, InvalidState, NotFound, Unprocessable


class SubscriptionNotFound(NotFound):
    code = "app-subscription-not-found"
    title = "No such app subscription"


class ChargeNotFound(NotFound):
    code = "app-charge-not-found"
    title = "No such app charge"


class InvoiceNotFound(NotFound):
    code = "invoice-not-found"
    title = "No such invoice"


class InstallationTokenRequired(Forbidden):
    code = "installation-token-required"
    title = "Only the app's own installation token may do this"


class StaffTokenRequired(Forbidden):
    code = "staff-token-required"
    title = "Only the shop's own staff tokens may do this"


class NotTheAppsCharge(Forbidden):
    code = "not-the-apps-charge"
    title = "Only the app that made the charge may refund it"


class InvalidBillingRequest(Unprocessable):
    code = "billing-request-invalid"
    title = "The billing request is not valid"


class UnknownPlan(Unprocessable):
    code = "unknown-plan"
    title = "The app's installed version has no such plan"


class NotPending(InvalidState):
    code = "not-pending"
    title = "This charge or subscription was already decided"


class SubscriptionNotChangeable(InvalidState):
    code = "subscription-not-changeable"
    title = "The subscription is not in a state that allows this"


class AlreadyOnPlan(Conflict):
    code = "already-on-plan"
    title = "The shop is already on this plan"


class NoUsageSubscription(Conflict):
    code = "no-usage-subscription"
    title = "There is no active usage-based subscription to charge"


class UsageCapExceeded(Conflict):
    code = "usage-cap-exceeded"
    title = "The usage charge would exceed the cap the merchant approved"


class ShopBalanceTooLow(Conflict):
    code = "insufficient-shop-balance"
    title = "The shop's balance cannot cover this charge"


class DeveloperBalanceTooLow(Conflict):
    code = "insufficient-developer-earnings"
    title = "The developer's earnings cannot cover this refund"


class OverRefund(Unprocessable):
    code = "over-refund"
    title = "The refund is more than is left to refund"


class ChargeNotRefundable(InvalidState):
    code = "charge-not-refundable"
    title = "Only a charge that was paid can be refunded"


class IdempotencyConflict(Unprocessable):
    code = "usage-idempotency-reused"
    title = "This idempotency key was used for a different usage charge"


class PayoutBelowMinimum(Conflict):
    code = "payout-below-minimum"
    title = "The available earnings are below the payout minimum"


class MonthNotOver(InvalidState):
    code = "month-not-over"
    title = "An invoice is issued only after the month has ended"
