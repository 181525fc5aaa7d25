"""Request and response shapes of the customers API."""

from __future__ import annotations

import marshmallow as ma

from souk_platform.api.pagination import PageArgs

PHONE = ma.validate.Regexp(r"^\+?[0-9][0-9 \-]{4,30}$", error="Use digits, optionally with a leading + (5–32 chars).")


class CustomerTagSchema(ma.Schema):
    id = ma.fields.String()
    name = ma.fields.String()
    kind = ma.fields.String()


class CustomerSchema(ma.Schema):
    id = ma.fields.String()
    name = ma.fields.String()
    phone = ma.fields.String(allow_none=True)
    email = ma.fields.String(allow_none=True)
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


class CustomerUpdateSchema(ma.Schema):
    name = ma.fields.String(validate=ma.validate.Length(1, 200))
    phone = ma.fields.String(allow_none=True, validate=PHONE)
    email = ma.fields.Email(allow_none=True, validate=ma.validate.Length(max=320))


class CustomerQuerySchema(PageArgs):
    q = ma.fields.String(
        load_default=None,
        validate=ma.validate.Length(1, 100),
        metadata={"description": "Text found in the name, phone or email"},
    )
    level = ma.fields.Integer(load_default=None, validate=ma.validate.Range(1, 5))
    tag = ma.fields.String(load_default=None, metadata={"description": "Only customers carrying this tag id"})
