"""Delivery and review: the provider delivers, the buyer accepts or asks for a revision."""

from __future__ import annotations

import datetime as dt

from souk_marketplace.service_market.errors import RevisionLimitReached
from souk_marketplace.service_market.models import ServiceOrder
from souk_marketplace.service_market.services.escrow import _release
from souk_marketplace.service_market.services.lookups import get_order
from souk_marketplace.service_market.services.parties import Party
from souk_marketplace.service_market.services.placing import _start_milestone
from souk_marketplace.service_market.services.terms import CLEARING_PERIOD, REVIEW_WINDOW, _text
from souk_marketplace.service_market.states import SYSTEM, check_move, record, transition
from souk_platform.db import DbSession


def deliver(
    session: DbSession,
    *,
    order_id: str,
    party: Party,
    note: str,
    now: dt.datetime,
    expected_version: int | None = None,
) -> ServiceOrder:
    """The provider delivers the current milestone; the buyer's review window starts (3 or 14 days)."""
    order = get_order(session, order_id, party, lock=True, expected_version=expected_version)
    check_move(order, "delivered", party.role)
    text = _text(note, "note")
    milestone = order.current_milestone
    assert milestone is not None  # in_progress always has one
    milestone.state = "delivered"
    milestone.delivered_at = now
    order.review_until = now + REVIEW_WINDOW[order.kind]
    return transition(
        session,
        order,
        "delivered",
        actor=party.role,
        user_id=party.user_id,
        now=now,
        note=text,
        details={"milestone_id": milestone.id, "milestone": milestone.position + 1},
    )


def accept_delivery(
    session: DbSession, *, order_id: str, party: Party, now: dt.datetime, expected_version: int | None = None
) -> ServiceOrder:
    """The buyer accepts the delivered milestone: the next one starts, or the order goes into clearing."""
    order = get_order(session, order_id, party, lock=True, expected_version=expected_version)
    transition(session, order, "accepted", actor=party.role, user_id=party.user_id, now=now)
    _after_acceptance(session, order, now=now)
    return order


def _after_acceptance(session: DbSession, order: ServiceOrder, *, now: dt.datetime) -> None:
    done = order.current_milestone
    assert done is not None and done.state == "delivered"
    done.state, done.accepted_at = "accepted", now
    order.review_until = None
    following = next((m for m in order.milestones if m.state == "pending"), None)
    if following is None:
        order.due_at = None
        order.clearing_until = now + CLEARING_PERIOD
        transition(session, order, "clearing", actor=SYSTEM, now=now)
        return
    # A milestone that is not the last is paid as soon as it is accepted.
    fee = _release(session, order, done.amount, key=f"release:{done.id}")
    done.state, done.released_at = "released", now
    record(
        session,
        order,
        "milestone_released",
        actor=SYSTEM,
        now=now,
        details={"milestone_id": done.id, "milestone": done.position + 1, "amount": done.amount, "fee": fee},
    )
    _start_milestone(order, following, now)
    transition(
        session,
        order,
        "in_progress",
        actor=SYSTEM,
        now=now,
        details={"milestone_id": following.id, "milestone": following.position + 1},
    )


def request_revision(
    session: DbSession,
    *,
    order_id: str,
    party: Party,
    note: str,
    now: dt.datetime,
    expected_version: int | None = None,
) -> ServiceOrder:
    """The buyer asks for changes (409 once the package's revisions are used up); the work restarts
    with a fresh due date of the milestone's delivery days."""
    order = get_order(session, order_id, party, lock=True, expected_version=expected_version)
    check_move(order, "revision_requested", party.role)
    text = _text(note, "note")
    milestone = order.current_milestone
    assert milestone is not None
    if milestone.revisions_used >= order.revisions_included:
        raise RevisionLimitReached(
            f"The package includes {order.revisions_included} revision(s) and all are used. "
            "Accept the delivery or open a dispute.",
            revisions_included=order.revisions_included,
        )
    milestone.revisions_used += 1
    transition(
        session,
        order,
        "revision_requested",
        actor=party.role,
        user_id=party.user_id,
        now=now,
        note=text,
        details={"revision": milestone.revisions_used, "of": order.revisions_included},
    )
    _start_milestone(order, milestone, now)
    return transition(session, order, "in_progress", actor=SYSTEM, now=now)
