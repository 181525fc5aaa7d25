"""Production limits of one plugin call (docs/architecture.md §7.2); the dev kit enforces the same values."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

KIB = 1024
MIB = 1024 * KIB


@dataclass(frozen=True, slots=True)
class Limits:
    """Limits of one call. Sizes are bytes, the deadline is wall-clock milliseconds."""

    module_bytes: int = 256 * KIB
    input_bytes: int = 128 * KIB
    output_bytes: int = 20 * KIB
    memory_bytes: int = 16 * MIB
    instances: int = 1
    tables: int = 1
    memories: int = 1
    # Caps `table.grow` (each element costs 8 bytes of host memory), which the memory limit does not cover.
    table_elements: int = 10_000
    fuel: int = 11_000_000
    deadline_ms: int = 100

    #: The base values hold for carts up to this many lines.
    BASE_LINES: ClassVar[int] = 200
    #: A scaled deadline never exceeds the whole checkout pipeline's budget (docs/architecture.md §7.2).
    MAX_DEADLINE_MS: ClassVar[int] = 2000

    def __post_init__(self) -> None:
        for name in ("module_bytes", "input_bytes", "output_bytes", "memory_bytes", "fuel", "deadline_ms"):
            if getattr(self, name) <= 0:
                raise ValueError(f"Limits.{name} must be positive")

    @classmethod
    def for_lines(cls, lines: int) -> Limits:
        """Limits for a cart or order of `lines` lines.

        Fuel, input and output grow in proportion above `BASE_LINES` (rounded up), so a plugin that is
        fine on small carts does not fail on a large B2B one. The deadline grows with them (up to
        `MAX_DEADLINE_MS`): 11,000,000 fuel of tight guest code takes ~30 ms here, so scaled fuel under a
        fixed 100 ms deadline would turn into timeouts above ~600 lines. Memory and module size stay.
        """
        base = cls()
        if lines <= cls.BASE_LINES:
            return base

        def scaled(value: int) -> int:
            return -(-value * lines // cls.BASE_LINES)

        return cls(
            input_bytes=scaled(base.input_bytes),
            output_bytes=scaled(base.output_bytes),
            fuel=scaled(base.fuel),
            deadline_ms=min(scaled(base.deadline_ms), cls.MAX_DEADLINE_MS),
        )
