"""定制众筹 rules: post, pledge, propose, pick, deliver, vote, arbitrate, release, refund, merge.

The state machine is ``TRANSITIONS`` (a ``StateMachine``) plus ``transition()``, which checks it, writes the
timeline line (actor, time, note) and emits ``requirement.<state>`` to the owner and every backer.
Every change first locks the requirement's row: pledges, proposals and votes all hang off it, so
parallel pledges, withdrawals and state changes take turns per requirement and the cached totals
stay exact. Money moves only through ``post_transfer`` with a dedupe key, and each pledge's escrow
account is filled once and emptied once (refund, or release to the developer with any surplus back).
The platform never keeps pledged money: what leaves escrow goes to the backer, or to the developer
and the platform fee on an accepted delivery.

Functions work in the caller's transaction and leave nothing behind when they raise, except
``run_due_timers``, which commits each requirement it settles (it is the periodic job's body).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
import structlog

from souk_marketplace.billing.services import exempt_shops
from souk_marketplace.listings.services import mark_crowdfunded, submission_for_version
from souk_marketplace.requirements.errors import (
    DeliveryInvalid,
    DuplicateProposal,
    IllegalTransition,
    MergeInvalid,
    NotABacker,
    NotOpen,
    PledgeInvalid,
    PledgeLocked,
    PledgeNotFound,
    ProposalInvalid,
    ProposalNotFound,
    ProposalOverBudget,
    RequirementInvalid,
    RequirementNotFound,
    VotingMode,
)
from souk_marketplace.requirements.models import (
    CATEGORIES,
    SELECTION_MODES,
    Requirement,
    RequirementPledge,
    RequirementProposal,
    RequirementTimelineEntry,
    RequirementVote,
)
from souk_marketplace.requirements.similarity import DUPLICATE_THRESHOLD, SimilarityIndex
from souk_platform.api.pagination import Page, page_of, sorted_page_of
from souk_platform.apps.models import App, AppVersion
from souk_platform.auth.models import User
from souk_platform.core.errors import Forbidden, Unprocessable
from souk_platform.core.money import format_money, percent_of
from souk_platform.core.states import Move, StateMachine
from souk_platform.db import DbSession
from souk_platform.events.services import emit
from souk_platform.ledger.services import PLATFORM, Leg, get_account, post_transfer
from souk_platform.shops.models import Shop

log = structlog.get_logger("souk.requirements")

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
SORTS = ("newest", "pledged", "backers", "deadline")

MAX_AMOUNT = 100_000_000_000  # 10 亿 yuan in fen: anything above is a typo
MIN_DEADLINE = dt.timedelta(days=1)
MAX_DEADLINE = dt.timedelta(days=366)
SIMILAR_CORPUS = 2000  # the most recent open requirements compared with a new one

__all__ = [
    "BACKERS",
    "FINISHED",
    "MAX_AMOUNT",
    "SORTS",
    "SYSTEM",
    "TRANSITIONS",
    "Actor",
    "Terms",
    "accept_proposal",
    "board_page",
    "cancel_requirement",
    "check_transition",
    "deliver",
    "duplicate_pairs",
    "get_pledge",
    "get_requirement",
    "merge_requirements",
    "pledge",
    "pledge_payload",
    "pledges_stmt",
    "post_requirement",
    "proposals_stmt",
    "requirement_detail",
    "requirement_view",
    "requirement_views",
    "rule_arbitration",
    "run_due_timers",
    "shop_actor",
    "similar_requirements",
    "start_development",
    "submit_proposal",
    "terms_from_config",
    "transition",
    "user_actor",
    "vote_for_proposal",
    "vote_on_delivery",
    "withdraw_pledge",
    "withdraw_proposal",
]


@dataclass(frozen=True, slots=True)
class Terms:
    """The platform's crowdfunding terms: fee in basis points, payout hold, delivery vote window."""

    fee_bps: int = 2000
    hold: dt.timedelta = dt.timedelta(days=7)
    vote_window: dt.timedelta = dt.timedelta(days=7)


def terms_from_config(config: Mapping[str, Any]) -> Terms:
    """Terms from app settings; the fee and the hold are the marketplace's (billing uses the same)."""
    return Terms(
        fee_bps=int(config.get("SOUK_MARKETPLACE_FEE_BPS", 2000)),
        hold=dt.timedelta(days=float(config.get("SOUK_PAYOUT_HOLD_DAYS", 7))),
        vote_window=dt.timedelta(days=float(config.get("SOUK_REQUIREMENT_VOTE_DAYS", 7))),
    )


