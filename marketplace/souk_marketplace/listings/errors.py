"""Listing problems, each with a stable problem ``type`` code."""

from __future__ import annotations

from souk_platform.core.errors import InvalidState, NotFound, Unprocessable


class ListingNotFound(NotFound):
    code = "listing-not-found"
    title = "No such listing"


class SubmissionNotFound(NotFound):
    code = "listing-submission-not-found"
    title = "No such listing submission"


class ImageNotFound(NotFound):
    code = "listing-image-not-found"
    title = "No such image"


class InvalidSubmission(Unprocessable):
    """Some fields of a submission are not acceptable; ``errors`` names each one."""

    code = "invalid-listing-submission"
    title = "The listing submission is not valid"


class InvalidDecision(Unprocessable):
    """A review decision misses something it needs (ticked checklist, a reason)."""

    code = "invalid-review-decision"
    title = "The review decision is not complete"


class IllegalListingTransition(InvalidState):
    code = "illegal-listing-transition"
    title = "The listing or submission is not in a state that allows this"


class SubmissionPending(InvalidState):
    code = "listing-submission-pending"
    title = "A submission of this app is already being checked or reviewed"


class AppNotListable(InvalidState):
    code = "app-not-listable"
    title = "This app cannot be submitted for listing"
