"""Merging a duplicate requirement into another, pledges and all."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from souk_marketplace.requirements.errors import MergeInvalid
from souk_marketplace.requirements.models import Requirement, RequirementVote
from souk_marketplace.requirements.services.actors import Actor
from souk_marketplace.requirements.services.pledges import _emit_pledge, _refresh_totals
from souk_marketplace.requirements.services.proposals import _decline_open_proposals
from souk_marketplace.requirements.services.reading import _active_pledges, _lock
from souk_marketplace.requirements.services.states import _timeline, transition
from souk_platform.core.money import format_money
from souk_platform.db import DbSession


def merge_requirements(
    session: DbSession, *, duplicate_id: str, survivor_id: str, admin: Actor, now: dt.datetime
) -> Requirement:
    """Merge an open duplicate into an open survivor: active pledges re-point (escrow stays per pledge),
    each pledger is told (``requirement_pledge.moved``) and may withdraw in full until a proposal on the
    survivor is accepted. Returns the survivor."""
    if duplicate_id == survivor_id:
        raise MergeInvalid("A requirement cannot be merged into itself.")
    first, second = sorted([duplicate_id, survivor_id])
    locked = {first: _lock(session, first), second: _lock(session, second)}  # id order: no deadlock
    duplicate, survivor = locked[duplicate_id], locked[survivor_id]
    for req in (duplicate, survivor):
        if req.state != "open":
            raise MergeInvalid(f"Requirement {req.id} is {req.state}; only open requirements merge.")
    if duplicate.currency != survivor.currency:
        raise MergeInvalid("The requirements are funded in different currencies.")
    moved = _active_pledges(session, duplicate.id)
    for row in moved:
        row.requirement_id = survivor.id
        row.merged_from_id = duplicate.id
        row.merged_at = now
    session.execute(sa.delete(RequirementVote).where(RequirementVote.requirement_id == duplicate.id))
    _decline_open_proposals(session, duplicate, now=now)
    _refresh_totals(session, duplicate)
    _refresh_totals(session, survivor)
    duplicate.merged_into_id = survivor.id
    transition(session, duplicate, "merged", actor=admin, now=now, note=f"{survivor.id} · {survivor.title}")
    _timeline(
        session,
        survivor,
        event="merged_in",
        state=None,
        actor=admin,
        now=now,
        note=f"{duplicate.title} · {len(moved)} × · {format_money(sum(p.amount for p in moved), survivor.currency)}",
    )
    for row in moved:
        _emit_pledge(
            session,
            row,
            "requirement_pledge.moved",
            from_requirement_id=duplicate.id,
            to_requirement_id=survivor.id,
            withdrawable_until="a proposal on the surviving requirement is accepted",
        )
    return survivor
