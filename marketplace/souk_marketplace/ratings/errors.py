"""Rating problems, each with a stable problem ``type`` code."""

from __future__ import annotations

from souk_platform.core.errors import Conflict, Forbidden, NotFound, Unprocessable


class RatingNotFound(NotFound):
    code = "rating-not-found"
    title = "No such rating"


class AppNotInstalled(NotFound):
    """The shop never installed the app: there is nothing for it to rate (an unknown app looks the same)."""

    code = "app-not-installed"
    title = "This shop never installed the app"


class RatingNotAllowedYet(Forbidden):
    code = "rating-not-allowed-yet"
    title = "Rate an app after using it for a day"


class RatingsByStaffOnly(Forbidden):
    code = "ratings-by-staff-only"
    title = "Ratings are written by a shop's own staff, not by apps"


class InvalidRating(Unprocessable):
    code = "invalid-rating"
    title = "The rating is not valid"


class AlreadyReplied(Conflict):
    code = "rating-already-replied"
    title = "The developer has already replied to this rating"
