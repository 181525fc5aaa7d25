"""Request and response schemas of the crowdfunding API (unknown fields are 422)."""

from __future__ import annotations

import marshmallow as ma

from souk_marketplace.requirements.models import CATEGORIES, SELECTION_MODES, STATES
from souk_marketplace.requirements.services import MAX_AMOUNT, SORTS
from souk_platform.api.pagination import PageArgs

_AMOUNT = ma.validate.Range(1, MAX_AMOUNT)


class RequirementCreateSchema(ma.Schema):
    title = ma.fields.String(required=True, validate=ma.validate.Length(1, 120))
    description = ma.fields.String(required=True, validate=ma.validate.Length(1, 5000))
    category = ma.fields.String(required=True, validate=ma.validate.OneOf(CATEGORIES))
    budget_amount = ma.fields.Integer(
        required=True, strict=True, validate=_AMOUNT, metadata={"description": "Minor units (fen)"}
    )
    currency = ma.fields.String(
        load_default=None, validate=ma.validate.Length(3, 3), metadata={"description": "The shop's currency"}
    )
    deadline = ma.fields.AwareDateTime(
        required=True, metadata={"description": "RFC 3339; between one day and one year from now"}
    )
    acceptance_criteria = ma.fields.String(required=True, validate=ma.validate.Length(1, 5000))
    selection_mode = ma.fields.String(
        load_default="owner",
        validate=ma.validate.OneOf(SELECTION_MODES),
        metadata={"description": "owner: the owner picks a proposal; vote: backers vote, weighted by pledge"},
    )


class BoardQuerySchema(PageArgs):
    q = ma.fields.String(load_default=None, validate=ma.validate.Length(max=100), metadata={"description": "Search"})
    category = ma.fields.String(load_default=None, validate=ma.validate.OneOf(CATEGORIES))
    state = ma.fields.String(load_default=None, validate=ma.validate.OneOf(STATES))
    sort = ma.fields.String(
        load_default="newest",
        validate=ma.validate.OneOf(SORTS),
        metadata={"description": "newest | pledged (total, most first) | backers (most first) | deadline (soonest)"},
    )


class RequirementSchema(ma.Schema):
    id = ma.fields.String()
    title = ma.fields.String()
    description = ma.fields.String()
    category = ma.fields.String(metadata={"description": " | ".join(CATEGORIES)})
    budget_amount = ma.fields.Integer(metadata={"description": "Minor units (fen)"})
    currency = ma.fields.String()
    deadline = ma.fields.DateTime()
    acceptance_criteria = ma.fields.String()
    selection_mode = ma.fields.String()
    state = ma.fields.String(metadata={"description": " | ".join(STATES)})
    pledged_total = ma.fields.Integer(metadata={"description": "Active pledges, minor units"})
    backers_count = ma.fields.Integer(metadata={"description": "Shops with an active pledge"})
    posted_by = ma.fields.String(metadata={"description": "The name of the shop that posted it"})
    accepted_proposal_id = ma.fields.String(allow_none=True)
    merged_into_id = ma.fields.String(allow_none=True)
    delivered_app_id = ma.fields.String(allow_none=True)
    delivered_app_version_id = ma.fields.String(allow_none=True)
    delivered_at = ma.fields.DateTime(allow_none=True)
    vote_closes_at = ma.fields.DateTime(allow_none=True)
    accepted_at = ma.fields.DateTime(allow_none=True)
    payout_due_at = ma.fields.DateTime(allow_none=True)
    created_at = ma.fields.DateTime()
    version = ma.fields.Integer()


class SimilarRequirementSchema(ma.Schema):
    id = ma.fields.String()
    title = ma.fields.String()
    state = ma.fields.String()
    pledged_total = ma.fields.Integer()
    currency = ma.fields.String()
    score = ma.fields.Float(metadata={"description": "Text similarity, 0 to 1"})


class RequirementCreatedSchema(RequirementSchema):
    similar = ma.fields.List(
        ma.fields.Nested(SimilarRequirementSchema),
        metadata={"description": "Open requirements that look like the same need: consider pledging there"},
    )


