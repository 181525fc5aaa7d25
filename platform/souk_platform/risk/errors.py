"""Errors of the risk-control domain (the problem ``type`` ends with ``code``)."""

from __future__ import annotations

from souk_platform.core.errors import Conflict, InvalidState, NotFound, Unprocessable


class DecisionNotFound(NotFound):
    code = "risk-decision-not-found"
    title = "No such risk decision"


class ListEntryNotFound(NotFound):
    code = "risk-list-entry-not-found"
    title = "No such risk list entry"


class ReviewNotFound(NotFound):
    code = "risk-review-not-found"
    title = "No such risk review"


class InvalidListEntry(Unprocessable):
    code = "invalid-risk-list-entry"
    title = "The list entry is not valid"


class ListEntryExists(Conflict):
    code = "risk-list-entry-exists"
    title = "That value is already on this list"


class InvalidRiskSettings(Unprocessable):
    code = "invalid-risk-settings"
    title = "The risk settings are not valid"


class ReviewClosed(InvalidState):
    code = "risk-review-closed"
    title = "The review was already closed"


class InvalidReplayPeriod(Unprocessable):
    code = "invalid-risk-replay-period"
    title = "The replay period is not valid"
