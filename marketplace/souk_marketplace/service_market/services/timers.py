"""The timers one periodic job runs: expiries, auto-completion, settling and dispute deadlines."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import InstrumentedAttribute

from souk_marketplace.service_market.models import ServiceExtension, ServiceOrder
from souk_marketplace.service_market.services.delivery import _after_acceptance
from souk_marketplace.service_market.services.disputes import _resolve
from souk_marketplace.service_market.services.escrow import _release
from souk_marketplace.service_market.services.lookups import get_order
from souk_marketplace.service_market.services.parties import SYSTEM_PARTY
from souk_marketplace.service_market.services.terms import log
from souk_marketplace.service_market.states import SYSTEM, record, transition
from souk_platform.core.errors import SoukError
from souk_platform.db import DbSession


def _sweep(
    session: DbSession,
    *,
    state: str,
    deadline: InstrumentedAttribute[dt.datetime | None],
    now: dt.datetime,
    act: Callable[[ServiceOrder], Any],
) -> int:
    """Act on each order in ``state`` whose ``deadline`` has passed, re-checked under its lock,
    committing each on its own (a failure is logged and the next order goes on)."""
    done = 0
    due = sa.select(ServiceOrder.id).where(ServiceOrder.state == state, deadline <= now).limit(500)
    for order_id in list(session.scalars(due)):
        try:
            order = get_order(session, order_id, SYSTEM_PARTY, lock=True)
            until = getattr(order, deadline.key)
            if order.state != state or until is None or until > now:  # moved on since the query
                session.rollback()
                continue
            act(order)
            session.commit()
            done += 1
        except SoukError:
            session.rollback()
            log.exception("service_order.timer_failed", order_id=order_id)
    return done


def expire_extensions(session: DbSession, *, now: dt.datetime) -> int:
    """Extension requests unanswered for 4 days expire (the due date stays)."""
    done = 0
    due = sa.select(ServiceExtension.id, ServiceExtension.order_id).where(
        ServiceExtension.state == "pending", ServiceExtension.expires_at <= now
    )
    for extension_id, order_id in session.execute(due.limit(500)).all():
        order = get_order(session, order_id, SYSTEM_PARTY, lock=True)
        extension = session.get(ServiceExtension, extension_id, populate_existing=True)
        if extension is None or extension.state != "pending":
            session.rollback()
            continue
        extension.state, extension.decided_at = "expired", now
        record(
            session,
            order,
            "extension_expired",
            actor=SYSTEM,
            now=now,
            details={"extension_id": extension.id, "days": extension.days},
        )
        session.commit()
        done += 1
    return done


def auto_complete(session: DbSession, *, now: dt.datetime) -> int:
    """Deliveries whose review window passed in silence count as accepted."""

    def act(order: ServiceOrder) -> None:
        transition(session, order, "auto_completed", actor=SYSTEM, now=now)
        _after_acceptance(session, order, now=now)

    return _sweep(session, state="delivered", deadline=ServiceOrder.review_until, now=now, act=act)


def settle(session: DbSession, *, now: dt.datetime) -> int:
    """Orders whose 14 days of clearing passed: what is held goes to the provider, less the fee."""

    def act(order: ServiceOrder) -> None:
        release = order.held
        fee = _release(session, order, release, key="settle")
        for milestone in order.milestones:
            if milestone.state == "accepted":
                milestone.state, milestone.released_at = "released", now
        order.clearing_until = None
        transition(session, order, "settled", actor=SYSTEM, now=now, details={"release": release, "fee": fee})

    return _sweep(session, state="clearing", deadline=ServiceOrder.clearing_until, now=now, act=act)


def refund_unanswered_disputes(session: DbSession, *, now: dt.datetime) -> int:
    """A provider silent for 5 days loses the dispute: everything held goes back to the buyer."""

    def act(order: ServiceOrder) -> None:
        _resolve(
            session,
            order,
            order.held,
            party=SYSTEM_PARTY,
            now=now,
            note="The provider did not answer the dispute within 5 days.",
        )

    return _sweep(session, state="disputed", deadline=ServiceOrder.answer_until, now=now, act=act)


def escalate_stale_mediations(session: DbSession, *, now: dt.datetime) -> int:
    """Mediation without an agreement after 30 days goes to platform arbitration."""

    def act(order: ServiceOrder) -> None:
        order.mediation_until = None
        transition(session, order, "in_arbitration", actor=SYSTEM, now=now, note="30 days of mediation ended.")

    return _sweep(session, state="in_mediation", deadline=ServiceOrder.mediation_until, now=now, act=act)


# The timers, run in this order by one periodic job (each commits order by order; safe to run twice).
TIMERS: tuple[Callable[..., int], ...] = (
    expire_extensions,
    auto_complete,
    settle,
    refund_unanswered_disputes,
    escalate_stale_mediations,
)


def run_timers(session: DbSession, *, now: dt.datetime) -> dict[str, int]:
    """Run every timer once; returns how many orders each moved."""
    return {timer.__name__: timer(session, now=now) for timer in TIMERS}
