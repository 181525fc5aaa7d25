"""Request and response shapes of the service-market API. Money is fen with a currency."""

from __future__ import annotations

import marshmallow as ma

from souk_marketplace.service_market.files import MAX_FILE_BYTES
from souk_marketplace.service_market.models import CATEGORIES
from souk_marketplace.service_market.states import STATES
from souk_platform.api.pagination import PageArgs

_MAX_BASE64 = 4 * ((MAX_FILE_BYTES + 2) // 3)
_FEN = {"description": "Minor units (fen)"}


class ServiceMilestonePlanSchema(ma.Schema):
    title = ma.fields.String()
    amount = ma.fields.Integer(metadata=_FEN)
    delivery_days = ma.fields.Integer()


class ServicePackageSchema(ma.Schema):
    id = ma.fields.String()
    name = ma.fields.String()
    description = ma.fields.String()
    kind = ma.fields.String(metadata={"description": "small | project (a project is paid by milestones)"})
    price = ma.fields.Integer(metadata=_FEN)
    currency = ma.fields.String()
    delivery_days = ma.fields.Integer()
    revisions = ma.fields.Integer(metadata={"description": "Revisions included per delivery"})
    milestones = ma.fields.List(ma.fields.Nested(ServiceMilestonePlanSchema))


class ServiceRatingSummarySchema(ma.Schema):
    count = ma.fields.Integer()
    average = ma.fields.Float(allow_none=True, metadata={"description": "1–5, one decimal; null without ratings"})
    by_stars = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer())


class ServiceProviderBriefSchema(ma.Schema):
    id = ma.fields.String()
    display_name = ma.fields.String()
    categories = ma.fields.List(ma.fields.String())


class ServiceSchema(ma.Schema):
    id = ma.fields.String()
    category = ma.fields.String(metadata={"description": " | ".join(CATEGORIES)})
    title = ma.fields.String()
    description = ma.fields.String()
    provider = ma.fields.Nested(ServiceProviderBriefSchema)
    packages = ma.fields.List(ma.fields.Nested(ServicePackageSchema))
    created_at = ma.fields.DateTime()
    version = ma.fields.Integer()


class ServiceQuerySchema(PageArgs):
    q = ma.fields.String(load_default=None, validate=ma.validate.Length(1, 200), metadata={"description": "Words"})
    category = ma.fields.String(load_default=None, validate=ma.validate.OneOf(CATEGORIES))


class ServicePortfolioItemSchema(ma.Schema):
    id = ma.fields.String()
    title = ma.fields.String()
    text = ma.fields.String()
    link = ma.fields.String(allow_none=True)
    image_url = ma.fields.String(allow_none=True)


class ServiceRatingPublicSchema(ma.Schema):
    stars = ma.fields.Integer()
    text = ma.fields.String()
    service_id = ma.fields.String()
    created_at = ma.fields.DateTime()


class ServiceProviderSchema(ServiceProviderBriefSchema):
    bio = ma.fields.String()
    created_at = ma.fields.DateTime()
    rating = ma.fields.Nested(ServiceRatingSummarySchema)
    services = ma.fields.List(ma.fields.Nested(ServiceSchema))
    portfolio = ma.fields.List(ma.fields.Nested(ServicePortfolioItemSchema))
    recent_ratings = ma.fields.List(ma.fields.Nested(ServiceRatingPublicSchema))


class ServiceMilestoneSchema(ma.Schema):
    id = ma.fields.String()
    position = ma.fields.Integer()
    title = ma.fields.String()
    amount = ma.fields.Integer(metadata=_FEN)
    delivery_days = ma.fields.Integer()
    state = ma.fields.String(
        metadata={"description": "pending | in_progress | delivered | accepted | released | cancelled | resolved"}
    )
    revisions_used = ma.fields.Integer()
    started_at = ma.fields.DateTime(allow_none=True)
    due_at = ma.fields.DateTime(allow_none=True)
    delivered_at = ma.fields.DateTime(allow_none=True)
    accepted_at = ma.fields.DateTime(allow_none=True)
    released_at = ma.fields.DateTime(allow_none=True)


class ServiceExtensionSchema(ma.Schema):
    id = ma.fields.String()
    days = ma.fields.Integer()
    reason = ma.fields.String()
    state = ma.fields.String(metadata={"description": "pending | accepted | declined | expired"})
    requested_at = ma.fields.DateTime()
    expires_at = ma.fields.DateTime()


class ServiceFileSchema(ma.Schema):
    id = ma.fields.String()
    filename = ma.fields.String()
    content_type = ma.fields.String()
    size = ma.fields.Integer(metadata={"description": "Bytes"})
    sha256 = ma.fields.String()
    uploaded_by = ma.fields.String(metadata={"description": "buyer | provider"})
    milestone_id = ma.fields.String(allow_none=True)
    created_at = ma.fields.DateTime()


class ServiceOfferSchema(ma.Schema):
    by = ma.fields.String(metadata={"description": "buyer | provider"})
    refund = ma.fields.Integer(metadata={"description": "Fen back to the buyer"})
    release = ma.fields.Integer(metadata={"description": "Fen to the provider, before the platform fee"})


