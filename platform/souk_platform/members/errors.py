"""Errors of the member-levels domain (the problem ``type`` ends with ``code``)."""

from __future__ import annotations

from souk_platform.core.errors import Unprocessable


class InvalidLevelRules(Unprocessable):
    code = "invalid-level-rules"
    title = "The member-level rules are not consistent"
