"""The shop's points policy in one place (docs/architecture.md §5.15): earn rate, a point's value, the spend
cap per order, and expiry.

It is a view over the shop settings the pipeline has always read (``points_per_yuan``, ``points_value_fen``,
``points_max_ratio_bp``, ``points_expiry_days``) plus two newer keys with defaults that change nothing for an
older shop: ``points_max_per_order`` (0: no absolute cap) and ``points_expiry_policy`` (``days``, or
``end_of_year``: points earned in a shop-local year expire when the following year ends — 每年年底清零上一年度积分).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Mapping
from typing import Any

from souk_platform.core.errors import Unprocessable
from souk_platform.db import DbSession
from souk_platform.shops.models import Shop
from souk_platform.shops.services import get_shop, shop_setting, update_shop

__all__ = [
    "EXPIRY_POLICIES",
    "LIMITS",
    "InvalidPointsPolicy",
    "lot_expiry",
    "points_policy_view",
    "update_points_policy",
]

EXPIRY_POLICIES = ("days", "end_of_year")
# field: (lowest, highest) — the API's schema and the page's form check the same bounds.
LIMITS: dict[str, tuple[int, int]] = {
    "points_per_yuan": (0, 10_000),
    "point_value_fen": (1, 10_000),
    "max_spend_ratio_bp": (0, 10_000),
    "max_points_per_order": (1, 100_000_000),
    "expiry_days": (1, 3650),
}
# policy field → shop setting
_SETTINGS = {
    "points_per_yuan": "points_per_yuan",
    "point_value_fen": "points_value_fen",
    "max_spend_ratio_bp": "points_max_ratio_bp",
    "max_points_per_order": "points_max_per_order",
    "expiry_policy": "points_expiry_policy",
    "expiry_days": "points_expiry_days",
}


class InvalidPointsPolicy(Unprocessable):
    code = "invalid-points-policy"
    title = "The points policy is not valid"


def _zone(shop: Shop) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(shop.timezone or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def lot_expiry(shop: Shop, now: dt.datetime) -> dt.datetime:
    """When points credited at ``now`` expire under the shop's policy: after ``points_expiry_days`` days, or
    (``end_of_year``) at the shop-local start of the year after next — the end of the following year."""
    if shop_setting(shop, "points_expiry_policy") == "end_of_year":
        zone = _zone(shop)
        year = now.astimezone(zone).year
        return dt.datetime(year + 2, 1, 1, tzinfo=zone).astimezone(dt.UTC)
    return now + dt.timedelta(days=int(shop_setting(shop, "points_expiry_days")))


def points_policy_view(shop: Shop) -> dict[str, Any]:
    """The policy as the API and the page show it (``max_points_per_order`` None: no absolute cap)."""
    view = {field: shop_setting(shop, setting) for field, setting in _SETTINGS.items()}
    view["max_points_per_order"] = int(view["max_points_per_order"]) or None
    view["currency"] = shop.currency
    view["version"] = shop.version
    return view


def _bad(value: Any, field: str) -> str | None:
    low, high = LIMITS[field]
    if field == "max_points_per_order" and value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        return f"A whole number from {low} to {high}" + (
            ", or null for none." if field == "max_points_per_order" else "."
        )
    return None


def update_points_policy(
    session: DbSession, *, shop_id: str, changes: Mapping[str, Any], expected_version: int | None
) -> Shop:
    """Change the fields given (others stay); 422 naming each bad field, 412 on a stale shop version."""
    errors: dict[str, list[str]] = {}
    for field in sorted(set(changes) - set(_SETTINGS)):
        errors[field] = ["Unknown field."]
    for field, value in changes.items():
        if field == "expiry_policy":
            if value not in EXPIRY_POLICIES:
                errors[field] = [f"One of: {', '.join(EXPIRY_POLICIES)}."]
        elif field in LIMITS and (problem := _bad(value, field)):
            errors[field] = [problem]
    if errors:
        raise InvalidPointsPolicy("The points policy is not valid.", errors=errors)
    settings = {_SETTINGS[field]: value for field, value in changes.items()}
    if "points_max_per_order" in settings:
        settings["points_max_per_order"] = settings["points_max_per_order"] or 0
    get_shop(session, shop_id)
    return update_shop(session, shop_id=shop_id, changes={"settings": settings}, expected_version=expected_version)
