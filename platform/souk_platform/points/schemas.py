from __future__ import annotations

import marshmallow as ma

from souk_platform.points.services import MAX_POINTS


class PointsLotSchema(ma.Schema):
    id = ma.fields.String()
    points = ma.fields.Integer(metadata={"description": "Points credited in this lot"})
    remaining = ma.fields.Integer(metadata={"description": "Points of this lot not yet spent or expired"})
    expires_at = ma.fields.DateTime()
    reference = ma.fields.String(allow_none=True)
    created_at = ma.fields.DateTime()


class PointsSummarySchema(ma.Schema):
    customer_id = ma.fields.String()
    balance = ma.fields.Integer()
    value = ma.fields.Integer(metadata={"description": "What the balance is worth at checkout, in minor units"})
    currency = ma.fields.String()
    expiring_soon = ma.fields.List(
        ma.fields.Nested(PointsLotSchema), metadata={"description": "Lots expiring within 30 days, soonest first"}
    )
    expiring_soon_total = ma.fields.Integer()


class AccountEntrySchema(ma.Schema):
    """One ledger entry of a customer's account (points or stored value)."""

    id = ma.fields.String()
    transfer_id = ma.fields.String()
    amount = ma.fields.Integer(metadata={"description": "Positive: credited to the customer; negative: debited"})
    unit = ma.fields.String()
    kind = ma.fields.String(metadata={"description": "points.earn, points.spend, points.expire, …"})
    reference = ma.fields.String(allow_none=True)
    memo = ma.fields.String(allow_none=True)
    created_at = ma.fields.DateTime()


def _not_zero(value: int) -> None:
    if value == 0:
        raise ma.ValidationError("Must not be 0: send a positive number to award points, a negative one to deduct.")


class PointsAdjustmentSchema(ma.Schema):
    points = ma.fields.Integer(
        required=True,
        strict=True,
        validate=[ma.validate.Range(-MAX_POINTS, MAX_POINTS), _not_zero],
        metadata={"description": "Points to add (positive) or deduct (negative)"},
    )
    reason = ma.fields.String(required=True, validate=ma.validate.Length(1, 200))


class PointsAdjustmentResultSchema(ma.Schema):
    customer_id = ma.fields.String()
    points = ma.fields.Integer()
    reason = ma.fields.String()
    balance = ma.fields.Integer(metadata={"description": "The balance after the adjustment"})
