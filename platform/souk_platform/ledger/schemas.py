from __future__ import annotations

import marshmallow as ma

from souk_platform.api.pagination import PageArgs


class AccountSchema(ma.Schema):
    id = ma.fields.String()
    kind = ma.fields.String()
    owner_id = ma.fields.String()
    unit = ma.fields.String(metadata={"description": "A currency code, or PTS for points"})
    balance = ma.fields.Integer(metadata={"description": "Minor units (fen) or points"})
    allow_negative = ma.fields.Boolean()


class AccountQuerySchema(PageArgs):
    owner_id = ma.fields.String(load_default=None)
    kind = ma.fields.String(load_default=None)


class EntrySchema(ma.Schema):
    id = ma.fields.String()
    transfer_id = ma.fields.String()
    amount = ma.fields.Integer()
    unit = ma.fields.String()
    created_at = ma.fields.DateTime()
    kind = ma.fields.String(metadata={"description": "The transfer's kind, e.g. points.earn"})
    reference = ma.fields.String(allow_none=True)
