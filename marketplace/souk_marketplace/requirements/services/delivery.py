"""Development, delivery, the acceptance vote, arbitration and the release of escrow to the developer."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from souk_marketplace.billing.services import exempt_shops
from souk_marketplace.listings.services import mark_crowdfunded, submission_for_version
from souk_marketplace.requirements.errors import DeliveryInvalid, IllegalTransition, NotOpen
from souk_marketplace.requirements.models import Requirement, RequirementProposal, RequirementVote
from souk_marketplace.requirements.services.actors import BACKERS, SYSTEM, Actor, user_actor
from souk_marketplace.requirements.services.pledges import (
    _emit_pledge,
    _escrow,
    _platform_account,
    _refund_all,
    _shop_balance,
)
from souk_marketplace.requirements.services.proposals import (
    _cast,
    _decline_open_proposals,
    _own_proposal,
    _require_backer,
)
from souk_marketplace.requirements.services.reading import _active_pledges, _lock, _weights
from souk_marketplace.requirements.services.states import check_transition, transition
from souk_marketplace.requirements.services.terms import Terms
from souk_platform.apps.models import App, AppVersion
from souk_platform.auth.models import User
from souk_platform.core.errors import Unprocessable
from souk_platform.core.money import format_money, percent_of
from souk_platform.db import DbSession
from souk_platform.ledger.services import PLATFORM, Leg, post_transfer


def _accepted_proposal_of(session: DbSession, *, developer_id: str, proposal_id: str) -> tuple[Requirement, Any]:
    proposal = _own_proposal(session, developer_id=developer_id, proposal_id=proposal_id)
    req = _lock(session, proposal.requirement_id)
    if req.accepted_proposal_id != proposal.id:
        raise IllegalTransition(
            f"Proposal {proposal.id} is {proposal.state}, not the accepted proposal of requirement {req.id}."
        )
    return req, proposal


def start_development(session: DbSession, *, developer: User, proposal_id: str, now: dt.datetime) -> Requirement:
    """The chosen developer starts building (funded → in_development)."""
    req, _proposal = _accepted_proposal_of(session, developer_id=developer.id, proposal_id=proposal_id)
    return transition(session, req, "in_development", actor=user_actor(developer, "developer"), now=now)


def deliver(
    session: DbSession,
    *,
    developer: User,
    proposal_id: str,
    app_id: str,
    app_version_id: str,
    now: dt.datetime,
    terms: Terms,
) -> Requirement:
    """Deliver an app version of the developer's own, already submitted for listing, before the deadline.

    Opens the backers' acceptance vote for ``terms.vote_window``; silence counts as acceptance.
    """
    req, _proposal = _accepted_proposal_of(session, developer_id=developer.id, proposal_id=proposal_id)
    if req.state == "in_development" and now >= req.deadline:
        raise NotOpen(f"Requirement {req.id} passed its deadline undelivered; pledges are being refunded.")
    check_transition(req, "delivered")
    app = session.scalar(sa.select(App).where(App.id == app_id, App.developer_id == developer.id))
    if app is None:
        raise DeliveryInvalid("Deliver one of your own apps.", errors={"app_id": ["Not one of your apps."]})
    version = session.scalar(sa.select(AppVersion).where(AppVersion.id == app_version_id, AppVersion.app_id == app.id))
    if version is None:
        raise DeliveryInvalid(
            "That version is not a version of this app.", errors={"app_version_id": ["Not a version of this app."]}
        )
    if submission_for_version(session, version.id) is None:
        raise DeliveryInvalid(
            "Submit this app version for listing first: the delivery is the version merchants will install.",
            errors={"app_version_id": ["Not submitted for listing."]},
        )
    req.delivered_app_id, req.delivered_app_version_id = app.id, version.id
    req.delivered_at = now
    req.vote_closes_at = now + terms.vote_window
    return transition(
        session,
        req,
        "delivered",
        actor=user_actor(developer, "developer"),
        now=now,
        note=f"{app.name} · v{version.number}",
    )


def vote_on_delivery(
    session: DbSession, *, shop_id: str, requirement_id: str, decision: str, now: dt.datetime, terms: Terms
) -> Requirement:
    """A backer accepts or rejects the delivery while the window is open (changeable until it closes).

    The vote closes when the window ends or every backer has voted. More than half of the pledged
    amount rejecting sends it to admin arbitration; otherwise (silence included) it is accepted.
    """
    if decision not in ("accept", "reject"):
        raise Unprocessable("Decide accept or reject.", errors={"decision": ["accept or reject"]})
    req = _lock(session, requirement_id)
    if req.state != "delivered" or req.vote_closes_at is None or now >= req.vote_closes_at:
        raise NotOpen(f"Requirement {req.id} has no delivery vote open ({req.state}).", current_state=req.state)
    weights = _require_backer(session, req, shop_id)
    _cast(session, req, shop_id=shop_id, kind="delivery", now=now, decision=decision)
    voted = set(
        session.scalars(
            sa.select(RequirementVote.shop_id).where(
                RequirementVote.requirement_id == req.id, RequirementVote.kind == "delivery"
            )
        )
    )
    if set(weights) <= voted:
        _close_delivery_vote(session, req, now=now, terms=terms)
    return req


def _close_delivery_vote(session: DbSession, req: Requirement, *, now: dt.datetime, terms: Terms) -> None:
    weights = _weights(session, req.id)
    rejecting = sum(
        weights.get(vote.shop_id, 0)
        for vote in session.scalars(
            sa.select(RequirementVote).where(
                RequirementVote.requirement_id == req.id,
                RequirementVote.kind == "delivery",
                RequirementVote.decision == "reject",
            )
        )
    )
    # Language-neutral, so every reader's page can label it: rejecting pledges / all pledges.
    note = f"{format_money(rejecting, req.currency)} / {format_money(req.pledged_total, req.currency)}"
    if rejecting * 2 > req.pledged_total:
        transition(session, req, "in_arbitration", actor=BACKERS, now=now, note=note)
    else:
        _accept_delivery(session, req, actor=BACKERS, now=now, terms=terms, note=note)


def _pro_rata(total: int, weights: Sequence[int]) -> list[int]:
    """Split ``total`` in proportion to ``weights`` exactly (largest remainder; ties to the earlier)."""
    whole = sum(weights)
    shares = [total * w // whole for w in weights]
    order = sorted(range(len(weights)), key=lambda i: (-((total * weights[i]) % whole), i))
    for i in order[: total - sum(shares)]:
        shares[i] += 1
    return shares


def _release(session: DbSession, req: Requirement, *, now: dt.datetime, terms: Terms) -> None:
    """Pay the accepted price out of escrow: the developer's share into held earnings, the platform fee,
    and each backer's unused part (pledged beyond its share of the price) back to its balance."""
    proposal = session.get(RequirementProposal, req.accepted_proposal_id)
    assert proposal is not None
    pledges = _active_pledges(session, req.id)
    price = proposal.price_amount
    shares = _pro_rata(price, [p.amount for p in pledges])
    fee = percent_of(price, terms.fee_bps)
    developer_id = proposal.developer_id
    legs = [
        Leg(_platform_account(session, "developer.earnings_held", developer_id, req.currency), price - fee),
        Leg(_platform_account(session, "platform.fees", PLATFORM, req.currency), fee),
    ]
    for row, share in zip(pledges, shares, strict=True):
        legs.append(Leg(_escrow(session, row), -row.amount))
        if row.amount > share:
            legs.append(Leg(_shop_balance(session, row.shop_id, row.currency), row.amount - share))
        row.state, row.released_amount, row.refunded_amount, row.closed_at = "released", share, row.amount - share, now
    post_transfer(
        session,
        shop_id=req.shop_id,
        kind="requirement.release",
        legs=legs,
        reference=req.id,
        dedupe_key=f"requirement-release:{req.id}",
    )
    req.developer_amount, req.fee_amount = price - fee, fee
    for row in pledges:
        _emit_pledge(session, row, "requirement_pledge.released")


