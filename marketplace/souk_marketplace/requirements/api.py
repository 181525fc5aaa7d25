"""定制众筹 API: the public board, shops posting and pledging (read_/write_requirements), developers'
proposals and deliveries (app tokens). Thin views over ``requirements.services``."""

from __future__ import annotations

from typing import Any

from flask import current_app, g
from flask.views import MethodView

from souk_marketplace.requirements import services
from souk_marketplace.requirements.models import RequirementPledge, RequirementProposal
from souk_marketplace.requirements.schemas import (
    BoardQuerySchema,
    DeliveryCreateSchema,
    DeliveryVoteSchema,
    DeveloperProposalSchema,
    PledgeCreateSchema,
    PledgeQuerySchema,
    PledgeSchema,
    ProposalCreateSchema,
    ProposalVoteSchema,
    RequirementCreatedSchema,
    RequirementCreateSchema,
    RequirementDetailSchema,
    RequirementSchema,
)
from souk_platform.api import current_principal, etag, idempotent, page_of, page_schema, paginated, requires
from souk_platform.api.pagination import Page, PageArgs
from souk_platform.api.parsing import Blueprint
from souk_platform.api.transactions import transactional
from souk_platform.apps.models import App
from souk_platform.auth.models import User
from souk_platform.core.clock import app_now
from souk_platform.db import db
from souk_platform.oauth.api import requires_app_token

# Routes live under /requirements, /requirement-pledges, /requirement-proposals and /app/…: no prefix.
blp = Blueprint(
    "requirements", __name__, url_prefix="", description="定制众筹: custom requirements crowdfunded by shops"
)


def _id(name: str, prefix: str) -> dict[str, Any]:
    """A path id documented with its shape (ids are ``<prefix>_`` + 26 characters)."""
    return {"in": "path", "name": name, "schema": {"type": "string", "pattern": f"^{prefix}_[0-9a-z]{{26}}$"}}


REQUIREMENT_ID, PLEDGE_ID, PROPOSAL_ID = (
    _id("requirement_id", "req"),
    _id("pledge_id", "plg"),
    _id("proposal_id", "prp"),
)


def _terms() -> services.Terms:
    return services.terms_from_config(current_app.config)


def _shop_actor() -> services.Actor:
    return services.shop_actor(db.session, current_principal().shop_id)


def _view(requirement: Any) -> dict[str, Any]:
    return services.requirement_views(db.session, [requirement])[0]


def _developer() -> User:
    app: App = g.calling_app
    developer = db.session.get(User, app.developer_id)
    assert developer is not None
    return developer


# --- the public board ---------------------------------------------------------------------------


@blp.route("/requirements")
class RequirementList(MethodView):
    @blp.arguments(BoardQuerySchema, location="query")
    @blp.response(200, page_schema(RequirementSchema))
    def get(self, args: dict[str, Any]) -> Any:
        """The public requirement board: search, filter by category and state, sort (no token needed)"""
        page = services.board_page(db.session, **args)
        return paginated(Page(services.requirement_views(db.session, page.items), page.next_cursor))

    @requires("write_requirements")
    @transactional
    @blp.arguments(RequirementCreateSchema)
    @blp.response(201, RequirementCreatedSchema)
    def post(self, body: dict[str, Any]) -> Any:
        """Post a requirement for your shop; the answer lists open requirements that look like the same need"""
        requirement = services.post_requirement(
            db.session, shop_id=current_principal().shop_id, posted_by=None, now=app_now(), **body
        )
        similar = services.similar_requirements(
            db.session, title=requirement.title, description=requirement.description, exclude_id=requirement.id
        )
        view = _view(requirement)
        view["similar"] = [
            {
                "id": other.id,
                "title": other.title,
                "state": other.state,
                "pledged_total": other.pledged_total,
                "currency": other.currency,
                "score": round(score, 3),
            }
            for other, score in similar
        ]
        return view, 201, etag(requirement.version)