class ServiceOrderRatingSchema(ma.Schema):
    stars = ma.fields.Integer()
    text = ma.fields.String()
    created_at = ma.fields.DateTime()


class ServiceOrderSchema(ma.Schema):
    id = ma.fields.String()
    state = ma.fields.String(metadata={"description": " | ".join(STATES)})
    service_id = ma.fields.String()
    package_id = ma.fields.String()
    provider_id = ma.fields.String()
    service_title = ma.fields.String()
    package_name = ma.fields.String()
    kind = ma.fields.String()
    amount = ma.fields.Integer(metadata=_FEN)
    currency = ma.fields.String()
    held = ma.fields.Integer(metadata={"description": "Fen still in escrow"})
    released_total = ma.fields.Integer(metadata={"description": "Fen released to the provider, fees included"})
    fee_total = ma.fields.Integer()
    refunded_total = ma.fields.Integer()
    revisions_included = ma.fields.Integer()
    requirements = ma.fields.String(allow_none=True)
    due_at = ma.fields.DateTime(allow_none=True)
    review_until = ma.fields.DateTime(allow_none=True, metadata={"description": "Silence until then = accepted"})
    clearing_until = ma.fields.DateTime(allow_none=True)
    dispute_from = ma.fields.String(allow_none=True)
    dispute_reason = ma.fields.String(allow_none=True)
    answer_until = ma.fields.DateTime(allow_none=True)
    mediation_until = ma.fields.DateTime(allow_none=True)
    offer = ma.fields.Nested(ServiceOfferSchema, allow_none=True)
    created_at = ma.fields.DateTime()
    closed_at = ma.fields.DateTime(allow_none=True)
    version = ma.fields.Integer()


class ServiceOrderDetailSchema(ServiceOrderSchema):
    milestones = ma.fields.List(ma.fields.Nested(ServiceMilestoneSchema))
    pending_extension = ma.fields.Nested(ServiceExtensionSchema, allow_none=True)
    files = ma.fields.List(ma.fields.Nested(ServiceFileSchema))
    rating = ma.fields.Nested(ServiceOrderRatingSchema, allow_none=True)


class ServiceOrderEventSchema(ma.Schema):
    id = ma.fields.String()
    at = ma.fields.DateTime()
    actor = ma.fields.String(metadata={"description": "buyer | provider | admin | system"})
    kind = ma.fields.String(metadata={"description": '"state" for a state change, else what happened'})
    from_state = ma.fields.String(allow_none=True)
    to_state = ma.fields.String(allow_none=True)
    note = ma.fields.String(allow_none=True)
    details = ma.fields.Dict()


class ServiceOrderQuerySchema(PageArgs):
    state = ma.fields.String(load_default=None, validate=ma.validate.OneOf(STATES))


def _text(limit: int, *, required: bool = True, description: str | None = None) -> ma.fields.String:
    meta = {"description": description} if description else {}
    if required:
        return ma.fields.String(required=True, validate=ma.validate.Length(1, limit), metadata=meta)
    return ma.fields.String(load_default=None, validate=ma.validate.Length(0, limit), metadata=meta)


class ServiceOrderCreateSchema(ma.Schema):
    package_id = ma.fields.String(required=True, validate=ma.validate.Length(1, 64))
    requirements = _text(20000, required=False, description="What the provider needs; sending it starts the work")


class ServiceRequirementsSchema(ma.Schema):
    requirements = _text(20000)


class ServiceRevisionSchema(ma.Schema):
    note = _text(5000, description="What to change")


class ServiceOrderCancelSchema(ma.Schema):
    reason = _text(5000, required=False)


class ServiceExtensionAnswerSchema(ma.Schema):
    accept = ma.fields.Boolean(required=True, metadata={"description": "true: move the due date; false: decline"})


class ServiceDisputeSchema(ma.Schema):
    reason = _text(5000)


class ServiceOfferCreateSchema(ma.Schema):
    refund = ma.fields.Integer(
        required=True, strict=True, validate=ma.validate.Range(0, 10**12), metadata={"description": "Fen back"}
    )
    note = _text(5000, required=False)


class ServiceOfferAcceptSchema(ma.Schema):
    refund = ma.fields.Integer(
        required=True,
        strict=True,
        validate=ma.validate.Range(0, 10**12),
        metadata={"description": "The standing offer's refund, repeated so a changed offer is not accepted"},
    )


class ServiceMessageSchema(ma.Schema):
    body = _text(5000)


class ServiceFileUploadSchema(ma.Schema):
    filename = ma.fields.String(required=True, validate=ma.validate.Length(1, 255))
    content_base64 = ma.fields.String(
        required=True,
        validate=[
            ma.validate.Length(min=1, error="Empty file."),
            ma.validate.Length(max=_MAX_BASE64, error="The file is larger than 5 MiB."),
        ],
        metadata={"description": "The file, base64 (≤ 5 MiB decoded): PDF, PNG, JPEG, WebP, GIF, ZIP or UTF-8 text"},
    )


class ServiceRatingCreateSchema(ma.Schema):
    stars = ma.fields.Integer(required=True, strict=True, validate=ma.validate.Range(1, 5))
    text = _text(2000, required=False)
