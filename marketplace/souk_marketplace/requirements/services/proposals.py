"""Developers' proposals and choosing one (by the owner, or by the backers' vote)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

import sqlalchemy as sa

from souk_marketplace.requirements.errors import (
    DuplicateProposal,
    IllegalTransition,
    NotABacker,
    NotOpen,
    ProposalInvalid,
    ProposalNotFound,
    ProposalOverBudget,
    VotingMode,
)
from souk_marketplace.requirements.models import Requirement, RequirementProposal, RequirementVote
from souk_marketplace.requirements.services.actors import BACKERS, Actor, user_actor
from souk_marketplace.requirements.services.reading import _lock, _weights
from souk_marketplace.requirements.services.states import _timeline, transition
from souk_marketplace.requirements.services.terms import MAX_AMOUNT
from souk_platform.auth.models import User
from souk_platform.core.errors import Forbidden
from souk_platform.core.money import format_money
from souk_platform.db import DbSession
from souk_platform.events.services import emit


def _decline_open_proposals(session: DbSession, req: Requirement, *, now: dt.datetime) -> None:
    for proposal in session.scalars(
        sa.select(RequirementProposal).where(
            RequirementProposal.requirement_id == req.id, RequirementProposal.state == "submitted"
        )
    ):
        proposal.state = "declined"
        proposal.decided_at = now


def _own_proposal(session: DbSession, *, developer_id: str, proposal_id: str) -> RequirementProposal:
    found = session.scalar(
        sa.select(RequirementProposal).where(
            RequirementProposal.id == proposal_id, RequirementProposal.developer_id == developer_id
        )
    )
    if found is None:
        raise ProposalNotFound(f"You have no proposal {proposal_id}.")
    return found


def submit_proposal(
    session: DbSession,
    *,
    developer: User,
    requirement_id: str,
    price_amount: int,
    delivery_date: dt.date,
    plan: str,
    now: dt.datetime,
) -> RequirementProposal:
    """A developer offers to build an open requirement (one open proposal per developer and requirement)."""
    if not developer.is_developer:
        raise Forbidden("Only developer accounts submit proposals.")
    req = _lock(session, requirement_id)
    if req.state != "open" or now >= req.deadline:
        raise NotOpen(f"Requirement {req.id} is not taking proposals ({req.state}).", current_state=req.state)
    plan = plan.strip()
    problems: dict[str, list[str]] = {}
    if not 1 <= price_amount <= MAX_AMOUNT:
        problems["price_amount"] = ["The price is a positive amount in minor units (fen)."]
    if not now.date() <= delivery_date <= req.deadline.date():
        problems["delivery_date"] = [f"Deliver between today and the deadline ({req.deadline.date().isoformat()})."]
    if not 1 <= len(plan) <= 10000:
        problems["plan"] = ["Describe the plan in 1 to 10000 characters."]
    if problems:
        raise ProposalInvalid("The proposal has invalid fields.", errors=problems)
    if session.scalar(
        sa.select(RequirementProposal.id).where(
            RequirementProposal.requirement_id == req.id,
            RequirementProposal.developer_id == developer.id,
            RequirementProposal.state == "submitted",
        )
    ):
        raise DuplicateProposal("You already have an open proposal on this requirement; withdraw it first.")
    proposal = RequirementProposal(
        requirement_id=req.id,
        developer_id=developer.id,
        price_amount=price_amount,
        currency=req.currency,
        delivery_date=delivery_date,
        plan=plan,
        state="submitted",
        created_at=now,
    )
    session.add(proposal)
    session.flush()
    _timeline(
        session, req, event="proposal_submitted", state=None, actor=user_actor(developer, "developer"), now=now, note=""
    )
    emit(
        session,
        shop_id=req.shop_id,
        type="requirement.proposal_submitted",
        subject_type="requirement",
        subject_id=req.id,
        payload={
            "requirement_id": req.id,
            "proposal_id": proposal.id,
            "price_amount": price_amount,
            "currency": req.currency,
            "delivery_date": delivery_date.isoformat(),
            "version": req.version,
        },
    )
    return proposal


def withdraw_proposal(
    session: DbSession, *, developer_id: str, proposal_id: str, now: dt.datetime
) -> RequirementProposal:
    proposal = _own_proposal(session, developer_id=developer_id, proposal_id=proposal_id)
    _lock(session, proposal.requirement_id)
    session.refresh(proposal)
    if proposal.state != "submitted":
        raise IllegalTransition(f"Proposal {proposal.id} is {proposal.state}; only a submitted one can be withdrawn.")
    proposal.state = "withdrawn"
    proposal.decided_at = now
    return proposal


def _accept(
    session: DbSession, req: Requirement, proposal: RequirementProposal, *, actor: Actor, now: dt.datetime
) -> Requirement:
    if proposal.state != "submitted":
        raise IllegalTransition(f"Proposal {proposal.id} is {proposal.state}; only a submitted one can be accepted.")
    if req.state == "open" and now >= req.deadline:
        raise NotOpen(f"Requirement {req.id} passed its deadline; pledges are being refunded.")
    if req.state == "open" and proposal.price_amount > req.pledged_total:
        raise ProposalOverBudget(
            f"The proposal asks {proposal.price_amount} {req.currency} but {req.pledged_total} is pledged.",
            price_amount=proposal.price_amount,
            pledged_total=req.pledged_total,
        )
    transition(
        session,
        req,
        "funded",
        actor=actor,
        now=now,
        note=f"{format_money(proposal.price_amount, req.currency)} · {proposal.id}",
    )
    proposal.state = "accepted"
    proposal.decided_at = now
    req.accepted_proposal_id = proposal.id
    _decline_open_proposals(session, req, now=now)
    return req


def accept_proposal(
    session: DbSession, *, shop_id: str, proposal_id: str, actor: Actor, now: dt.datetime
) -> Requirement:
    """The owner picks a proposal (owner mode): pledges lock; the price must not exceed the pledged total."""
    proposal = session.get(RequirementProposal, proposal_id)
    if proposal is None:
        raise ProposalNotFound(f"There is no proposal {proposal_id} on your shop's requirements.")
    req = _lock(session, proposal.requirement_id)
    if req.shop_id != shop_id:
        raise ProposalNotFound(f"There is no proposal {proposal_id} on your shop's requirements.")
    if req.selection_mode != "owner":
        raise VotingMode("Backers choose the proposal of this requirement by a pledge-weighted vote.")
    session.refresh(proposal)
    return _accept(session, req, proposal, actor=actor, now=now)


def _require_backer(session: DbSession, req: Requirement, shop_id: str) -> dict[str, int]:
    weights = _weights(session, req.id)
    if shop_id not in weights:
        raise NotABacker(f"Your shop has no active pledge on requirement {req.id}.")
    return weights


def _cast(session: DbSession, req: Requirement, *, shop_id: str, kind: str, now: dt.datetime, **choice: Any) -> None:
    vote = session.scalar(
        sa.select(RequirementVote).where(
            RequirementVote.requirement_id == req.id, RequirementVote.shop_id == shop_id, RequirementVote.kind == kind
        )
    )
    if vote is None:
        vote = RequirementVote(requirement_id=req.id, shop_id=shop_id, kind=kind)
        session.add(vote)
    for name, value in choice.items():
        setattr(vote, name, value)
    vote.cast_at = now
    session.flush()


def vote_for_proposal(
    session: DbSession, *, shop_id: str, requirement_id: str, proposal_id: str, now: dt.datetime
) -> Requirement:
    """A backer votes for a proposal (vote mode). One vote per shop, changeable while open.

    A proposal wins as soon as its voters' pledges are more than half of everything pledged
    (and its price fits the pledged total); exactly half is not a majority.
    """
    req = _lock(session, requirement_id)
    if req.selection_mode != "vote":
        raise VotingMode("The owner of this requirement picks its proposal; backers do not vote on it.")
    if req.state != "open" or now >= req.deadline:
        raise NotOpen(f"Requirement {req.id} is {req.state}: the proposal vote is closed.", current_state=req.state)
    _require_backer(session, req, shop_id)
    proposal = session.get(RequirementProposal, proposal_id)
    if proposal is None or proposal.requirement_id != req.id:
        raise ProposalNotFound(f"Requirement {req.id} has no proposal {proposal_id}.")
    if proposal.state != "submitted":
        raise IllegalTransition(f"Proposal {proposal.id} is {proposal.state}; vote for a submitted one.")
    _cast(session, req, shop_id=shop_id, kind="proposal", now=now, proposal_id=proposal.id)
    _settle_proposal_vote(session, req, now=now)
    return req


def _settle_proposal_vote(session: DbSession, req: Requirement, *, now: dt.datetime) -> RequirementProposal | None:
    if req.state != "open" or req.pledged_total <= 0:
        return None
    weights = _weights(session, req.id)
    tally: dict[str, int] = defaultdict(int)
    for vote in session.scalars(
        sa.select(RequirementVote).where(RequirementVote.requirement_id == req.id, RequirementVote.kind == "proposal")
    ):
        if vote.proposal_id:
            tally[vote.proposal_id] += weights.get(vote.shop_id, 0)
    for proposal_id, weight in sorted(tally.items(), key=lambda item: -item[1]):
        if weight * 2 <= req.pledged_total:
            break
        proposal = session.get(RequirementProposal, proposal_id)
        if proposal and proposal.state == "submitted" and proposal.price_amount <= req.pledged_total:
            _accept(session, req, proposal, actor=BACKERS, now=now)
            return proposal
    return None