@blp.route("/requirements/<requirement_id>", parameters=[REQUIREMENT_ID])
class RequirementResource(MethodView):
    @blp.response(200, RequirementDetailSchema)
    def get(self, requirement_id: str) -> Any:
        """A requirement with its pledged total, backers, proposals, vote tallies and timeline (public)"""
        requirement = services.get_requirement(db.session, requirement_id)
        return services.requirement_detail(db.session, requirement), 200, etag(requirement.version)


@blp.route("/requirements/<requirement_id>/cancel", parameters=[REQUIREMENT_ID])
class RequirementCancel(MethodView):
    @requires("write_requirements")
    @transactional
    @blp.response(200, RequirementSchema)
    @blp.alt_response(409, description="The requirement is no longer open")
    def post(self, requirement_id: str) -> Any:
        """Cancel your shop's open requirement: every pledge is refunded in full"""
        requirement = services.cancel_requirement(
            db.session,
            requirement_id=requirement_id,
            owner_shop_id=current_principal().shop_id,
            actor=_shop_actor(),
            now=app_now(),
        )
        return _view(requirement)


@blp.route("/requirements/<requirement_id>/pledges", parameters=[REQUIREMENT_ID])
class RequirementPledges(MethodView):
    @requires("write_requirements")
    @idempotent
    @blp.arguments(PledgeCreateSchema)
    @blp.response(201, PledgeSchema)
    @blp.alt_response(409, description="The requirement is not open for pledges")
    def post(self, body: dict[str, Any], requirement_id: str) -> Any:
        """Pledge money from your shop's balance: it moves at once into an escrow account of this pledge"""
        return services.pledge(
            db.session,
            shop_id=current_principal().shop_id,
            requirement_id=requirement_id,
            amount=body["amount"],
            pledged_by=None,
            now=app_now(),
        )


@blp.route("/requirements/<requirement_id>/proposal-votes", parameters=[REQUIREMENT_ID])
class ProposalVotes(MethodView):
    @requires("write_requirements")
    @transactional
    @blp.arguments(ProposalVoteSchema)
    @blp.response(200, RequirementSchema)
    @blp.alt_response(403, description="Your shop has no active pledge on it")
    def post(self, body: dict[str, Any], requirement_id: str) -> Any:
        """Vote, as a backer, for a proposal (vote mode); more than half of the pledged amount accepts it"""
        return _view(
            services.vote_for_proposal(
                db.session,
                shop_id=current_principal().shop_id,
                requirement_id=requirement_id,
                proposal_id=body["proposal_id"],
                now=app_now(),
            )
        )


@blp.route("/requirements/<requirement_id>/delivery-votes", parameters=[REQUIREMENT_ID])
class DeliveryVotes(MethodView):
    @requires("write_requirements")
    @transactional
    @blp.arguments(DeliveryVoteSchema)
    @blp.response(200, RequirementSchema)
    @blp.alt_response(403, description="Your shop has no active pledge on it")
    def post(self, body: dict[str, Any], requirement_id: str) -> Any:
        """Accept or reject the delivery as a backer; silence counts as acceptance when the window ends"""
        return _view(
            services.vote_on_delivery(
                db.session,
                shop_id=current_principal().shop_id,
                requirement_id=requirement_id,
                decision=body["decision"],
                now=app_now(),
                terms=_terms(),
            )
        )


@blp.route("/requirement-proposals/<proposal_id>/accept", parameters=[PROPOSAL_ID])
class ProposalAccept(MethodView):
    @requires("write_requirements")
    @transactional
    @blp.response(200, RequirementSchema)
    @blp.alt_response(409, description="Not open, vote mode, or the price is above the pledged total")
    def post(self, proposal_id: str) -> Any:
        """Accept a proposal on your shop's requirement (owner mode): pledges lock"""
        return _view(
            services.accept_proposal(
                db.session,
                shop_id=current_principal().shop_id,
                proposal_id=proposal_id,
                actor=_shop_actor(),
                now=app_now(),
            )
        )


# --- a shop's own pledges -----------------------------------------------------------------------


