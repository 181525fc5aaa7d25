"""Request and response shapes of the customers API."""

from __future__ import annotations

import marshmallow as ma

from souk_platform.api.pagination import PageArgs
from souk_platform.customers.models import GENDERS, PROVIDER, PROVIDER_HELP, SOURCE_CHANNELS

PHONE = ma.validate.Regexp(r"^\+?[0-9][0-9 \-]{4,30}$", error="Use digits, optionally with a leading + (5–32 chars).")


class CustomerTagSchema(ma.Schema):
    id = ma.fields.String()
    name = ma.fields.String()
    kind = ma.fields.String()


class IdentitySchema(ma.Schema):
    id = ma.fields.String()
    customer_id = ma.fields.String()
    provider = ma.fields.String(
        metadata={"description": "wechat_openid[:<appid>], wechat_unionid, alipay, douyin or app:<client_id>"}
    )
    external_id = ma.fields.String(metadata={"description": "The id the other system knows the customer by"})
    created_at = ma.fields.DateTime()


class IdentityCreateSchema(ma.Schema):
    provider = ma.fields.String(
        required=True,
        validate=[ma.validate.Length(1, 80), ma.validate.Regexp(PROVIDER.pattern, error=f"Use {PROVIDER_HELP}.")],
        metadata={
            "description": "wechat_openid, wechat_openid:<appid>, wechat_unionid, alipay, douyin or app:<client_id>"
        },
    )
    external_id = ma.fields.String(required=True, validate=ma.validate.Length(1, 128))


_GENDER = {"description": "female, male or unknown", "enum": list(GENDERS)}
# Nullable: null is in the enum too, or the documented schema would refuse the null it allows.
_CHANNEL = {"description": "Where the customer first came from", "enum": [*SOURCE_CHANNELS, None]}


class CustomerSchema(ma.Schema):
    id = ma.fields.String()
    name = ma.fields.String()
    phone = ma.fields.String(allow_none=True)
    email = ma.fields.String(allow_none=True)
    birthday = ma.fields.Date(allow_none=True)
    gender = ma.fields.String(metadata=_GENDER)
    source_channel = ma.fields.String(allow_none=True, metadata=_CHANNEL)
    identities = ma.fields.List(ma.fields.Nested(IdentitySchema))
    level = ma.fields.Integer(metadata={"description": "Member level 1–5 (V1–V5)"})
    orders_count = ma.fields.Integer()
    total_spent = ma.fields.Integer(metadata={"description": "Net of refunds, in fen"})
    currency = ma.fields.String()
    last_order_at = ma.fields.DateTime(allow_none=True)
    tags = ma.fields.List(ma.fields.Nested(CustomerTagSchema))
    version = ma.fields.Integer()
    created_at = ma.fields.DateTime()


class CustomerCreateSchema(ma.Schema):
    name = ma.fields.String(required=True, validate=ma.validate.Length(1, 200))
    phone = ma.fields.String(load_default=None, allow_none=True, validate=PHONE)
    email = ma.fields.Email(load_default=None, allow_none=True, validate=ma.validate.Length(max=320))
    birthday = ma.fields.Date(load_default=None, allow_none=True, metadata={"description": "Not in the future"})
    gender = ma.fields.String(load_default="unknown", validate=ma.validate.OneOf(GENDERS), metadata=_GENDER)
    source_channel = ma.fields.String(
        load_default=None, allow_none=True, validate=ma.validate.OneOf(SOURCE_CHANNELS), metadata=_CHANNEL
    )


class CustomerUpdateSchema(ma.Schema):
    name = ma.fields.String(validate=ma.validate.Length(1, 200))
    phone = ma.fields.String(allow_none=True, validate=PHONE)
    email = ma.fields.Email(allow_none=True, validate=ma.validate.Length(max=320))
    birthday = ma.fields.Date(allow_none=True, metadata={"description": "Not in the future; null clears it"})
    gender = ma.fields.String(validate=ma.validate.OneOf(GENDERS), metadata=_GENDER)
    source_channel = ma.fields.String(allow_none=True, validate=ma.validate.OneOf(SOURCE_CHANNELS), metadata=_CHANNEL)


class CustomerQuerySchema(PageArgs):
    q = ma.fields.String(
        load_default=None,
        validate=ma.validate.Length(1, 100),
        metadata={"description": "Text found in the name, phone or email"},
    )
    level = ma.fields.Integer(load_default=None, validate=ma.validate.Range(1, 5))
    tag = ma.fields.String(load_default=None, metadata={"description": "Only customers carrying this tag id"})
    identity_provider = ma.fields.String(
        load_default=None,
        validate=ma.validate.Length(1, 80),
        metadata={"description": "Only customers with an identity of this provider (e.g. wechat_unionid)"},
    )
    identity_external_id = ma.fields.String(
        load_default=None,
        validate=ma.validate.Length(1, 128),
        metadata={"description": "Only the customer another system knows by this id (with identity_provider)"},
    )
