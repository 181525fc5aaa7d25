"""Disputes: opening, answering, offers, escalation and the admin's arbitration."""

from __future__ import annotations

import datetime as dt
from typing import Any

from souk_marketplace.service_market.errors import IllegalTransition, InvalidServiceOrder, OfferConflict
from souk_marketplace.service_market.models import ServiceOrder
from souk_marketplace.service_market.services.escrow import _refund, _release
from souk_marketplace.service_market.services.lookups import get_order
from souk_marketplace.service_market.services.parties import Party
from souk_marketplace.service_market.services.terms import ANSWER_WINDOW, MEDIATION_WINDOW, _text
from souk_marketplace.service_market.states import BUYER, PROVIDER, check_move, record, transition
from souk_platform.db import DbSession


def open_dispute(
    session: DbSession,
    *,
    order_id: str,
    party: Party,
    reason: str,
    now: dt.datetime,
    expected_version: int | None = None,
) -> ServiceOrder:
    """The buyer disputes a delivery or an accepted order still in clearing; the provider has 5 days."""
    order = get_order(session, order_id, party, lock=True, expected_version=expected_version)
    check_move(order, "disputed", party.role)
    text = _text(reason, "reason")
    order.dispute_from, order.dispute_reason = order.state, text
    order.answer_until = now + ANSWER_WINDOW
    order.review_until = None
    return transition(session, order, "disputed", actor=party.role, user_id=party.user_id, now=now, note=text)


def answer_dispute(session: DbSession, *, order_id: str, party: Party, answer: str, now: dt.datetime) -> ServiceOrder:
    """The provider answers; mediation starts and lasts up to 30 days."""
    order = get_order(session, order_id, party, lock=True)
    check_move(order, "in_mediation", party.role)
    text = _text(answer, "answer")
    order.answer_until = None
    order.mediation_until = now + MEDIATION_WINDOW
    return transition(session, order, "in_mediation", actor=party.role, user_id=party.user_id, now=now, note=text)


def make_offer(
    session: DbSession, *, order_id: str, party: Party, refund: int, note: str | None, now: dt.datetime
) -> ServiceOrder:
    """In mediation, a party proposes a split: ``refund`` fen back to the buyer, the rest to the provider."""
    order = get_order(session, order_id, party, lock=True)
    if order.state != "in_mediation" or party.role not in (BUYER, PROVIDER):
        raise OfferConflict(f"Service order {order.id} is {order.state}; the parties make offers in mediation.")
    _check_refund(order, refund)
    text = _text(note, "note", required=False)
    order.offer_by, order.offer_refund = party.role, refund
    record(
        session,
        order,
        "offer_made",
        actor=party.role,
        user_id=party.user_id,
        now=now,
        note=text or None,
        details={"refund": refund, "release": order.held - refund},
    )
    return order


def _check_refund(order: ServiceOrder, refund: int) -> None:
    if not isinstance(refund, int) or isinstance(refund, bool) or not 0 <= refund <= order.held:
        raise InvalidServiceOrder(
            f"A refund is 0 to {order.held} fen (what is held).", errors={"refund": [f"0 to {order.held}."]}
        )


def accept_offer(session: DbSession, *, order_id: str, party: Party, refund: int, now: dt.datetime) -> ServiceOrder:
    """The other party agrees to the standing offer (naming its refund, so a changed offer is never
    accepted by mistake): the escrow is split and the order ends."""
    order = get_order(session, order_id, party, lock=True)
    if order.state != "in_mediation" or order.offer_by is None or order.offer_refund is None:
        raise OfferConflict("There is no offer standing in mediation.")
    if order.offer_by == party.role:
        raise OfferConflict("An offer is accepted by the other party.")
    if order.offer_refund != refund:
        raise OfferConflict(
            f"The standing offer refunds {order.offer_refund} fen, not {refund}.", offer_refund=order.offer_refund
        )
    return _resolve(session, order, refund, party=party, now=now, note="agreed in mediation")


def escalate_dispute(session: DbSession, *, order_id: str, party: Party, now: dt.datetime) -> ServiceOrder:
    """Either party takes the dispute to platform arbitration before mediation's 30 days are up."""
    order = get_order(session, order_id, party, lock=True)
    check_move(order, "in_arbitration", party.role)
    order.mediation_until = None
    return transition(session, order, "in_arbitration", actor=party.role, user_id=party.user_id, now=now)


ARBITRATION_DECISIONS = ("full_refund", "partial_refund", "no_refund")


def arbitrate(
    session: DbSession,
    *,
    order_id: str,
    party: Party,
    decision: str,
    refund: int | None,
    note: str,
    now: dt.datetime,
) -> ServiceOrder:
    """A platform admin rules: a full refund, a partial refund of ``refund`` fen, or no refund."""
    order = get_order(session, order_id, party, lock=True)
    if order.state != "in_arbitration":
        raise IllegalTransition(
            f"Service order {order.id} is {order.state}; an admin rules once it is in arbitration.",
            current_state=order.state,
        )
    text = _text(note, "note")
    if decision == "full_refund":
        amount = order.held
    elif decision == "no_refund":
        amount = 0
    elif decision == "partial_refund":
        if refund is None or isinstance(refund, bool) or not 0 < refund < order.held:
            raise InvalidServiceOrder(
                f"A partial refund is between 1 and {order.held - 1} fen.",
                errors={"refund": [f"1 to {order.held - 1}."]},
            )
        amount = refund
    else:
        raise InvalidServiceOrder(
            "Decide full_refund, partial_refund or no_refund.", errors={"decision": ["Unknown decision."]}
        )
    return _resolve(session, order, amount, party=party, now=now, note=text, decision=decision)


def _resolve(
    session: DbSession,
    order: ServiceOrder,
    refund: int,
    *,
    party: Party,
    now: dt.datetime,
    note: str,
    decision: str | None = None,
) -> ServiceOrder:
    """End a dispute: ``refund`` of what is held back to the buyer, the rest to the provider less the fee."""
    held = order.held
    to = "refunded" if refund == held else "settled"
    check_move(order, to, party.role)
    release = held - refund
    _refund(session, order, refund, key="dispute-refund")
    fee = _release(session, order, release, key="dispute-release")
    for milestone in order.milestones:
        if milestone.state != "released":
            milestone.state = "resolved"
    order.offer_by = order.offer_refund = None
    order.answer_until = order.mediation_until = order.clearing_until = order.due_at = None
    details: dict[str, Any] = {"refund": refund, "release": release, "fee": fee}
    if decision:
        details["decision"] = decision
    return transition(session, order, to, actor=party.role, user_id=party.user_id, now=now, note=note, details=details)