@blp.route("/requirement-pledges")
class PledgeList(MethodView):
    @requires("read_requirements")
    @blp.arguments(PledgeQuerySchema, location="query")
    @blp.response(200, page_schema(PledgeSchema))
    def get(self, args: dict[str, Any]) -> Any:
        """Your shop's pledges, newest first"""
        stmt = services.pledges_stmt(
            current_principal().shop_id, requirement_id=args.pop("requirement_id"), state=args.pop("state")
        )
        return paginated(page_of(db.session, stmt, RequirementPledge.id, **args))


@blp.route("/requirement-pledges/<pledge_id>", parameters=[PLEDGE_ID])
class PledgeResource(MethodView):
    @requires("read_requirements")
    @blp.response(200, PledgeSchema)
    def get(self, pledge_id: str) -> Any:
        """One of your shop's pledges (merged_from_id says when an admin moved it to another requirement)"""
        return services.get_pledge(db.session, shop_id=current_principal().shop_id, pledge_id=pledge_id)


@blp.route("/requirement-pledges/<pledge_id>/withdraw", parameters=[PLEDGE_ID])
class PledgeWithdraw(MethodView):
    @requires("write_requirements")
    @idempotent
    @blp.response(200, PledgeSchema)
    @blp.alt_response(409, description="A proposal was accepted: the pledge is locked")
    def post(self, pledge_id: str) -> Any:
        """Withdraw a pledge in full, while no proposal is accepted (also after a merge)"""
        return services.withdraw_pledge(
            db.session, shop_id=current_principal().shop_id, pledge_id=pledge_id, now=app_now()
        )


# --- developers, with app tokens ----------------------------------------------------------------


@blp.route("/app/requirement-proposals")
class DeveloperProposals(MethodView):
    @requires_app_token
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, page_schema(DeveloperProposalSchema))
    def get(self, args: dict[str, Any]) -> Any:
        """Your proposals (the calling app's developer), newest first"""
        stmt = services.proposals_stmt(_developer().id)
        return paginated(page_of(db.session, stmt, RequirementProposal.id, **args))

    @requires_app_token
    @transactional
    @blp.arguments(ProposalCreateSchema)
    @blp.response(201, DeveloperProposalSchema)
    @blp.alt_response(409, description="The requirement is not open, or you already have an open proposal on it")
    def post(self, body: dict[str, Any]) -> Any:
        """Offer to build an open requirement: price, delivery date and plan"""
        return services.submit_proposal(db.session, developer=_developer(), now=app_now(), **body)


@blp.route("/app/requirement-proposals/<proposal_id>/withdraw", parameters=[PROPOSAL_ID])
class DeveloperProposalWithdraw(MethodView):
    @requires_app_token
    @transactional
    @blp.response(200, DeveloperProposalSchema)
    @blp.alt_response(409, description="The proposal is no longer submitted")
    def post(self, proposal_id: str) -> Any:
        """Withdraw your submitted proposal"""
        return services.withdraw_proposal(
            db.session, developer_id=_developer().id, proposal_id=proposal_id, now=app_now()
        )


@blp.route("/app/requirement-proposals/<proposal_id>/start", parameters=[PROPOSAL_ID])
class DeveloperStart(MethodView):
    @requires_app_token
    @transactional
    @blp.response(200, RequirementSchema)
    @blp.alt_response(409, description="The proposal is not the accepted one, or development already started")
    def post(self, proposal_id: str) -> Any:
        """Start building the requirement your accepted proposal won (funded → in_development)"""
        return _view(
            services.start_development(db.session, developer=_developer(), proposal_id=proposal_id, now=app_now())
        )


@blp.route("/app/requirement-proposals/<proposal_id>/delivery", parameters=[PROPOSAL_ID])
class DeveloperDelivery(MethodView):
    @requires_app_token
    @transactional
    @blp.arguments(DeliveryCreateSchema)
    @blp.response(200, RequirementSchema)
    @blp.alt_response(409, description="Not in development, or past the deadline")
    def post(self, body: dict[str, Any], proposal_id: str) -> Any:
        """Deliver an app version of yours, submitted for listing: the backers' acceptance vote opens"""
        return _view(
            services.deliver(
                db.session, developer=_developer(), proposal_id=proposal_id, now=app_now(), terms=_terms(), **body
            )
        )
