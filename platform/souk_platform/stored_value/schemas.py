from __future__ import annotations

import marshmallow as ma

from souk_platform.points.schemas import AccountEntrySchema
from souk_platform.stored_value.services import MAX_TOP_UP


class StoredValueSchema(ma.Schema):
    customer_id = ma.fields.String()
    currency = ma.fields.String()
    balance = ma.fields.Integer(metadata={"description": "Minor units (fen)"})
    recent_entries = ma.fields.List(
        ma.fields.Nested(AccountEntrySchema), metadata={"description": "Newest first, up to 20"}
    )


class TopUpSchema(ma.Schema):
    amount = ma.fields.Integer(
        required=True,
        strict=True,
        validate=ma.validate.Range(1, MAX_TOP_UP),
        metadata={"description": f"Minor units (fen), 1 to {MAX_TOP_UP}"},
    )
    reference = ma.fields.String(
        load_default=None,
        validate=ma.validate.Length(1, 64),
        metadata={"description": "Your reference for the payment, e.g. a till receipt number"},
    )


class TopUpResultSchema(ma.Schema):
    transfer_id = ma.fields.String()
    customer_id = ma.fields.String()
    amount = ma.fields.Integer()
    currency = ma.fields.String()
    reference = ma.fields.String(allow_none=True)
    balance = ma.fields.Integer(metadata={"description": "The balance after the top-up"})


class CashbackSchema(ma.Schema):
    id = ma.fields.String()
    order_id = ma.fields.String()
    customer_id = ma.fields.String()
    amount = ma.fields.Integer(metadata={"description": "Minor units to credit (after partial refunds)"})
    original_amount = ma.fields.Integer()
    currency = ma.fields.String()
    due_at = ma.fields.DateTime(metadata={"description": "Credited once the order's refund window has passed"})
    status = ma.fields.String(metadata={"description": "pending, credited or cancelled"})
    credited_at = ma.fields.DateTime(allow_none=True)
    version = ma.fields.Integer()
    created_at = ma.fields.DateTime()
