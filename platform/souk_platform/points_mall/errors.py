"""Errors of the points mall (the problem ``type`` ends with ``code``)."""

from __future__ import annotations

from souk_platform.core.errors import Conflict, InvalidState, NotFound, Unprocessable


class MallItemNotFound(NotFound):
    code = "points-mall-item-not-found"
    title = "No such points-mall item"


class RedemptionNotFound(NotFound):
    code = "redemption-not-found"
    title = "No such redemption"


class InvalidMallItem(Unprocessable):
    code = "invalid-points-mall-item"
    title = "The points-mall item is not valid"


class ItemUnavailable(Conflict):
    """Not on sale, outside its window, or sold out."""

    code = "points-mall-item-unavailable"
    title = "The item cannot be redeemed now"


class RedemptionNotAllowed(Unprocessable):
    """The customer may not redeem this item: their level is too low or they reached the item's limit."""

    code = "redemption-not-allowed"
    title = "This customer cannot redeem this item"


class RedemptionRejected(Unprocessable):
    """Risk control denied the redemption; ``rule`` names the rule and ``decision_id`` the recorded decision."""

    code = "redemption-rejected"
    title = "The redemption was rejected by risk control"


class ItemInUse(Conflict):
    code = "points-mall-item-in-use"
    title = "The item has redemptions: take it off sale instead"


class IllegalRedemptionMove(InvalidState):
    code = "invalid-state-transition"
    title = "The redemption is not in a state that allows this"
