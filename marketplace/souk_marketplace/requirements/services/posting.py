"""Posting and cancelling a requirement."""

from __future__ import annotations

import datetime as dt

from souk_marketplace.requirements.errors import RequirementInvalid, RequirementNotFound
from souk_marketplace.requirements.models import CATEGORIES, SELECTION_MODES, Requirement
from souk_marketplace.requirements.services.actors import Actor
from souk_marketplace.requirements.services.pledges import _refund_all
from souk_marketplace.requirements.services.proposals import _decline_open_proposals
from souk_marketplace.requirements.services.reading import _json_ready, _lock, requirement_view
from souk_marketplace.requirements.services.states import _timeline, check_transition, transition
from souk_marketplace.requirements.services.terms import MAX_AMOUNT, MAX_DEADLINE, MIN_DEADLINE
from souk_platform.db import DbSession
from souk_platform.events.services import emit
from souk_platform.shops.models import Shop


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
