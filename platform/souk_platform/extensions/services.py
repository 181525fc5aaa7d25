"""The extension-point table and the one function that runs a point.

Each point's contract lives in ``EXTENSION_POINTS``. ``run_point`` is where installed plugins will
be invoked (in the Wasm sandbox, with the point's failure policy and merge rule) and their
invocations logged; no plugins are wired in yet, so it returns the built-in rule's result and
records nothing.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from souk_platform.db import DbSession
from souk_platform.shops.models import Shop

T = TypeVar("T")


class FailurePolicy(enum.Enum):
    CONTINUE = "continue"  # a failing plugin is logged and skipped: the built-in result stands
    ABORT = "abort"  # a failing plugin fails the operation (fail closed)


@dataclass(frozen=True, slots=True)
class ExtensionPoint:
    name: str
    on_failure: FailurePolicy
    merge: str  # how several plugins' outputs combine with the built-in one
    description: str


EXTENSION_POINTS: dict[str, ExtensionPoint] = {
    point.name: point
    for point in (
        ExtensionPoint("cart.validate", FailurePolicy.CONTINUE, "union of errors", "Check a cart before it is priced."),
        ExtensionPoint(
            "cart.discounts",
            FailurePolicy.CONTINUE,
            "stack or best-of per the shop's discount_merge setting, never below zero",
            "Discounts on cart lines or the whole order.",
        ),
        ExtensionPoint("order.extra_fee", FailurePolicy.CONTINUE, "sum of fees", "Fees added to an order."),
        ExtensionPoint(
            "order.validate",
            FailurePolicy.ABORT,
            "any deny wins",
            "Risk control: allow or deny an order draft (configurable per install: ABORT or CONTINUE).",
        ),
        ExtensionPoint(
            "points.earn", FailurePolicy.CONTINUE, "last plugin wins, else built-in", "Points awarded for a paid order."
        ),
        ExtensionPoint(
            "order.cashback",
            FailurePolicy.CONTINUE,
            "last plugin wins, else built-in",
            "Stored value credited back for a paid order.",
        ),
        ExtensionPoint(
            "member.level", FailurePolicy.CONTINUE, "last plugin wins, else built-in", "A customer's member level."
        ),
        ExtensionPoint("refund.validate", FailurePolicy.CONTINUE, "any deny wins", "Allow or deny a refund request."),
    )
}


def run_point(
    session: DbSession,
    point: str,
    shop: Shop,
    payload: Mapping[str, Any],
    builtin: Callable[[Mapping[str, Any]], T],
) -> T:
    """Run extension point ``point`` for ``shop`` on ``payload``: today the built-in rule's result.

    ``payload`` is the point's JSON input (what a plugin will receive); ``builtin`` computes the
    default output from it. ``session`` and ``shop`` are where installed plugins will be looked up.
    """
    if point not in EXTENSION_POINTS:
        raise ValueError(f"unknown extension point {point!r}")
    return builtin(payload)
