"""Optimistic concurrency check shared by every service that takes an expected version."""

from __future__ import annotations

from souk_platform.core.errors import PreconditionFailed


def check_version(current: int, expected: int | None) -> None:
    """Raise 412 when the client's expected version is not the current one."""
    if expected is not None and expected != current:
        raise PreconditionFailed(
            f"The object is at version {current}, not {expected}. Fetch it again and retry.",
            current_version=current,
        )