@dataclass(frozen=True, slots=True)
class Actor:
    """Who did something, as the timeline shows it: shop | developer | admin | backers | system."""

    type: str
    id: str | None
    name: str


SYSTEM = Actor("system", None, "Souk")
BACKERS = Actor("backers", None, "Backers")


def shop_actor(session: DbSession, shop_id: str) -> Actor:
    shop = session.get(Shop, shop_id)
    return Actor("shop", shop_id, shop.name if shop else shop_id)


def user_actor(user: User, type: str) -> Actor:
    return Actor(type, user.id, user.name)


# --- reading ------------------------------------------------------------------------------------


def get_requirement(session: DbSession, requirement_id: str) -> Requirement:
    found = session.get(Requirement, requirement_id)
    if found is None:
        raise RequirementNotFound(f"There is no requirement {requirement_id}.")
    return found


def _lock(session: DbSession, requirement_id: str) -> Requirement:
    found = session.scalar(
        sa.select(Requirement)
        .where(Requirement.id == requirement_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if found is None:
        raise RequirementNotFound(f"There is no requirement {requirement_id}.")
    return found


def get_pledge(session: DbSession, *, shop_id: str, pledge_id: str) -> RequirementPledge:
    found = session.scalar(
        sa.select(RequirementPledge).where(RequirementPledge.id == pledge_id, RequirementPledge.shop_id == shop_id)
    )
    if found is None:
        raise PledgeNotFound(f"Your shop has no pledge {pledge_id}.")
    return found


def pledges_stmt(shop_id: str, *, requirement_id: str | None = None, state: str | None = None) -> sa.Select[Any]:
    stmt = sa.select(RequirementPledge).where(RequirementPledge.shop_id == shop_id)
    if requirement_id:
        stmt = stmt.where(RequirementPledge.requirement_id == requirement_id)
    if state:
        stmt = stmt.where(RequirementPledge.state == state)
    return stmt


def proposals_stmt(developer_id: str) -> sa.Select[Any]:
    return sa.select(RequirementProposal).where(RequirementProposal.developer_id == developer_id)


def _active_pledges(session: DbSession, requirement_id: str) -> list[RequirementPledge]:
    return list(
        session.scalars(
            sa.select(RequirementPledge)
            .where(RequirementPledge.requirement_id == requirement_id, RequirementPledge.state == "active")
            .order_by(RequirementPledge.id)
            .execution_options(populate_existing=True)
        )
    )


def _weights(session: DbSession, requirement_id: str) -> dict[str, int]:
    """Each backer shop's weight: the sum of its active pledges."""
    weights: dict[str, int] = defaultdict(int)
    for pledge_row in _active_pledges(session, requirement_id):
        weights[pledge_row.shop_id] += pledge_row.amount
    return dict(weights)


def board_page(
    session: DbSession,
    *,
    q: str | None,
    category: str | None,
    state: str | None,
    sort: str,
    limit: int,
    cursor: str | None,
) -> Page:
    """The public board: search title and description, filter, sort (newest, pledged, backers, deadline)."""
    stmt = sa.select(Requirement)
    if q and q.strip():
        pattern = "%" + q.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(
            sa.or_(Requirement.title.ilike(pattern, escape="\\"), Requirement.description.ilike(pattern, escape="\\"))
        )
    if category:
        stmt = stmt.where(Requirement.category == category)
    if state:
        stmt = stmt.where(Requirement.state == state)
    if sort == "newest":
        return page_of(session, stmt, Requirement.id, limit=limit, cursor=cursor)
    column, descending = {
        "pledged": (Requirement.pledged_total, True),
        "backers": (Requirement.backers_count, True),
        "deadline": (Requirement.deadline, False),
    }[sort]
    return sorted_page_of(session, stmt, column, Requirement.id, descending=descending, limit=limit, cursor=cursor)


def _shop_names(session: DbSession, shop_ids: Sequence[str]) -> dict[str, str]:
    if not shop_ids:
        return {}
    return {
        shop_id: name
        for shop_id, name in session.execute(sa.select(Shop.id, Shop.name).where(Shop.id.in_(set(shop_ids))))
    }


def requirement_view(req: Requirement, *, owner_name: str) -> dict[str, Any]:
    """The public face of a requirement (the board, the API, event payloads): no shop ids."""
    return {
        "id": req.id,
        "title": req.title,
        "description": req.description,
        "category": req.category,
        "budget_amount": req.budget_amount,
        "currency": req.currency,
        "deadline": req.deadline,
        "acceptance_criteria": req.acceptance_criteria,
        "selection_mode": req.selection_mode,
        "state": req.state,
        "pledged_total": req.pledged_total,
        "backers_count": req.backers_count,
        "posted_by": owner_name,
        "accepted_proposal_id": req.accepted_proposal_id,
        "merged_into_id": req.merged_into_id,
        "delivered_app_id": req.delivered_app_id,
        "delivered_app_version_id": req.delivered_app_version_id,
        "delivered_at": req.delivered_at,
        "vote_closes_at": req.vote_closes_at,
        "accepted_at": req.accepted_at,
        "payout_due_at": req.payout_due_at,
        "created_at": req.created_at,
        "version": req.version,
    }


def requirement_views(session: DbSession, reqs: Sequence[Requirement]) -> list[dict[str, Any]]:
    names = _shop_names(session, [r.shop_id for r in reqs])
    return [requirement_view(r, owner_name=names.get(r.shop_id, "")) for r in reqs]


def _json_ready(view: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, dt.datetime) else v for k, v in view.items()}


def requirement_detail(session: DbSession, req: Requirement) -> dict[str, Any]:
    """The public detail: the requirement, its proposals with their vote weights, tallies, timeline."""
    detail = requirement_views(session, [req])[0]
    weights = _weights(session, req.id)
    votes = list(session.scalars(sa.select(RequirementVote).where(RequirementVote.requirement_id == req.id)))
    for_proposal: dict[str, int] = defaultdict(int)
    delivery = {"accept": 0, "reject": 0}
    for vote in votes:
        weight = weights.get(vote.shop_id, 0)
        if vote.kind == "proposal" and vote.proposal_id:
            for_proposal[vote.proposal_id] += weight
        elif vote.kind == "delivery" and vote.decision in delivery:
            delivery[vote.decision] += weight
    proposals = session.execute(
        sa.select(RequirementProposal, User.name)
        .join(User, User.id == RequirementProposal.developer_id)
        .where(RequirementProposal.requirement_id == req.id)
        .order_by(RequirementProposal.id)
    ).all()
    detail["proposals"] = [
        {
            "id": p.id,
            "developer_name": name,
            "price_amount": p.price_amount,
            "currency": p.currency,
            "delivery_date": p.delivery_date,
            "plan": p.plan,
            "state": p.state,
            "vote_weight": for_proposal.get(p.id, 0),
            "created_at": p.created_at,
        }
        for p, name in proposals
    ]
    detail["delivery_votes"] = {
        "accept_weight": delivery["accept"],
        "reject_weight": delivery["reject"],
        "silent_weight": max(req.pledged_total - delivery["accept"] - delivery["reject"], 0),
    }
    detail["timeline"] = list(
        session.scalars(
            sa.select(RequirementTimelineEntry)
            .where(RequirementTimelineEntry.requirement_id == req.id)
            .order_by(RequirementTimelineEntry.at, RequirementTimelineEntry.id)
        )
    )
    return detail


def _open_requirements_index(session: DbSession) -> tuple[SimilarityIndex, dict[str, Requirement]]:
    """The most recent open requirements (the ones a merge or a pledge can still use), indexed."""
    corpus = list(
        session.scalars(
            sa.select(Requirement)
            .where(Requirement.state == "open")
            .order_by(Requirement.id.desc())
            .limit(SIMILAR_CORPUS)
        )
    )
    return SimilarityIndex((r.id, r.title, r.description) for r in corpus), {r.id: r for r in corpus}


def similar_requirements(
    session: DbSession, *, title: str, description: str, exclude_id: str | None = None, limit: int = 5
) -> list[tuple[Requirement, float]]:
    """Open requirements that look like the same need (text similarity), best first."""
    index, by_id = _open_requirements_index(session)
    matches = index.similar_to(title, description, threshold=DUPLICATE_THRESHOLD, limit=limit, exclude=exclude_id)
    return [(by_id[m.key], m.score) for m in matches]


def duplicate_pairs(session: DbSession, *, limit: int = 50) -> list[tuple[Requirement, Requirement, float]]:
    """Pairs of open requirements that look like the same need, best first (the admin's merge list)."""
    index, by_id = _open_requirements_index(session)
    return [(by_id[a], by_id[b], score) for a, b, score in index.pairs(threshold=DUPLICATE_THRESHOLD, limit=limit)]


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


# --- posting ------------------------------------------------------------------------------------


def post_requirement(
    session: DbSession,
    *,
    shop_id: str,
    posted_by: str | None,
    title: str,
    description: str,
    category: str,
    budget_amount: int,
    currency: str | None,
    deadline: dt.datetime,
    acceptance_criteria: str,
    selection_mode: str,
    now: dt.datetime,
) -> Requirement:
    """Post a requirement on the public board, open for pledges and proposals (422 with each bad field)."""
    shop = session.get(Shop, shop_id)
    if shop is None:
        raise RequirementNotFound(f"There is no shop {shop_id}.")
    title, description, acceptance_criteria = title.strip(), description.strip(), acceptance_criteria.strip()
    problems: dict[str, list[str]] = {}
    if not 1 <= len(title) <= 120:
        problems["title"] = ["Give a title of 1 to 120 characters."]
    if not 1 <= len(description) <= 5000:
        problems["description"] = ["Describe the need in 1 to 5000 characters."]
    if not 1 <= len(acceptance_criteria) <= 5000:
        problems["acceptance_criteria"] = ["Say in 1 to 5000 characters how a delivery will be judged."]
    if category not in CATEGORIES:
        problems["category"] = [f"Choose one of: {', '.join(CATEGORIES)}."]
    if selection_mode not in SELECTION_MODES:
        problems["selection_mode"] = [f"Choose one of: {', '.join(SELECTION_MODES)}."]
    if not 1 <= budget_amount <= MAX_AMOUNT:
        problems["budget_amount"] = ["The budget is a positive amount in minor units (fen)."]
    if currency is not None and currency != shop.currency:
        problems["currency"] = [f"Your shop works in {shop.currency}; post the budget in {shop.currency}."]
    if deadline.tzinfo is None:
        problems["deadline"] = ["Give the deadline with a time zone (RFC 3339)."]
    elif not now + MIN_DEADLINE <= deadline <= now + MAX_DEADLINE:
        problems["deadline"] = ["The deadline must be between one day and one year from now."]
    if problems:
        raise RequirementInvalid("The requirement has invalid fields.", errors=problems)
    req = Requirement(
        shop_id=shop_id,
        posted_by=posted_by,
        title=title,
        description=description,
        category=category,
        budget_amount=budget_amount,
        currency=shop.currency,
        deadline=deadline.astimezone(dt.UTC),
        acceptance_criteria=acceptance_criteria,
        selection_mode=selection_mode,
        state="open",
        pledged_total=0,
        backers_count=0,
        created_at=now,
        updated_at=now,
    )
    session.add(req)
    session.flush()
    _timeline(session, req, event="posted", state="open", actor=Actor("shop", shop.id, shop.name), now=now, note="")
    emit(
        session,
        shop_id=shop_id,
        type="requirement.created",
        subject_type="requirement",
        subject_id=req.id,
        payload=_json_ready(requirement_view(req, owner_name=shop.name)),
    )
    return req


def cancel_requirement(
    session: DbSession, *, requirement_id: str, owner_shop_id: str | None, actor: Actor, now: dt.datetime
) -> Requirement:
    """Cancel an open requirement and refund every pledge in full. ``owner_shop_id`` None: an admin."""
    req = _lock(session, requirement_id)
    if owner_shop_id is not None and req.shop_id != owner_shop_id:
        raise RequirementNotFound(f"Your shop has no requirement {requirement_id}.")
    check_transition(req, "cancelled")
    _refund_all(session, req, now=now)
    _decline_open_proposals(session, req, now=now)
    return transition(session, req, "cancelled", actor=actor, now=now)


# --- pledges ------------------------------------------------------------------------------------


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


# --- proposals and choosing one -----------------------------------------------------------------


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


# --- development, delivery and the acceptance vote ----------------------------------------------


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


# --- merging ------------------------------------------------------------------------------------


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


# --- timers -------------------------------------------------------------------------------------


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
