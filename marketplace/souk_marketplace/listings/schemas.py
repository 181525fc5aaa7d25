"""Request and response shapes of the listings API (developers) and the public market API."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from souk_marketplace.listings.images import MAX_IMAGE_BASE64, BadImage, content_type_of, decode_base64_image
from souk_marketplace.listings.services import (
    CATEGORIES,
    MAX_CHANGELOG,
    MAX_JUSTIFICATION,
    MAX_REASON,
    MAX_SCREENSHOTS,
    SORTS,
    STATES,
    TEXT_FIELDS,
)
from souk_platform.auth.scopes import is_known as is_known_scope


class Base64Image(ma.fields.String):
    """A PNG, JPEG or WebP image as standard base64 (≤ 512 KiB decoded); loads as bytes."""

    def __init__(self, **kwargs: Any) -> None:
        metadata = {"description": "PNG, JPEG or WebP, base64 (≤ 512 KiB decoded)", "format": "byte"}
        super().__init__(validate=ma.validate.Length(1, MAX_IMAGE_BASE64), metadata=metadata, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            image = decode_base64_image(text)
            content_type_of(image)
        except BadImage as exc:
            raise ma.ValidationError(str(exc)) from None
        return image


def _known_scope(value: str) -> None:
    # Checked against the registry when a submission is loaded: the marketplace's own scopes are registered
    # after this module could have been imported.
    if not is_known_scope(value):
        raise ma.ValidationError(f"{value!r} is not a known scope (scopes look like read_orders or write_products).")


def _text(limit: int) -> ma.fields.String:
    return ma.fields.String(required=True, validate=ma.validate.Length(1, limit))


class TextsSchema(ma.Schema):
    name = _text(TEXT_FIELDS["name"])
    tagline = _text(TEXT_FIELDS["tagline"])
    description = _text(TEXT_FIELDS["description"])


class LocalizedTextsSchema(ma.Schema):
    en = ma.fields.Nested(TextsSchema, metadata={"description": "English"})
    zh_CN = ma.fields.Nested(TextsSchema, metadata={"description": "Simplified Chinese"})

    @ma.validates_schema
    def _one_language(self, data: dict[str, Any], **kwargs: Any) -> None:
        if not data:
            raise ma.ValidationError("Give the texts in English (en) or Chinese (zh_CN), or both.")


class SubmissionCreateSchema(ma.Schema):
    app_version_id = ma.fields.String(
        load_default=None, metadata={"description": "The version to list; default: the app's current version"}
    )
    texts = ma.fields.Nested(LocalizedTextsSchema, required=True)
    category = ma.fields.String(required=True, validate=ma.validate.OneOf(list(CATEGORIES)))
    icon = Base64Image(required=True)
    screenshots = ma.fields.List(Base64Image(), required=True, validate=ma.validate.Length(1, MAX_SCREENSHOTS))
    support_contact = ma.fields.String(
        required=True, validate=ma.validate.Length(1, 320), metadata={"description": "An email address or a URL"}
    )
    privacy_url = ma.fields.String(required=True, validate=ma.validate.Length(1, 2000))
    install_url = ma.fields.String(
        load_default=None,
        allow_none=True,
        validate=ma.validate.Length(1, 2000),
        metadata={"description": "Where the Install button goes (required for public PKCE clients)"},
    )
    changelog = ma.fields.String(required=True, validate=ma.validate.Length(1, MAX_CHANGELOG))
    scope_justifications = ma.fields.Dict(
        keys=ma.fields.String(validate=_known_scope),
        values=ma.fields.String(validate=ma.validate.Length(0, MAX_JUSTIFICATION)),
        load_default=dict,
        metadata={"description": "Why the app needs each scope its version requests"},
    )


class DelistSchema(ma.Schema):
    reason = ma.fields.String(load_default=None, allow_none=True, validate=ma.validate.Length(0, MAX_REASON))


class CheckSchema(ma.Schema):
    check = ma.fields.String(metadata={"description": "manifest, plugin, redirect_uris, webhook or scopes"})
    subject = ma.fields.String()
    passed = ma.fields.Boolean()
    message = ma.fields.String()


class SubmissionSchema(ma.Schema):
    id = ma.fields.String()
    number = ma.fields.Integer()
    status = ma.fields.String(
        metadata={"description": "checking, checks_failed, in_review, approved or rejected"},
    )
    app_version_id = ma.fields.String()
    version_number = ma.fields.Integer()
    texts = ma.fields.Dict()
    category = ma.fields.String()
    icon_url = ma.fields.String()
    screenshot_urls = ma.fields.List(ma.fields.String())
    support_contact = ma.fields.String()
    privacy_url = ma.fields.String()
    install_url = ma.fields.String(allow_none=True)
    changelog = ma.fields.String()
    scope_justifications = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String())
    checks = ma.fields.List(ma.fields.Nested(CheckSchema))
    submitted_at = ma.fields.DateTime()
    checks_finished_at = ma.fields.DateTime(allow_none=True)
    decided_at = ma.fields.DateTime(allow_none=True)
    decision_reason = ma.fields.String(allow_none=True, metadata={"description": "Why it was rejected"})


class ListingEventSchema(ma.Schema):
    action = ma.fields.String()
    from_state = ma.fields.String()
    to_state = ma.fields.String()
    actor_kind = ma.fields.String()
    submission_id = ma.fields.String(allow_none=True)
    reason = ma.fields.String(allow_none=True)
    created_at = ma.fields.DateTime()


class ListingStatusSchema(ma.Schema):
    app_id = ma.fields.String()
    listing_id = ma.fields.String(allow_none=True)
    slug = ma.fields.String(allow_none=True)
    state = ma.fields.String(metadata={"description": "none, " + ", ".join(STATES)})
    listed_submission_id = ma.fields.String(allow_none=True)
    crowdfunded = ma.fields.Boolean()
    public_url = ma.fields.String(allow_none=True, metadata={"description": "The app's market page when listed"})
    webhook_test_secret = ma.fields.String(
        allow_none=True,
        metadata={"description": "The whsec_ secret the checks sign their webhook.test messages with"},
    )
    submissions = ma.fields.List(ma.fields.Nested(SubmissionSchema), metadata={"description": "Newest first"})
    timeline = ma.fields.List(ma.fields.Nested(ListingEventSchema), metadata={"description": "Newest first"})


class MarketQuerySchema(ma.Schema):
    q = ma.fields.String(load_default=None, validate=ma.validate.Length(0, 200), metadata={"description": "Search"})
    category = ma.fields.String(load_default=None, validate=ma.validate.OneOf(list(CATEGORIES)))
    sort = ma.fields.String(load_default="featured", validate=ma.validate.OneOf(SORTS))
    limit = ma.fields.Integer(load_default=20, validate=ma.validate.Range(1, 50))
    cursor = ma.fields.String(load_default=None, metadata={"description": "The next_cursor of the previous page"})


class AppTextsSchema(ma.Schema):
    name = ma.fields.String()
    tagline = ma.fields.String()
    description = ma.fields.String()


class RatingAggregateSchema(ma.Schema):
    average = ma.fields.Float(allow_none=True)
    count = ma.fields.Integer()
    by_stars = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer(), metadata={"description": "5 … 1"})


class MarketAppSchema(ma.Schema):
    id = ma.fields.String(metadata={"description": "The listing id"})
    slug = ma.fields.String()
    app_id = ma.fields.String()
    texts = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Nested(AppTextsSchema))
    category = ma.fields.String()
    icon_url = ma.fields.String()
    installs = ma.fields.Integer(metadata={"description": "Active installations"})
    rating = ma.fields.Nested(RatingAggregateSchema)
    crowdfunded = ma.fields.Boolean()
    listed_at = ma.fields.DateTime(metadata={"description": "When the app was first listed"})
    page_url = ma.fields.String()


class PlanSchema(ma.Schema):
    id = ma.fields.String()
    kind = ma.fields.String()
    price = ma.fields.Integer(allow_none=True, metadata={"description": "Minor units (fen)"})
    currency = ma.fields.String(allow_none=True)
    interval = ma.fields.String(allow_none=True)
    trial_days = ma.fields.Integer(allow_none=True)
    usage_cap = ma.fields.Integer(allow_none=True)


class InstallSchema(ma.Schema):
    kind = ma.fields.String(metadata={"description": "oauth (the consent page) or external (the app's own URL)"})
    url = ma.fields.String()


class ChangelogEntrySchema(ma.Schema):
    version = ma.fields.Integer()
    text = ma.fields.String()
    listed_at = ma.fields.DateTime()


class PublicReplySchema(ma.Schema):
    text = ma.fields.String()
    created_at = ma.fields.DateTime()


class PublicRatingSchema(ma.Schema):
    id = ma.fields.String()
    stars = ma.fields.Integer()
    text = ma.fields.String()
    created_at = ma.fields.DateTime()
    updated_at = ma.fields.DateTime()
    reply = ma.fields.Nested(PublicReplySchema, allow_none=True)


class MarketAppDetailSchema(MarketAppSchema):
    version_number = ma.fields.Integer()
    screenshot_urls = ma.fields.List(ma.fields.String())
    scopes = ma.fields.List(ma.fields.String())
    plans = ma.fields.List(ma.fields.Nested(PlanSchema))
    developer = ma.fields.String(metadata={"description": "The developer's name"})
    support_contact = ma.fields.String()
    privacy_url = ma.fields.String()
    install = ma.fields.Nested(InstallSchema)
    changelog = ma.fields.List(ma.fields.Nested(ChangelogEntrySchema))
    recent_ratings = ma.fields.List(ma.fields.Nested(PublicRatingSchema))
