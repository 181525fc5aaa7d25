from __future__ import annotations

import marshmallow as ma

from souk_platform.api.pagination import PageArgs


def _topics(*, required: bool) -> ma.fields.List:
    return ma.fields.List(
        ma.fields.String(validate=ma.validate.Length(1, 100)),
        required=required,
        validate=ma.validate.Length(1, 50),
        metadata={"description": "Event types to receive: 'order.paid', 'order.*' or '*'"},
    )


class SubscriptionSchema(ma.Schema):
    id = ma.fields.String()
    url = ma.fields.String()
    description = ma.fields.String()
    topics = ma.fields.List(ma.fields.String())
    status = ma.fields.String(metadata={"description": "enabled | disabled"})
    disabled_reason = ma.fields.String(allow_none=True)
    installation_id = ma.fields.String(allow_none=True, metadata={"description": "The owning app installation"})
    source = ma.fields.String(
        metadata={
            "description": "api: made through the API or console; manifest: declared by the app's manifest, "
            "signed with the app's webhook secret, changed only by a new app version (enabling works)"
        }
    )
    previous_secret_expires_at = ma.fields.DateTime(
        allow_none=True, metadata={"description": "Until then the previous secret signs too"}
    )
    created_at = ma.fields.DateTime()
    version = ma.fields.Integer()


class SubscriptionWithSecretSchema(SubscriptionSchema):
    secret = ma.fields.String(metadata={"description": "The whsec_ signing secret: shown this once"})


class SubscriptionCreateSchema(ma.Schema):
    url = ma.fields.String(required=True, validate=ma.validate.Length(1, 2048))
    topics = _topics(required=True)
    description = ma.fields.String(load_default="", validate=ma.validate.Length(0, 200))


class SubscriptionUpdateSchema(ma.Schema):
    url = ma.fields.String(validate=ma.validate.Length(1, 2048))
    topics = _topics(required=False)
    description = ma.fields.String(validate=ma.validate.Length(0, 200))
    enabled = ma.fields.Boolean(metadata={"description": "false pauses deliveries; true re-enables"})


class RecoverSchema(ma.Schema):
    since = ma.fields.AwareDateTime(required=True, metadata={"description": "Failed deliveries created since"})


class RecoverResultSchema(ma.Schema):
    recovered = ma.fields.Integer()
    delivery_ids = ma.fields.List(ma.fields.String())


class AttemptSchema(ma.Schema):
    id = ma.fields.String()
    attempted_at = ma.fields.DateTime()
    url = ma.fields.String()
    request_headers = ma.fields.Dict()
    request_body = ma.fields.String()
    response_status = ma.fields.Integer(allow_none=True)
    response_body = ma.fields.String(allow_none=True, metadata={"description": "The first 4 KiB"})
    latency_ms = ma.fields.Integer()
    error = ma.fields.String(allow_none=True)


class DeliverySchema(ma.Schema):
    id = ma.fields.String(metadata={"description": "The webhook-id header, stable across retries"})
    subscription_id = ma.fields.String()
    event_id = ma.fields.String(allow_none=True)
    event_type = ma.fields.String()
    status = ma.fields.String(metadata={"description": "pending | succeeded | failed"})
    attempts = ma.fields.Integer()
    next_attempt_at = ma.fields.DateTime(allow_none=True)
    last_attempt_at = ma.fields.DateTime(allow_none=True)
    last_error = ma.fields.String(allow_none=True)
    created_at = ma.fields.DateTime()


class DeliveryDetailSchema(DeliverySchema):
    body = ma.fields.String(metadata={"description": "The JSON body sent"})
    attempt_log = ma.fields.List(ma.fields.Nested(AttemptSchema), metadata={"description": "Every attempt"})


class DeliveryQuerySchema(PageArgs):
    subscription_id = ma.fields.String(load_default=None)
    status = ma.fields.String(load_default=None, validate=ma.validate.OneOf(["pending", "succeeded", "failed"]))
    event_type = ma.fields.String(load_default=None, validate=ma.validate.Length(1, 100))


class PrivacyCustomerSchema(ma.Schema):
    id = ma.fields.String()
    email = ma.fields.String(allow_none=True)
    phone = ma.fields.String(allow_none=True)


class PrivacyRequestSchema(ma.Schema):
    id = ma.fields.String(metadata={"description": "The request id apps receive in data.id"})
    customer = ma.fields.Nested(PrivacyCustomerSchema)
    orders_requested = ma.fields.List(ma.fields.String())
    requested_at = ma.fields.String(metadata={"description": "RFC 3339 UTC"})
    version = ma.fields.Integer()
