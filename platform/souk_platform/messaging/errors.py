"""Errors of the messaging domain (the problem ``type`` ends with ``code``)."""

from __future__ import annotations

from souk_platform.core.errors import InvalidState, NotFound, Unprocessable


class ChannelNotFound(NotFound):
    code = "message-channel-not-found"
    title = "No such message channel"


class TemplateNotFound(NotFound):
    code = "message-template-not-found"
    title = "No such message template"


class MessageNotFound(NotFound):
    code = "message-not-found"
    title = "No such message"


class InvalidChannel(Unprocessable):
    code = "invalid-message-channel"
    title = "The message channel settings are not valid"


class InvalidTemplate(Unprocessable):
    code = "invalid-message-template"
    title = "The message template is not valid"


class InvalidMessage(Unprocessable):
    code = "invalid-message"
    title = "The message cannot be sent"


class ChannelDisabled(InvalidState):
    code = "message-channel-disabled"
    title = "The message channel is disabled"


class StatusNotAllowed(InvalidState):
    code = "message-status-not-allowed"
    title = "The message cannot move to that status"


class InvalidReportPeriod(Unprocessable):
    code = "invalid-message-report-period"
    title = "The report period is not valid"
