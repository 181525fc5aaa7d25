"""Cancelling an order before work starts, or when it is overdue: the held money back to the shop."""

from __future__ import annotations

import datetime as dt

from souk_marketplace.service_market.errors import NotOverdue
from souk_marketplace.service_market.models import ServiceOrder
from souk_marketplace.service_market.services.escrow import _refund
from souk_marketplace.service_market.services.extensions import _iso
from souk_marketplace.service_market.services.lookups import get_order
from souk_marketplace.service_market.services.parties import Party
from souk_marketplace.service_market.services.terms import OVERDUE_GRACE, _text
from souk_marketplace.service_market.states import check_move, transition
from souk_platform.db import DbSession


def cancel_order(
    session: DbSession,
    *,
    order_id: str,
    party: Party,
    reason: str | None,
    now: dt.datetime,
    expected_version: int | None = None,
) -> ServiceOrder:
    """End an order with a refund of everything held: the buyer before work starts or when it is
    overdue by more than 24 hours, the provider (declining) before work starts."""
    order = get_order(session, order_id, party, lock=True, expected_version=expected_version)
    check_move(order, "cancelled", party.role)
    if order.state == "in_progress" and not (order.due_at and now > order.due_at + OVERDUE_GRACE):
        allowed_from = (order.due_at + OVERDUE_GRACE).isoformat() if order.due_at else "never"
        raise NotOverdue(
            f"The order is due at {_iso(order.due_at)}; it may be cancelled after {allowed_from}.",
            cancellable_after=allowed_from,
        )
    text = _text(reason, "reason", required=False)
    refund = order.held
    _refund(session, order, refund, key="cancel")
    for milestone in order.milestones:
        if milestone.state != "released":
            milestone.state = "cancelled"
    order.due_at = None
    return transition(
        session,
        order,
        "cancelled",
        actor=party.role,
        user_id=party.user_id,
        now=now,
        note=text or None,
        details={"refund": refund},
    )
