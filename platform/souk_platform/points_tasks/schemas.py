"""Request and response shapes of points operations (docs/architecture.md §5.15)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import marshmallow as ma

from souk_platform.api.pagination import PageArgs
from souk_platform.points.policy import EXPIRY_POLICIES, LIMITS
from souk_platform.points_tasks.models import COMPLETION_STATUSES, PERIODS, TASK_KINDS, TASK_STATUSES
from souk_platform.points_tasks.services import MAX_CAP, MAX_TASK_POINTS


def _when(**kw: Any) -> ma.fields.AwareDateTime:
    return ma.fields.AwareDateTime(default_timezone=dt.UTC, allow_none=True, **kw)


def _cap(description: str) -> ma.fields.Integer:
    return ma.fields.Integer(
        strict=True, allow_none=True, validate=ma.validate.Range(1, MAX_CAP), metadata={"description": description}
    )


class PointsTaskSchema(ma.Schema):
    id = ma.fields.String(dump_only=True)
    name = ma.fields.String(required=True, validate=ma.validate.Length(1, 100))
    kind = ma.fields.String(
        required=True, validate=ma.validate.OneOf(TASK_KINDS), metadata={"description": " | ".join(TASK_KINDS)}
    )
    points = ma.fields.Integer(
        required=True,
        strict=True,
        validate=ma.validate.Range(1, MAX_TASK_POINTS),
        metadata={"description": "Points each completion pays (a sign-in's base points)"},
    )
    status = ma.fields.String(load_default="active", validate=ma.validate.OneOf(TASK_STATUSES))
    period = ma.fields.String(
        load_default=None,
        allow_none=True,
        validate=ma.validate.OneOf(PERIODS),
        metadata={
            "description": "Pays at most once per shop-local day, ISO week, month, or once. Fixed for "
            "daily_sign_in (day), complete_profile and first_order (once); null for post_review and "
            "invite_friend pays once per reference"
        },
    )
    daily_cap = _cap("Completions per customer per shop-local day (null: no cap)")
    total_cap = _cap("Completions per customer in all (null: no cap)")
    starts_at = _when(load_default=None)
    ends_at = _when(load_default=None)
    params = ma.fields.Dict(
        load_default=dict,
        metadata={
            "description": 'daily_sign_in: {"streak_bonuses": [{"days": 7, "points": 50}]}; complete_profile: '
            '{"profile_fields": ["phone", "birthday"]}; invite_friend: {"when": "registered" | "first_order"}'
        },
    )
    version = ma.fields.Integer(dump_only=True)
    created_at = ma.fields.DateTime(dump_only=True)
    updated_at = ma.fields.DateTime(dump_only=True)


class PointsTaskUpdateSchema(ma.Schema):
    """What may change (the kind and period stay)."""

    name = ma.fields.String(validate=ma.validate.Length(1, 100))
    points = ma.fields.Integer(strict=True, validate=ma.validate.Range(1, MAX_TASK_POINTS))
    status = ma.fields.String(validate=ma.validate.OneOf(TASK_STATUSES), metadata={"description": "active | paused"})
    daily_cap = _cap("Completions per customer per shop-local day (null: no cap)")
    total_cap = _cap("Completions per customer in all (null: no cap)")
    starts_at = _when()
    ends_at = _when()
    params = ma.fields.Dict()


class PointsTaskQuerySchema(PageArgs):
    kind = ma.fields.String(load_default=None, validate=ma.validate.OneOf(TASK_KINDS))
    status = ma.fields.String(load_default=None, validate=ma.validate.OneOf(TASK_STATUSES))


class CompletionRequestSchema(ma.Schema):
    customer_id = ma.fields.String(required=True, validate=ma.validate.Length(1, 64))
    reference = ma.fields.String(
        load_default=None,
        allow_none=True,
        validate=ma.validate.Length(1, 64),
        metadata={"description": "post_review: the review's id; invite_friend: the invited customer's id"},
    )
    ip = ma.fields.String(load_default=None, allow_none=True, validate=ma.validate.Length(1, 64))
    device_id = ma.fields.String(load_default=None, allow_none=True, validate=ma.validate.Length(1, 128))


class CompletionSchema(ma.Schema):
    id = ma.fields.String()
    task_id = ma.fields.String()
    kind = ma.fields.String()
    customer_id = ma.fields.String()
    reference = ma.fields.String(allow_none=True)
    date = ma.fields.Date(metadata={"description": "The shop-local day of the completion"})
    points = ma.fields.Integer(metadata={"description": "Points paid, or held while in review (bonus included)"})
    bonus_points = ma.fields.Integer()
    streak = ma.fields.Integer(allow_none=True)
    status = ma.fields.String(metadata={"description": " | ".join(COMPLETION_STATUSES)})
    decision_id = ma.fields.String(allow_none=True, metadata={"description": "The risk decision (rkd_…)"})
    ip = ma.fields.String(allow_none=True)
    device_id = ma.fields.String(allow_none=True)
    decided_at = ma.fields.DateTime(allow_none=True)
    created_at = ma.fields.DateTime()


class CompletionQuerySchema(PageArgs):
    customer_id = ma.fields.String(load_default=None, validate=ma.validate.Length(1, 64))
    status = ma.fields.String(load_default=None, validate=ma.validate.OneOf(COMPLETION_STATUSES))


class SignInRequestSchema(ma.Schema):
    ip = ma.fields.String(load_default=None, allow_none=True, validate=ma.validate.Length(1, 64))
    device_id = ma.fields.String(load_default=None, allow_none=True, validate=ma.validate.Length(1, 128))


class NextBonusSchema(ma.Schema):
    days = ma.fields.Integer(metadata={"description": "The streak length that pays the bonus"})
    points = ma.fields.Integer()
    in_days = ma.fields.Integer(metadata={"description": "Sign-ins still to go"})


class SignInSchema(ma.Schema):
    id = ma.fields.String(metadata={"description": "The completion of the sign-in task (ptc_…)"})
    customer_id = ma.fields.String()
    date = ma.fields.Date()
    status = ma.fields.String(metadata={"description": "completed | in_review (points held for a person)"})
    points_awarded = ma.fields.Integer()
    points_held = ma.fields.Integer()
    base_points = ma.fields.Integer()
    bonus_points = ma.fields.Integer()
    streak = ma.fields.Integer()
    next_bonus = ma.fields.Nested(NextBonusSchema, allow_none=True)
    decision_id = ma.fields.String(allow_none=True)


class SignInCalendarQuerySchema(ma.Schema):
    month = ma.fields.String(
        load_default=None,
        validate=ma.validate.Regexp(r"^(19|20)\d\d-(0[1-9]|1[0-2])$"),
        metadata={"description": "YYYY-MM (default: the shop-local current month)"},
    )


class SignInCalendarSchema(ma.Schema):
    customer_id = ma.fields.String()
    month = ma.fields.String()
    days = ma.fields.List(ma.fields.Integer(), metadata={"description": "Days of the month signed in"})
    count = ma.fields.Integer()
    streak = ma.fields.Integer(metadata={"description": "The streak today (0 once a day was missed)"})
    signed_in_today = ma.fields.Boolean()
    next_bonus = ma.fields.Nested(NextBonusSchema, allow_none=True)


def _limit(field: str, description: str, **kw: Any) -> ma.fields.Integer:
    low, high = LIMITS[field]
    return ma.fields.Integer(
        strict=True, validate=ma.validate.Range(low, high), metadata={"description": description}, **kw
    )


class PointsPolicySchema(ma.Schema):
    points_per_yuan = _limit("points_per_yuan", "Points earned per whole yuan paid (the built-in earn rule)")
    point_value_fen = _limit("point_value_fen", "What one point is worth at checkout, in fen")
    max_spend_ratio_bp = _limit("max_spend_ratio_bp", "Points may pay at most this share of an order (basis points)")
    max_points_per_order = _limit(
        "max_points_per_order", "At most this many points on one order (null: no cap beyond the ratio)", allow_none=True
    )
    expiry_policy = ma.fields.String(
        validate=ma.validate.OneOf(EXPIRY_POLICIES),
        metadata={"description": "days: expire expiry_days after earning; end_of_year: when the next year ends"},
    )
    expiry_days = _limit("expiry_days", "Days a lot lasts under the days policy")
    currency = ma.fields.String(dump_only=True)
    version = ma.fields.Integer(dump_only=True, metadata={"description": "The shop's version (send it in If-Match)"})


class LiabilityMonthSchema(ma.Schema):
    month = ma.fields.String(metadata={"description": "YYYY-MM, shop-local"})
    issued = ma.fields.Integer()
    spent = ma.fields.Integer()
    expired = ma.fields.Integer()
    redeemed = ma.fields.Integer(metadata={"description": "spent + expired"})
    other_debits = ma.fields.Integer(metadata={"description": "Revoked on refunds or deducted by hand"})


class PointsLiabilitySchema(ma.Schema):
    outstanding_points = ma.fields.Integer()
    point_value_fen = ma.fields.Integer()
    outstanding_value = ma.fields.Integer(metadata={"description": "outstanding_points × point_value_fen, in fen"})
    currency = ma.fields.String()
    expiring_within_30_days = ma.fields.Integer()
    expiring_within_90_days = ma.fields.Integer()
    timezone = ma.fields.String()
    months = ma.fields.List(ma.fields.Nested(LiabilityMonthSchema), metadata={"description": "Oldest first"})
    as_of = ma.fields.DateTime()
