"""The periodic job's body: deadlines, votes and payout holds that came due."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from souk_marketplace.requirements.models import Requirement
from souk_marketplace.requirements.services.delivery import _close_delivery_vote, _expire, _pay_out
from souk_marketplace.requirements.services.reading import _lock
from souk_marketplace.requirements.services.states import UNDELIVERED
from souk_marketplace.requirements.services.terms import Terms, log
from souk_platform.db import DbSession


def _settle_due(session: DbSession, req: Requirement, timer: str, *, now: dt.datetime, terms: Terms) -> bool:
    """Act on one requirement if ``timer`` is still due under its lock; True when it did."""
    if timer == "refunded" and req.state in UNDELIVERED and req.deadline <= now:
        _expire(session, req, now=now)
    elif timer == "votes_closed" and req.state == "delivered" and req.vote_closes_at and req.vote_closes_at <= now:
        _close_delivery_vote(session, req, now=now, terms=terms)
    elif timer == "paid_out" and req.state == "accepted" and req.payout_due_at and req.payout_due_at <= now:
        _pay_out(session, req, now=now)
    else:
        return False
    return True


def run_due_timers(session: DbSession, *, now: dt.datetime, terms: Terms, batch: int = 100) -> dict[str, int]:
    """Refund requirements past their deadline undelivered, close delivery votes whose window ended,
    pay out accepted ones after the hold. Commits each requirement; safe to run twice or concurrently
    (each one is re-checked under its row lock)."""
    done = {"refunded": 0, "votes_closed": 0, "paid_out": 0}
    due = [
        ("refunded", Requirement.state.in_(UNDELIVERED) & (Requirement.deadline <= now)),
        ("votes_closed", (Requirement.state == "delivered") & (Requirement.vote_closes_at <= now)),
        ("paid_out", (Requirement.state == "accepted") & (Requirement.payout_due_at <= now)),
    ]
    for name, condition in due:
        seen: set[str] = set()
        while True:
            stmt = sa.select(Requirement.id).where(condition)
            if seen:
                stmt = stmt.where(Requirement.id.not_in(seen))
            ids = list(session.scalars(stmt.order_by(Requirement.id).limit(batch)))
            if not ids:
                break
            for requirement_id in ids:
                seen.add(requirement_id)
                try:
                    done[name] += _settle_due(session, _lock(session, requirement_id), name, now=now, terms=terms)
                    session.commit()
                except Exception:  # one stuck requirement must not stop the others; it is retried next run
                    session.rollback()
                    log.exception("requirements.timer_failed", requirement_id=requirement_id, timer=name)
    return done