def _mark_delivered_app(session: DbSession, req: Requirement, backer_shops: Sequence[str], now: dt.datetime) -> None:
    """The delivered app shows as crowdfunded in the market and is free for the backers."""
    assert req.delivered_app_id is not None
    mark_crowdfunded(session, app_id=req.delivered_app_id, requirement_id=req.id, now=now)
    exempt_shops(
        session,
        app_id=req.delivered_app_id,
        shop_ids=list(backer_shops),
        reason=f"Crowdfunded requirement {req.id}",
        now=now,
    )


def _accept_delivery(
    session: DbSession, req: Requirement, *, actor: Actor, now: dt.datetime, terms: Terms, note: str
) -> None:
    check_transition(req, "accepted")
    backer_shops = sorted(_weights(session, req.id))
    _release(session, req, now=now, terms=terms)
    req.accepted_at = now
    req.payout_due_at = now + terms.hold
    transition(session, req, "accepted", actor=actor, now=now, note=note)
    _mark_delivered_app(session, req, backer_shops, now)


def rule_arbitration(
    session: DbSession,
    *,
    requirement_id: str,
    for_developer: bool,
    note: str,
    admin: Actor,
    now: dt.datetime,
    terms: Terms,
) -> Requirement:
    """An admin settles a rejected delivery: for the developer → accepted and released; against →
    every pledge refunded in full."""
    note = note.strip()
    if not 1 <= len(note) <= 2000:
        raise Unprocessable("Explain the ruling.", errors={"note": ["Explain the ruling in 1 to 2000 characters."]})
    req = _lock(session, requirement_id)
    if req.state != "in_arbitration":
        raise IllegalTransition(f"Requirement {req.id} is {req.state}, not in arbitration.", current_state=req.state)
    if for_developer:
        _accept_delivery(session, req, actor=admin, now=now, terms=terms, note=note)
    else:
        _refund_all(session, req, now=now)
        transition(session, req, "refunded", actor=admin, now=now, note=note)
    return req


def _pay_out(session: DbSession, req: Requirement, *, now: dt.datetime) -> None:
    """After the hold, the developer's share moves from held to available earnings."""
    proposal = session.get(RequirementProposal, req.accepted_proposal_id)
    assert proposal is not None
    amount = req.developer_amount or 0
    if amount:
        post_transfer(
            session,
            shop_id=PLATFORM,
            kind="requirement.payout",
            legs=[
                Leg(
                    _platform_account(session, "developer.earnings_held", proposal.developer_id, req.currency), -amount
                ),
                Leg(_platform_account(session, "developer.earnings", proposal.developer_id, req.currency), amount),
            ],
            reference=req.id,
            dedupe_key=f"requirement-payout:{req.id}",
        )
    transition(session, req, "paid_out", actor=SYSTEM, now=now)


def _expire(session: DbSession, req: Requirement, *, now: dt.datetime) -> None:
    _refund_all(session, req, now=now)
    _decline_open_proposals(session, req, now=now)
    transition(session, req, "refunded", actor=SYSTEM, now=now)  # the timeline says why: the deadline
