"""Problem types of the journey engine's API (the problem ``type`` ends with ``code``)."""

from __future__ import annotations

from souk_platform.core.errors import InvalidState, NotFound


class JourneyNotFound(NotFound):
    code = "journey-not-found"
    title = "No such journey"


class EnrollmentNotFound(NotFound):
    code = "journey-enrollment-not-found"
    title = "No such journey enrolment"


class EnrollmentFinished(InvalidState):
    code = "journey-enrollment-finished"
    title = "The enrolment has already left the journey"
