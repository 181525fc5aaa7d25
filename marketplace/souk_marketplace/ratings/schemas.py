"""Request and response shapes of the ratings API."""

from __future__ import annotations

import marshmallow as ma

from souk_marketplace.ratings.services import MAX_TEXT


class RatingInputSchema(ma.Schema):
    stars = ma.fields.Integer(required=True, strict=True, validate=ma.validate.Range(1, 5))
    text = ma.fields.String(required=True, validate=ma.validate.Length(1, MAX_TEXT))


class ReplyInputSchema(ma.Schema):
    text = ma.fields.String(required=True, validate=ma.validate.Length(1, MAX_TEXT))


class ReplySchema(ma.Schema):
    text = ma.fields.String(attribute="reply_text")
    created_at = ma.fields.DateTime(attribute="replied_at")


class RatingSchema(ma.Schema):
    id = ma.fields.String()
    app_id = ma.fields.String()
    stars = ma.fields.Integer()
    text = ma.fields.String()
    created_at = ma.fields.DateTime()
    updated_at = ma.fields.DateTime()
    version = ma.fields.Integer()
    reply = ma.fields.Method("_reply", metadata={"description": "The developer's reply, or null"})

    def _reply(self, rating: object) -> dict[str, object] | None:
        if getattr(rating, "reply_text", None) is None:
            return None
        return ReplySchema().dump(rating)
