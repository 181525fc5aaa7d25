"""The extension points a plugin can serve, from the sandbox's point contracts (docs/architecture.md §7.3)."""

from __future__ import annotations

from souk_sandbox.points import POINTS

EXTENSION_POINTS: tuple[str, ...] = tuple(POINTS)
