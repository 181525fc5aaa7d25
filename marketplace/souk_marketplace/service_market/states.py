"""The service order's state machine (one table, one ``transition()``) and its timeline.

``TRANSITIONS[state][to]`` names the parties who may make that move; ``SERVICE_ORDER_STATES`` (the
platform's one ``StateMachine``) derives the states and final states from it. ``transition()`` checks the move and
the party, changes the state, writes a timeline line and emits ``service_order.<to>`` in the caller's
transaction. Everything else that happens to an order (a message, a file, an extension, an
offer) goes through ``record()``: a timeline line plus ``service_order.<kind>``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from souk_marketplace.service_market.errors import IllegalTransition, NotYourMove
from souk_marketplace.service_market.models import ServiceOrder, ServiceOrderEvent
from souk_platform.core.states import Move, StateMachine
from souk_platform.db import DbSession
from souk_platform.events.services import emit

BUYER, PROVIDER, ADMIN, SYSTEM = "buyer", "provider", "admin", "system"
ACTORS = (BUYER, PROVIDER, ADMIN, SYSTEM)

# state → {state it may move to: the parties who may move it there}
TRANSITIONS: dict[str, dict[str, frozenset[str]]] = {
    "placed": {"requirements_pending": frozenset({SYSTEM})},
    "requirements_pending": {
        "in_progress": frozenset({BUYER}),  # the buyer sends the requirements
        "cancelled": frozenset({BUYER, PROVIDER}),  # withdrawn or declined before work starts: full refund
    },
    "in_progress": {
        "delivered": frozenset({PROVIDER}),
        "cancelled": frozenset({BUYER}),  # only when overdue by more than 24 h: refund of everything held
    },
    "delivered": {
        "accepted": frozenset({BUYER}),
        "revision_requested": frozenset({BUYER}),  # counted against the package's revisions
        "auto_completed": frozenset({SYSTEM}),  # the review window passed in silence
        "disputed": frozenset({BUYER}),
    },
    "revision_requested": {"in_progress": frozenset({SYSTEM})},
    # After acceptance: the next milestone starts, or the last one goes into clearing.
    "accepted": {
        "in_progress": frozenset({SYSTEM}),
        "clearing": frozenset({SYSTEM}),
        "disputed": frozenset({BUYER}),
    },
    "auto_completed": {"in_progress": frozenset({SYSTEM}), "clearing": frozenset({SYSTEM})},
    "clearing": {"settled": frozenset({SYSTEM}), "disputed": frozenset({BUYER})},
    "disputed": {
        "in_mediation": frozenset({PROVIDER}),  # the provider answers within 5 days
        "refunded": frozenset({SYSTEM}),  # ... or the buyer gets everything held back
    },
    "in_mediation": {
        "in_arbitration": frozenset({BUYER, PROVIDER, SYSTEM}),  # either party asks, or 30 days pass
        "settled": frozenset({BUYER, PROVIDER}),  # an agreed split that leaves the provider something
        "refunded": frozenset({BUYER, PROVIDER}),  # an agreed full refund
    },
    "in_arbitration": {"settled": frozenset({ADMIN}), "refunded": frozenset({ADMIN})},
    "settled": {},
    "refunded": {},
    "cancelled": {},
}
DISPUTE_STATES = frozenset({"disputed", "in_mediation", "in_arbitration"})


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


def order_payload(order: ServiceOrder) -> dict[str, Any]:
    """The order as events carry it, with its ``version``."""
    return {
        "id": order.id,
        "shop_id": order.shop_id,
        "provider_id": order.provider_id,
        "service_id": order.service_id,
        "package_id": order.package_id,
        "kind": order.kind,
        "state": order.state,
        "amount": order.amount,
        "currency": order.currency,
        "held": order.held,
        "released_total": order.released_total,
        "fee_total": order.fee_total,
        "refunded_total": order.refunded_total,
        "due_at": _iso(order.due_at),
        "review_until": _iso(order.review_until),
        "clearing_until": _iso(order.clearing_until),
        "version": order.version,
    }


def _illegal(order: ServiceOrder, to: str, allowed: tuple[str, ...]) -> IllegalTransition:
    return IllegalTransition(
        f"Service order {order.id} is {order.state}; it cannot become {to} "
        f"(it may become: {', '.join(allowed) or 'nothing (it is finished)'}).",
        current_state=order.state,
    )


def _not_your_move(order: ServiceOrder, to: str, actor: str) -> NotYourMove:
    return NotYourMove(
        f"Service order {order.id} is {order.state}; the {actor} cannot move it to {to}.",
        current_state=order.state,
    )


def allowed_moves(state: str, actor: str) -> list[str]:
    """The states ``actor`` may move an order in ``state`` to (pages show buttons from it)."""
    return SERVICE_ORDER_STATES.allowed_moves(state, by=actor)


def check_move(order: ServiceOrder, to: str, actor: str) -> None:
    """409 ``invalid-state-transition`` when the table has no such move, 409 ``not-your-move`` for the wrong party."""
    SERVICE_ORDER_STATES.check(order, to, by=actor)


def record(
    session: DbSession,
    order: ServiceOrder,
    kind: str,
    *,
    actor: str,
    now: dt.datetime,
    user_id: str | None = None,
    note: str | None = None,
    details: dict[str, Any] | None = None,
    from_state: str | None = None,
    to_state: str | None = None,
) -> ServiceOrderEvent:
    """Write a timeline line and emit ``service_order.<to_state or kind>`` with the order and the line."""
    line = ServiceOrderEvent(
        order_id=order.id,
        shop_id=order.shop_id,
        at=now,
        actor=actor,
        user_id=user_id,
        kind=kind,
        from_state=from_state,
        to_state=to_state,
        note=note,
        details=details or {},
    )
    session.add(line)
    session.flush()
    payload = order_payload(order)
    payload["timeline"] = {
        "id": line.id,
        "kind": kind,
        "actor": actor,
        "from_state": from_state,
        "to_state": to_state,
        "note": note,
        "details": line.details,
        "at": now.isoformat(),
    }
    emit(
        session,
        shop_id=order.shop_id,
        type=f"service_order.{to_state or kind}",
        subject_type="service_order",
        subject_id=order.id,
        payload=payload,
    )
    return line


def _record_move(
    session: DbSession,
    order: ServiceOrder,
    move: Move,
    *,
    now: dt.datetime,
    user_id: str | None = None,
    note: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    if move.to in FINAL_STATES:
        order.closed_at = now
    session.flush()  # bumps the version the event carries
    record(
        session,
        order,
        "state",
        actor=move.by or SYSTEM,
        now=now,
        user_id=user_id,
        note=note,
        details=details,
        from_state=move.before,
        to_state=move.to,
    )


SERVICE_ORDER_STATES: StateMachine[ServiceOrder] = StateMachine(
    TRANSITIONS, illegal=_illegal, wrong_party=_not_your_move, record=_record_move
)
STATES = SERVICE_ORDER_STATES.states
FINAL_STATES = SERVICE_ORDER_STATES.final_states


def transition(
    session: DbSession,
    order: ServiceOrder,
    to: str,
    *,
    actor: str,
    now: dt.datetime,
    user_id: str | None = None,
    note: str | None = None,
    details: dict[str, Any] | None = None,
) -> ServiceOrder:
    """Move ``order`` to ``to`` if the table lets ``actor`` do it; record it on the timeline and the outbox."""
    SERVICE_ORDER_STATES.transition(session, order, to, by=actor, now=now, user_id=user_id, note=note, details=details)
    return order
