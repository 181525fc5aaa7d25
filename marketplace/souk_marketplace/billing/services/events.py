"""What billing's webhooks carry, addressed to the app's installation."""

from __future__ import annotations

from typing import Any

from souk_marketplace.billing.models import AppCharge, AppSubscription
from souk_marketplace.billing.services.terms import _iso
from souk_platform.db import DbSession
from souk_platform.events.services import emit

_SUBSCRIPTION_FIELDS = (
    "id", "shop_id", "app_id", "installation_id", "plan_id", "kind", "status", "price", "list_price", "currency",
    "interval", "trial_days", "usage_cap", "usage_used", "free_reason", "replaces_id", "version",
)  # fmt: skip
_CHARGE_FIELDS = (
    "id", "shop_id", "app_id", "installation_id", "subscription_id", "kind", "description", "amount", "list_price",
    "currency", "status", "refunded", "free_reason", "version",
)  # fmt: skip


def subscription_payload(sub: AppSubscription) -> dict[str, Any]:
    """The subscription as webhooks carry it (with ``version``, RFC 3339 times)."""
    payload = {name: getattr(sub, name) for name in _SUBSCRIPTION_FIELDS}
    for name in ("trial_ends_at", "current_period_start", "current_period_end", "cancelled_at", "created_at"):
        payload[name] = _iso(getattr(sub, name))
    return payload


def charge_payload(charge: AppCharge) -> dict[str, Any]:
    payload = {name: getattr(charge, name) for name in _CHARGE_FIELDS}
    for name in ("period_start", "period_end", "paid_at", "created_at"):
        payload[name] = _iso(getattr(charge, name))
    return payload


def _emit(session: DbSession, *, shop_id: str, installation_id: str, type: str, payload: dict[str, Any]) -> None:
    # Addressed to the installation: the router hands it to that app's own webhook subscriptions only
    # (and to the shop's own), never to another app on the shop.
    emit(
        session,
        shop_id=shop_id,
        type=type,
        subject_type="installation",
        subject_id=installation_id,
        payload=payload,
    )
