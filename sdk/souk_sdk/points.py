"""The extension points a plugin can serve (docs/architecture.md §7.3); the platform's registry has the same names."""

from __future__ import annotations

EXTENSION_POINTS: tuple[str, ...] = (
    "cart.validate",
    "cart.discounts",
    "order.extra_fee",
    "order.validate",
    "points.earn",
    "order.cashback",
    "member.level",
    "refund.validate",
)
