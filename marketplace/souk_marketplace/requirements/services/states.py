"""The requirement state machine (one ``StateMachine``): the table, the timeline and ``requirement.<state>`` events."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from souk_marketplace.requirements.errors import IllegalTransition
from souk_marketplace.requirements.models import Requirement, RequirementPledge, RequirementTimelineEntry
from souk_marketplace.requirements.services.actors import Actor
from souk_marketplace.requirements.services.reading import _json_ready, requirement_views
from souk_platform.core.states import Move, StateMachine
from souk_platform.db import DbSession
from souk_platform.events.services import emit

TRANSITIONS: dict[str, frozenset[str]] = {
    "open": frozenset({"funded", "cancelled", "refunded", "merged"}),
    "funded": frozenset({"in_development", "refunded"}),
    "in_development": frozenset({"delivered", "refunded"}),
    "delivered": frozenset({"accepted", "in_arbitration"}),
    "in_arbitration": frozenset({"accepted", "refunded"}),
    "accepted": frozenset({"paid_out"}),
    "paid_out": frozenset(),
    "cancelled": frozenset(),
    "refunded": frozenset(),
    "merged": frozenset(),
}
FINISHED = frozenset(state for state, targets in TRANSITIONS.items() if not targets)
# States whose deadline still matters: nothing delivered yet.
UNDELIVERED = ("open", "funded", "in_development")


# --- the state machine --------------------------------------------------------------------------


def _timeline(
    session: DbSession, req: Requirement, *, event: str, state: str | None, actor: Actor, now: dt.datetime, note: str
) -> None:
    session.add(
        RequirementTimelineEntry(
            requirement_id=req.id,
            at=now,
            state=state,
            event=event,
            actor_type=actor.type,
            actor_id=actor.id,
            actor_name=actor.name[:200],
            note=note[:2000],
        )
    )


def _audience(session: DbSession, req: Requirement) -> list[str]:
    """The shops told about a requirement's changes: its owner and every shop with a pledge on it."""
    backers = session.scalars(
        sa.select(RequirementPledge.shop_id)
        .where(RequirementPledge.requirement_id == req.id, RequirementPledge.state != "withdrawn")
        .distinct()
    )
    return sorted({req.shop_id, *backers})


def _illegal(req: Requirement, to: str, allowed: tuple[str, ...]) -> IllegalTransition:
    return IllegalTransition(
        f"Requirement {req.id} is {req.state}; it cannot become {to} "
        f"(it may become: {', '.join(sorted(allowed)) or 'nothing'}).",
        current_state=req.state,
    )


def _record_move(
    session: DbSession, req: Requirement, move: Move, *, actor: Actor, now: dt.datetime, note: str = ""
) -> None:
    """Write the timeline line and emit ``requirement.<to>`` to the owner and every backer."""
    to = move.to
    if to in FINISHED:
        req.closed_at = now
    _timeline(session, req, event=to, state=to, actor=actor, now=now, note=note)
    session.flush()
    payload = _json_ready(requirement_views(session, [req])[0])
    if note:
        payload["note"] = note
    for shop_id in _audience(session, req):
        emit(
            session,
            shop_id=shop_id,
            type=f"requirement.{to}",
            subject_type="requirement",
            subject_id=req.id,
            payload=payload,
        )


REQUIREMENT_STATES: StateMachine[Requirement] = StateMachine(TRANSITIONS, illegal=_illegal, record=_record_move)


def check_transition(req: Requirement, to: str) -> None:
    """Raise 409 ``invalid-state-transition`` unless the table lets ``req`` become ``to``."""
    REQUIREMENT_STATES.check(req, to)


def transition(
    session: DbSession, req: Requirement, to: str, *, actor: Actor, now: dt.datetime, note: str = ""
) -> Requirement:
    """Move ``req`` to ``to`` if the table allows it (else 409 ``invalid-state-transition``), write the
    timeline line and emit ``requirement.<to>`` to the owner and every backer."""
    REQUIREMENT_STATES.transition(session, req, to, actor=actor, now=now, note=note)
    return req
