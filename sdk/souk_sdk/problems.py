"""API errors as exceptions: Souk answers every failed call with RFC 9457 problem+json.

Catch ``SoukError`` for any of them, or a subclass for one kind::

    try:
        client.products.update(product_id, {"title": "Oolong"}, if_match=version)
    except PreconditionFailed:
        ...  # someone changed it since we read it: read again
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import re
from collections.abc import Mapping
from typing import Any

import httpx

__all__ = [
    "BadRequest",
    "Conflict",
    "Forbidden",
    "InsufficientScope",
    "NotFound",
    "PreconditionFailed",
    "RateLimited",
    "ServerError",
    "SoukError",
    "Unauthorized",
    "Unprocessable",
    "ValidationError",
    "error_from_response",
    "parse_retry_after",
]

_SCOPE_IN_CHALLENGE = re.compile(r'scope="([^"]*)"')
_DELAY_SECONDS = re.compile(r"^[0-9]+(\.[0-9]+)?$")


class SoukError(Exception):
    """A call the API refused or failed; the fields are the problem+json body's."""

    def __init__(self, problem: Mapping[str, Any], *, status: int, headers: Mapping[str, str] | None = None) -> None:
        self.problem: dict[str, Any] = dict(problem)
        self.status = status
        self.type: str = str(problem.get("type") or "about:blank")
        self.title: str = str(problem.get("title") or "")
        self.detail: str = str(problem.get("detail") or "")
        self.instance: str | None = problem.get("instance")
        raw_errors = problem.get("errors")
        #: Messages per invalid field, e.g. ``{"lines.0.quantity": ["Must be at least 1."]}``.
        self.errors: dict[str, list[str]] = dict(raw_errors) if isinstance(raw_errors, Mapping) else {}
        self.headers = httpx.Headers(headers or {})
        super().__init__(self._message())

    def _message(self) -> str:
        text = f"{self.status} {self.title}".strip()
        if self.detail:
            text += f": {self.detail}"
        return text

    @property
    def code(self) -> str:
        """The last segment of ``type``, e.g. ``insufficient-balance``: stable, for ``if`` tests."""
        return self.type.rstrip("/").rsplit("/", 1)[-1]


class BadRequest(SoukError):
    """400: the request could not be read (malformed JSON, say)."""


class Unauthorized(SoukError):
    """401: no token, or one that is unknown, expired or revoked."""


class Forbidden(SoukError):
    """403: the token may not do this."""


class InsufficientScope(Forbidden):
    """403: the token lacks ``required_scope``: ask the merchant to grant it."""

    @property
    def required_scope(self) -> str | None:
        scope = self.problem.get("required_scope")
        if scope:
            return str(scope)
        found = _SCOPE_IN_CHALLENGE.search(self.headers.get("WWW-Authenticate", ""))
        return found.group(1) if found else None


class NotFound(SoukError):
    """404: no such object in this shop (another shop's objects are 404 too)."""


class Conflict(SoukError):
    """409: the object's state does not allow this (an illegal transition, a duplicate)."""


class PreconditionFailed(SoukError):
    """412: ``If-Match`` named a stale version: read the object again and retry."""


class Unprocessable(SoukError):
    """422: the request was understood but refused (an insufficient balance, a reused idempotency key)."""


class ValidationError(Unprocessable):
    """422: fields failed validation; ``errors`` lists the messages per field."""


class RateLimited(SoukError):
    """429: over the rate limit; ``retry_after`` says how many seconds to wait."""

    @property
    def retry_after(self) -> float | None:
        return parse_retry_after(self.headers.get("Retry-After"))


class ServerError(SoukError):
    """5xx: the server failed; retrying later may work."""


_BY_STATUS: dict[int, type[SoukError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    412: PreconditionFailed,
    422: Unprocessable,
    429: RateLimited,
}


def error_from_response(response: httpx.Response) -> SoukError:
    """The exception for a non-2xx response; a body that is not problem+json still gives one."""
    problem = _problem_of(response)
    status = response.status_code
    kind: type[SoukError] = _BY_STATUS.get(status, ServerError if status >= 500 else SoukError)
    code = str(problem.get("type", "")).rsplit("/", 1)[-1]
    challenge = response.headers.get("WWW-Authenticate", "")
    if status == 403 and (code == "insufficient-scope" or 'error="insufficient_scope"' in challenge):
        kind = InsufficientScope
    elif status == 422 and code == "validation-failed":
        kind = ValidationError
    return kind(problem, status=status, headers=response.headers)


def _problem_of(response: httpx.Response) -> dict[str, Any]:
    try:
        body = json.loads(response.content) if response.content else None
    except ValueError:
        body = None
    if isinstance(body, dict) and ("type" in body or "title" in body or "status" in body):
        return body
    # Something in front of the API (a proxy, a load balancer) answered: keep what it said.
    text = response.text.strip() if response.content else ""
    problem: dict[str, Any] = {"type": "about:blank", "title": response.reason_phrase, "status": response.status_code}
    if isinstance(body, dict) and "error" in body:  # an RFC 6749 OAuth error
        problem["title"] = str(body["error"])
        problem["detail"] = str(body.get("error_description") or body["error"])
    elif text:
        problem["detail"] = text[:500]
    return problem


def parse_retry_after(value: str | None, *, now: dt.datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value: delay seconds or an HTTP date (RFC 9110 §10.2.3)."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    if _DELAY_SECONDS.match(value):
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - (now or dt.datetime.now(dt.UTC))).total_seconds())
