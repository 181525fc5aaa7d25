"""Pledges: money into a pledge's escrow account, withdrawals and refunds out of it."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from souk_marketplace.requirements.errors import NotOpen, PledgeInvalid, PledgeLocked
from souk_marketplace.requirements.models import Requirement, RequirementPledge
from souk_marketplace.requirements.services.proposals import _settle_proposal_vote
from souk_marketplace.requirements.services.reading import _active_pledges, _lock, get_pledge
from souk_marketplace.requirements.services.terms import MAX_AMOUNT
from souk_platform.db import DbSession
from souk_platform.events.services import emit
from souk_platform.ledger.services import PLATFORM, Leg, get_account, post_transfer
from souk_platform.shops.models import Shop


def _escrow(session: DbSession, pledge_row: RequirementPledge) -> Any:
    return get_account(
        session, shop_id=pledge_row.shop_id, kind="escrow.pledge", owner_id=pledge_row.id, unit=pledge_row.currency
    )


def _shop_balance(session: DbSession, shop_id: str, currency: str) -> Any:
    return get_account(session, shop_id=shop_id, kind="shop.balance", owner_id=shop_id, unit=currency)


def _platform_account(session: DbSession, kind: str, owner_id: str, currency: str) -> Any:
    """A developer's earnings or the platform's fees: platform-level accounts (shop_id "platform")."""
    return get_account(session, shop_id=PLATFORM, kind=kind, owner_id=owner_id, unit=currency)


def _refresh_totals(session: DbSession, req: Requirement) -> None:
    session.flush()
    total, backers = session.execute(
        sa.select(
            sa.func.coalesce(sa.func.sum(RequirementPledge.amount), 0),
            sa.func.count(sa.distinct(RequirementPledge.shop_id)),
        ).where(RequirementPledge.requirement_id == req.id, RequirementPledge.state == "active")
    ).one()
    req.pledged_total, req.backers_count = int(total), int(backers)


def pledge_payload(pledge_row: RequirementPledge) -> dict[str, Any]:
    return {
        "id": pledge_row.id,
        "requirement_id": pledge_row.requirement_id,
        "amount": pledge_row.amount,
        "currency": pledge_row.currency,
        "state": pledge_row.state,
        "merged_from_id": pledge_row.merged_from_id,
        "released_amount": pledge_row.released_amount,
        "refunded_amount": pledge_row.refunded_amount,
    }


def _emit_pledge(session: DbSession, pledge_row: RequirementPledge, type: str, **extra: Any) -> None:
    emit(
        session,
        shop_id=pledge_row.shop_id,
        type=type,
        subject_type="requirement_pledge",
        subject_id=pledge_row.id,
        payload={**pledge_payload(pledge_row), **extra},
    )


def pledge(
    session: DbSession, *, shop_id: str, requirement_id: str, amount: int, pledged_by: str | None, now: dt.datetime
) -> RequirementPledge:
    """Pledge ``amount`` (minor units) from the shop's balance into a new escrow account of its own.

    Only while the requirement is open and before its deadline; a low balance is 422 and moves nothing.
    """
    if not 1 <= amount <= MAX_AMOUNT:
        raise PledgeInvalid("Pledge a positive amount.", errors={"amount": ["A positive amount in minor units."]})
    req = _lock(session, requirement_id)
    if req.state != "open":
        raise NotOpen(
            f"Requirement {req.id} is {req.state}: it takes pledges only while open.", current_state=req.state
        )
    if now >= req.deadline:
        raise NotOpen(f"Requirement {req.id} passed its deadline; pledges are being refunded.")
    shop = session.get(Shop, shop_id)
    if shop is None or shop.currency != req.currency:
        raise PledgeInvalid(
            f"This requirement is funded in {req.currency}; your shop works in {shop.currency if shop else '?'}.",
            errors={"amount": [f"Pledges are in {req.currency}."]},
        )
    row = RequirementPledge(
        requirement_id=req.id,
        shop_id=shop_id,
        pledged_by=pledged_by,
        amount=amount,
        currency=req.currency,
        state="active",
        released_amount=0,
        refunded_amount=0,
        created_at=now,
    )
    session.add(row)
    session.flush()
    post_transfer(
        session,
        shop_id=shop_id,
        kind="requirement.pledge",
        legs=[Leg(_shop_balance(session, shop_id, req.currency), -amount), Leg(_escrow(session, row), amount)],
        reference=req.id,
        dedupe_key=f"requirement-pledge:{row.id}",
    )
    _refresh_totals(session, req)
    _emit_pledge(session, row, "requirement_pledge.created")
    return row


def _refund_pledge(session: DbSession, pledge_row: RequirementPledge, *, state: str, now: dt.datetime) -> None:
    """Give the pledge's whole escrow back to its shop (once: the dedupe key is per pledge)."""
    escrow = _escrow(session, pledge_row)
    session.refresh(escrow)
    held = escrow.balance
    if held:
        post_transfer(
            session,
            shop_id=pledge_row.shop_id,
            kind="requirement.refund",
            legs=[Leg(escrow, -held), Leg(_shop_balance(session, pledge_row.shop_id, pledge_row.currency), held)],
            reference=pledge_row.requirement_id,
            dedupe_key=f"requirement-refund:{pledge_row.id}",
        )
    pledge_row.state = state
    pledge_row.refunded_amount = held
    pledge_row.closed_at = now


def withdraw_pledge(session: DbSession, *, shop_id: str, pledge_id: str, now: dt.datetime) -> RequirementPledge:
    """Take a pledge back in full while its requirement is open (no proposal accepted yet; 409 after)."""
    row = get_pledge(session, shop_id=shop_id, pledge_id=pledge_id)
    while True:  # a merge may move the pledge between reading it and locking its requirement
        req = _lock(session, row.requirement_id)
        session.refresh(row)
        if row.requirement_id == req.id:
            break
    if row.state != "active":
        raise PledgeLocked(f"Pledge {row.id} is already {row.state}.", current_state=row.state)
    if req.state != "open":
        raise PledgeLocked(
            f"Requirement {req.id} is {req.state}: a proposal was accepted, so pledges are locked.",
            current_state=req.state,
        )
    _refund_pledge(session, row, state="withdrawn", now=now)
    _refresh_totals(session, req)
    _emit_pledge(session, row, "requirement_pledge.withdrawn")
    if req.selection_mode == "vote":
        _settle_proposal_vote(session, req, now=now)  # a smaller total can give a proposal its majority
    return row


def _refund_all(session: DbSession, req: Requirement, *, now: dt.datetime) -> None:
    for row in _active_pledges(session, req.id):
        _refund_pledge(session, row, state="refunded", now=now)
        _emit_pledge(session, row, "requirement_pledge.refunded")
    _refresh_totals(session, req)
