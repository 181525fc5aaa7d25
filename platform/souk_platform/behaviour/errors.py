"""Errors of the behaviour-events domain (the problem ``type`` ends with ``code``)."""

from __future__ import annotations

from souk_platform.core.errors import Unprocessable


class InvalidEvents(Unprocessable):
    code = "invalid-customer-events"
    title = "Some events cannot be recorded"
