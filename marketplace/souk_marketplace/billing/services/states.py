"""Subscription and charge statuses, and the subscription state machine (one ``StateMachine``)."""

from __future__ import annotations

import datetime as dt

from souk_marketplace.billing import errors
from souk_marketplace.billing.models import AppSubscription
from souk_marketplace.billing.services.events import _emit, subscription_payload
from souk_platform.core.states import Move, StateMachine
from souk_platform.db import DbSession

# Subscription states and the moves between them (``SUBSCRIPTION_STATES``); every move goes through ``_transition``.
LIVE = ("trial", "active", "frozen")
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "pending": ("trial", "active", "declined", "replaced", "cancelled"),
    "trial": ("active", "frozen", "cancelled", "replaced"),
    "active": ("frozen", "cancelled", "replaced"),
    "frozen": ("active", "cancelled", "replaced"),
    "declined": (),
    "cancelled": (),
    "replaced": (),
}
APP_STATUSES = ("none", "pending", "trial", "active", "declined", "cancelled", "frozen")
CHARGE_KINDS = ("one_time", "recurring", "usage", "proration")
CHARGE_STATUSES = ("pending", "succeeded", "declined", "replaced")


def _illegal(sub: AppSubscription, to: str, allowed: tuple[str, ...]) -> errors.SubscriptionNotChangeable:
    return errors.SubscriptionNotChangeable(
        f"The subscription {sub.id} is {sub.status}; it cannot become {to}.", status_now=sub.status
    )


def _record_move(session: DbSession, sub: AppSubscription, move: Move, *, now: dt.datetime) -> None:
    """Stamp a cancellation and emit app.subscription.updated (or .cancelled)."""
    to = move.to
    if to == "cancelled":
        sub.cancelled_at = now
    session.flush()
    event = "app.subscription.cancelled" if to == "cancelled" else "app.subscription.updated"
    _emit(
        session,
        shop_id=sub.shop_id,
        installation_id=sub.installation_id,
        type=event,
        payload=subscription_payload(sub),
    )


SUBSCRIPTION_STATES: StateMachine[AppSubscription] = StateMachine(
    TRANSITIONS, field="status", illegal=_illegal, record=_record_move
)


def _transition(session: DbSession, sub: AppSubscription, to: str, *, now: dt.datetime) -> None:
    """Move ``sub`` to ``to`` if the table allows it, and emit app.subscription.updated (or .cancelled)."""
    SUBSCRIPTION_STATES.transition(session, sub, to, now=now)
