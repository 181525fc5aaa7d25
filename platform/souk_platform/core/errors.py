"""Domain errors and the one RFC 9457 problem+json envelope.

Every error a service raises is a ``SoukError`` subclass carrying an HTTP status, a stable
``code`` (the last segment of the problem ``type`` URI) and a human ``detail``.
"""

from __future__ import annotations

from typing import Any

PROBLEM_BASE = "https://souk.dev/problems/"
PROBLEM_MIMETYPE = "application/problem+json"


class SoukError(Exception):
    status = 400
    code = "bad-request"
    title = "Bad request"

    def __init__(
        self,
        detail: str,
        *,
        errors: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors
        self.headers = headers or {}
        self.extra = extra

    def to_problem(self) -> dict[str, Any]:
        return problem(self.status, self.code, self.title, self.detail, errors=self.errors, **self.extra)


class NotFound(SoukError):
    status = 404
    code = "not-found"
    title = "Not found"


class Conflict(SoukError):
    status = 409
    code = "conflict"
    title = "Conflict"


class InvalidState(Conflict):
    code = "invalid-state-transition"
    title = "The object is not in a state that allows this"


class PreconditionFailed(SoukError):
    status = 412
    code = "version-mismatch"
    title = "The object changed since you read it"


class PreconditionRequired(SoukError):
    status = 428
    code = "precondition-required"
    title = "Send If-Match with the version you read"


class Unprocessable(SoukError):
    status = 422
    code = "unprocessable"
    title = "The request could not be processed"


class InsufficientFunds(Unprocessable):
    code = "insufficient-balance"
    title = "Insufficient balance"


class OutOfStock(Conflict):
    code = "out-of-stock"
    title = "Not enough stock"


class Unauthorized(SoukError):
    status = 401
    code = "unauthorized"
    title = "Authentication required"


class Forbidden(SoukError):
    status = 403
    code = "forbidden"
    title = "Forbidden"


class TooManyRequests(SoukError):
    status = 429
    code = "rate-limited"
    title = "Too many requests"


def problem(
    status: int,
    code: str,
    title: str,
    detail: str | None = None,
    *,
    errors: dict[str, Any] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """Build an RFC 9457 body; ``instance`` is filled in by the HTTP layer."""
    body: dict[str, Any] = {"type": PROBLEM_BASE + code, "title": title, "status": status}
    if detail:
        body["detail"] = detail
    if errors:
        body["errors"] = errors
    body.update(extra)
    return body
