"""Errors of the apps domain (the problem ``type`` ends with ``code``)."""

from __future__ import annotations

from typing import Any

from souk_platform.core.errors import Conflict, InvalidState, NotFound, Unprocessable


class AppNotFound(NotFound):
    code = "app-not-found"
    title = "No such app"


class InvalidManifest(Unprocessable):
    """The manifest does not parse or does not follow the schema.

    ``problems`` lists each error as ``{"path", "line", "column", "message"}`` (1-based line and
    column of the offending node in the submitted text); the problem body carries them under
    ``errors["manifest"]``.
    """

    code = "invalid-manifest"
    title = "The app manifest is not valid"

    def __init__(self, problems: list[dict[str, Any]]) -> None:
        count = len(problems)
        first = problems[0]
        where = f"line {first['line']}, column {first['column']}"
        detail = f"The manifest has {count} error{'s' if count != 1 else ''}; the first, at {where}: {first['message']}"
        super().__init__(detail, errors={"manifest": problems})
        self.problems = problems


class ClientTypeChange(Conflict):
    code = "client-type-change"
    title = "An app's client type cannot change"


class NoClientSecret(InvalidState):
    code = "public-client-has-no-secret"
    title = "Public clients have no client secret"


class InvalidDeveloperSignup(Unprocessable):
    code = "invalid-developer-signup"
    title = "The developer account details are not valid"
