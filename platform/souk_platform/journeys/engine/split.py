"""Which branch a split sends a customer down (docs/architecture.md §5.12, §7.3 ``journey.split``).

The built-in rule is a deterministic weighted draw: a hash of the enrolment and the node, so a step redone
after a crash picks the same branch. ``holdout_percent`` of customers go to ``holdout`` (they get nothing).
An app's ``journey.split`` plugin may pick another branch; its answer must name one of the node's branches.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any


def branches(split: Mapping[str, Any]) -> list[tuple[str, int]]:
    variants = split.get("variants")
    found: list[tuple[str, int]] = []
    for variant in variants if isinstance(variants, list) else []:
        if isinstance(variant, Mapping) and variant.get("key"):
            weight = variant.get("weight", 1)
            found.append((str(variant["key"]), int(weight) if isinstance(weight, int) and weight > 0 else 0))
    return found


def draw(enrollment_id: str, node_id: str) -> float:
    """A number in [0, 1) fixed by the enrolment and the node."""
    digest = hashlib.sha256(f"{enrollment_id}:{node_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def weighted_branch(split: Mapping[str, Any], *, enrollment_id: str, node_id: str) -> str:
    """The built-in rule: holdout first, then the variants by weight."""
    u = draw(enrollment_id, node_id)
    holdout = min(max(float(split.get("holdout_percent") or 0), 0.0), 100.0) / 100
    if u < holdout:
        return "holdout"
    options = branches(split)
    total = sum(weight for _, weight in options)
    if not options or total <= 0:
        return "holdout" if holdout > 0 else (options[0][0] if options else "holdout")
    position = (u - holdout) / (1 - holdout) * total
    for key, weight in options:
        if position < weight:
            return key
        position -= weight
    return options[-1][0]


def plugin_picker(
    session: Any, enrollment: Any, node_id: str, split: Mapping[str, Any], builtin: str
) -> tuple[str, str]:
    """Let the shop's ``journey.split`` plugins pick the variant (§7.3) for a customer the draw did not hold out;
    the built-in draw otherwise, and when a plugin names a branch the node does not have. Each call is logged
    in the invocation log like any point's, with the same limits and replay."""
    from souk_platform.customers.models import Customer
    from souk_platform.extensions.services import EXTENSION_POINTS, run_point
    from souk_platform.plugins.services import active_plugins
    from souk_platform.shops.models import Shop

    if "journey.split" not in EXTENSION_POINTS or builtin == "holdout":
        return builtin, "builtin"  # the holdout stays a clean control group: no plugin moves anyone out of it
    if not active_plugins(session, shop_id=enrollment.shop_id, point="journey.split"):
        return builtin, "builtin"  # kept per transaction: a shop without such plugins reads no customer facts
    shop = session.get(Shop, enrollment.shop_id)
    allowed = [key for key, _ in branches(split)]
    payload = {
        "journey_id": enrollment.journey_id,
        "enrollment_id": enrollment.id,
        "customer_id": enrollment.customer_id,
        "node_id": node_id,
        "branches": allowed,
        "builtin": builtin,
    }
    customer = session.get(Customer, enrollment.customer_id)
    if customer is not None:  # the facts a next-best-action rule reads (optional in the contract, §7.3)
        payload["customer"] = {
            "id": customer.id,
            "level": customer.level,
            "orders_count": customer.orders_count,
            "total_spent": customer.total_spent,
        }
    result = run_point(session, "journey.split", shop, payload, lambda _: {"branch": builtin, "by": "builtin"})
    branch = result.get("branch") if isinstance(result, Mapping) else None
    if branch in allowed:
        return str(branch), str(result.get("by") or "builtin")
    return builtin, "builtin"
