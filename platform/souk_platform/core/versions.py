"""Optimistic concurrency check shared by every service that takes an expected version."""

from __future__ import annotations

from souk_platform.core.errors import PreconditionFailed, PreconditionRequired


def check_version(current: int, expected: int | None) -> None:
    """Raise 412 when the client's expected version is not the current one."""
    if expected is not None and expected != current:
        raise PreconditionFailed(
            f"The object is at version {current}, not {expected}. Fetch it again and retry.",
            current_version=current,
        )


def require_version(current: int, expected: int | None) -> None:
    """Like ``check_version``, but a change without an expected version is 428 (docs/architecture.md §4.5)."""
    if expected is None:
        raise PreconditionRequired(
            f'Send If-Match with the version you read: the object is at version {current}, so If-Match: "{current}".',
            current_version=current,
        )
    check_version(current, expected)
