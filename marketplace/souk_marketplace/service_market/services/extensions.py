"""Extending an order's due date: the provider asks, the buyer answers."""

from __future__ import annotations

import datetime as dt

from souk_marketplace.service_market.errors import ExtensionConflict, InvalidServiceOrder
from souk_marketplace.service_market.models import ServiceExtension
from souk_marketplace.service_market.services.lookups import get_order, pending_extension
from souk_marketplace.service_market.services.parties import Party
from souk_marketplace.service_market.services.terms import EXTENSION_TTL, MAX_EXTENSION_DAYS, _text
from souk_marketplace.service_market.states import BUYER, PROVIDER, record
from souk_platform.db import DbSession


def request_extension(
    session: DbSession, *, order_id: str, party: Party, days: int, reason: str, now: dt.datetime
) -> ServiceExtension:
    """The provider asks for more days on the current milestone; the buyer has 4 days to answer."""
    order = get_order(session, order_id, party, lock=True)
    if party.role != PROVIDER:
        raise ExtensionConflict("Only the provider asks for more time.")
    if order.state != "in_progress":
        raise ExtensionConflict(f"Service order {order.id} is {order.state}; more time is asked while in progress.")
    if pending_extension(session, order) is not None:
        raise ExtensionConflict("An extension request is waiting for the buyer's answer already.")
    if not isinstance(days, int) or not 1 <= days <= MAX_EXTENSION_DAYS:
        raise InvalidServiceOrder(
            f"Ask for 1 to {MAX_EXTENSION_DAYS} days.", errors={"days": [f"1 to {MAX_EXTENSION_DAYS}."]}
        )
    text = _text(reason, "reason", limit=1000)
    milestone = order.current_milestone
    assert milestone is not None
    extension = ServiceExtension(
        order_id=order.id,
        shop_id=order.shop_id,
        milestone_id=milestone.id,
        days=days,
        reason=text,
        requested_at=now,
        expires_at=now + EXTENSION_TTL,
    )
    session.add(extension)
    session.flush()
    record(
        session,
        order,
        "extension_requested",
        actor=PROVIDER,
        user_id=party.user_id,
        now=now,
        note=text,
        details={"extension_id": extension.id, "days": days, "expires_at": extension.expires_at.isoformat()},
    )
    return extension


def answer_extension(
    session: DbSession, *, order_id: str, party: Party, accept: bool, now: dt.datetime
) -> ServiceExtension:
    """The buyer accepts (the due date moves by the days asked) or declines the pending request."""
    order = get_order(session, order_id, party, lock=True)
    if party.role != BUYER:
        raise ExtensionConflict("Only the buyer answers an extension request.")
    extension = pending_extension(session, order)
    if extension is None or order.state != "in_progress":
        raise ExtensionConflict("There is no extension request waiting for an answer.")
    if extension.expires_at <= now:
        raise ExtensionConflict("The extension request expired after 4 days without an answer.")
    extension.state, extension.decided_at = ("accepted" if accept else "declined"), now
    milestone = order.current_milestone
    if accept and milestone is not None and milestone.due_at is not None:
        milestone.due_at = milestone.due_at + dt.timedelta(days=extension.days)
        order.due_at = milestone.due_at
    session.flush()
    record(
        session,
        order,
        f"extension_{extension.state}",
        actor=BUYER,
        user_id=party.user_id,
        now=now,
        details={"extension_id": extension.id, "days": extension.days, "due_at": _iso(order.due_at)},
    )
    return extension


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None
