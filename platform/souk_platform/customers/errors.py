"""Errors of the customers domain (the problem ``type`` ends with ``code``)."""

from __future__ import annotations

from souk_platform.core.errors import Conflict, NotFound, Unprocessable


class CustomerNotFound(NotFound):
    code = "customer-not-found"
    title = "No such customer"


class DuplicateCustomer(Conflict):
    code = "duplicate-customer"
    title = "Another customer already has this phone or email"


class InvalidPurchase(Unprocessable):
    code = "invalid-purchase"
    title = "The purchase or refund cannot be recorded"


class InvalidCustomer(Unprocessable):
    code = "invalid-customer"
    title = "The customer's details are not valid"


class IdentityNotFound(NotFound):
    code = "customer-identity-not-found"
    title = "No such identity of this customer"


class DuplicateIdentity(Conflict):
    code = "duplicate-customer-identity"
    title = "Another customer of the shop has this external identity"
