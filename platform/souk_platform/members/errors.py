"""Errors of the member-levels domain (the problem ``type`` ends with ``code``)."""

from __future__ import annotations

from souk_platform.core.errors import Conflict, NotFound, Unprocessable


class InvalidLevelRules(Unprocessable):
    code = "invalid-level-rules"
    title = "The member-level rules are not consistent"


class MemberPriceNotFound(NotFound):
    code = "member-price-not-found"
    title = "No such member price"


class InvalidMemberPrice(Unprocessable):
    code = "invalid-member-price"
    title = "The member price is not valid"


class MemberPriceExists(Conflict):
    code = "member-price-exists"
    title = "The SKU already has a member price for this level"
