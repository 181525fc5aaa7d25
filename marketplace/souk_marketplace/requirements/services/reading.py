"""Reading requirements: lookups, the board, the detail page's view, similar and duplicate requirements."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from souk_marketplace.requirements.errors import PledgeNotFound, RequirementNotFound
from souk_marketplace.requirements.models import (
    Requirement,
    RequirementPledge,
    RequirementProposal,
    RequirementTimelineEntry,
    RequirementVote,
)
from souk_marketplace.requirements.services.terms import SIMILAR_CORPUS
from souk_marketplace.requirements.similarity import DUPLICATE_THRESHOLD, SimilarityIndex
from souk_platform.api.pagination import Page, page_of, sorted_page_of
from souk_platform.auth.models import User
from souk_platform.db import DbSession
from souk_platform.shops.models import Shop


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