class ProposalSchema(ma.Schema):
    id = ma.fields.String()
    developer_name = ma.fields.String()
    price_amount = ma.fields.Integer(metadata={"description": "Minor units (fen)"})
    currency = ma.fields.String()
    delivery_date = ma.fields.Date()
    plan = ma.fields.String()
    state = ma.fields.String(metadata={"description": "submitted | accepted | declined | withdrawn"})
    vote_weight = ma.fields.Integer(metadata={"description": "Pledges of the backers voting for it (vote mode)"})
    created_at = ma.fields.DateTime()


class DeliveryVotesSchema(ma.Schema):
    accept_weight = ma.fields.Integer()
    reject_weight = ma.fields.Integer()
    silent_weight = ma.fields.Integer(
        metadata={"description": "Pledges of backers who have not voted: count as accept"}
    )


class TimelineEntrySchema(ma.Schema):
    at = ma.fields.DateTime()
    state = ma.fields.String(allow_none=True, metadata={"description": "The state entered; null for a note"})
    event = ma.fields.String()
    actor_type = ma.fields.String(metadata={"description": "shop | developer | admin | backers | system"})
    actor_name = ma.fields.String()
    note = ma.fields.String()


class RequirementDetailSchema(RequirementSchema):
    proposals = ma.fields.List(ma.fields.Nested(ProposalSchema))
    delivery_votes = ma.fields.Nested(DeliveryVotesSchema)
    timeline = ma.fields.List(ma.fields.Nested(TimelineEntrySchema))


class PledgeCreateSchema(ma.Schema):
    amount = ma.fields.Integer(
        required=True,
        strict=True,
        validate=_AMOUNT,
        metadata={"description": "Minor units, in the requirement's currency"},
    )


class PledgeSchema(ma.Schema):
    id = ma.fields.String()
    requirement_id = ma.fields.String()
    amount = ma.fields.Integer()
    currency = ma.fields.String()
    state = ma.fields.String(metadata={"description": "active | withdrawn | refunded | released"})
    merged_from_id = ma.fields.String(
        allow_none=True, metadata={"description": "Set when an admin merged the requirement it was made on"}
    )
    merged_at = ma.fields.DateTime(allow_none=True)
    released_amount = ma.fields.Integer(metadata={"description": "Paid towards the accepted price"})
    refunded_amount = ma.fields.Integer(metadata={"description": "Given back to the shop's balance"})
    created_at = ma.fields.DateTime()
    closed_at = ma.fields.DateTime(allow_none=True)


class PledgeQuerySchema(PageArgs):
    requirement_id = ma.fields.String(load_default=None)
    state = ma.fields.String(
        load_default=None, validate=ma.validate.OneOf(("active", "withdrawn", "refunded", "released"))
    )


class ProposalVoteSchema(ma.Schema):
    proposal_id = ma.fields.String(required=True, validate=ma.validate.Length(1, 64))


class DeliveryVoteSchema(ma.Schema):
    decision = ma.fields.String(required=True, validate=ma.validate.OneOf(("accept", "reject")))


class ProposalCreateSchema(ma.Schema):
    requirement_id = ma.fields.String(required=True, validate=ma.validate.Length(1, 64))
    price_amount = ma.fields.Integer(
        required=True,
        strict=True,
        validate=_AMOUNT,
        metadata={"description": "Minor units, the requirement's currency"},
    )
    delivery_date = ma.fields.Date(required=True, metadata={"description": "On or before the requirement's deadline"})
    plan = ma.fields.String(required=True, validate=ma.validate.Length(1, 10000))


class DeveloperProposalSchema(ma.Schema):
    id = ma.fields.String()
    requirement_id = ma.fields.String()
    price_amount = ma.fields.Integer()
    currency = ma.fields.String()
    delivery_date = ma.fields.Date()
    plan = ma.fields.String()
    state = ma.fields.String()
    created_at = ma.fields.DateTime()
    decided_at = ma.fields.DateTime(allow_none=True)


class DeliveryCreateSchema(ma.Schema):
    app_id = ma.fields.String(required=True, validate=ma.validate.Length(1, 64))
    app_version_id = ma.fields.String(
        required=True, validate=ma.validate.Length(1, 64), metadata={"description": "Already submitted for listing"}
    )
