"""``version`` + ``If-Match``: a PATCH on a stale version is 412 (docs/architecture.md §4.5)."""

from __future__ import annotations

from flask import request

from souk_platform.core.errors import PreconditionFailed
from souk_platform.core.versions import check_version

__all__ = ["check_version", "etag", "expected_version"]


def expected_version() -> int | None:
    """The version the client says it is changing, from ``If-Match`` (``"3"``, ``W/"3"`` or ``3``)."""
    raw = request.headers.get("If-Match")
    if raw is None or raw.strip() == "*":
        return None
    value = raw.strip().removeprefix("W/").strip('"')
    if not value.isdigit():
        raise PreconditionFailed(f'If-Match must be the object\'s version as an ETag, like "3"; got {raw!r}.')
    return int(value)


def etag(version: int) -> dict[str, str]:
    return {"ETag": f'"{version}"'}
