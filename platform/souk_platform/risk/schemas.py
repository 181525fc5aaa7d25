"""Request and response shapes of the risk-control API (docs/architecture.md §5.13)."""

from __future__ import annotations

import marshmallow as ma

from souk_platform.api.pagination import PageArgs
from souk_platform.risk.models import (
    ACTIONS,
    EXPIRY_ACTIONS,
    LIST_KINDS,
    LISTS,
    OUTCOMES,
    REVIEW_STATUSES,
    RULE_OUTCOMES,
)
from souk_platform.risk.rules import RULES


class FiredRuleSchema(ma.Schema):
    rule = ma.fields.String(
        metadata={"description": "A built-in rule, allow_list:<kind> / block_list:<kind>, or plugin:<name>"}
    )
    source = ma.fields.String(metadata={"description": "rule | list | plugin"})
    outcome = ma.fields.String(metadata={"description": "allow (an allow-list entry), review or deny"})
    reason = ma.fields.String()
    seen = ma.fields.Integer(allow_none=True, metadata={"description": "The figure the rule saw (a count, or fen)"})
    threshold = ma.fields.Integer(allow_none=True)
    window_minutes = ma.fields.Integer(allow_none=True)


class RiskDecisionSchema(ma.Schema):
    id = ma.fields.String()
    action = ma.fields.String(metadata={"description": " | ".join(ACTIONS)})
    subject_type = ma.fields.String(metadata={"description": "order | customer"})
    subject_id = ma.fields.String()
    customer_id = ma.fields.String(allow_none=True)
    ip = ma.fields.String(allow_none=True)
    device_id = ma.fields.String(allow_none=True)
    outcome = ma.fields.String(metadata={"description": " | ".join(OUTCOMES)})
    rules = ma.fields.List(ma.fields.Nested(FiredRuleSchema), metadata={"description": "The rules that fired"})
    inputs = ma.fields.Dict(
        metadata={"description": "What the rules read (stats, order_value, account_age_minutes, thresholds, lists)"}
    )
    created_at = ma.fields.DateTime()


class RiskDecisionQuerySchema(PageArgs):
    outcome = ma.fields.String(load_default=None, validate=ma.validate.OneOf(OUTCOMES))
    rule = ma.fields.String(load_default=None, validate=ma.validate.Length(1, 100))
    action = ma.fields.String(load_default=None, validate=ma.validate.OneOf(ACTIONS))
    customer_id = ma.fields.String(load_default=None, validate=ma.validate.Length(1, 64))
    ip = ma.fields.String(load_default=None, validate=ma.validate.Length(1, 64))


class RiskListEntrySchema(ma.Schema):
    id = ma.fields.String(dump_only=True)
    list = ma.fields.String(required=True, validate=ma.validate.OneOf(LISTS), metadata={"description": "block | allow"})
    kind = ma.fields.String(
        required=True, validate=ma.validate.OneOf(LIST_KINDS), metadata={"description": "customer | ip | device"}
    )
    value = ma.fields.String(
        required=True,
        validate=ma.validate.Length(1, 128),
        metadata={"description": "A customer id, an IP or a device id"},
    )
    note = ma.fields.String(load_default=None, allow_none=True, validate=ma.validate.Length(max=200))
    expires_at = ma.fields.DateTime(load_default=None, allow_none=True, metadata={"description": "null: for good"})
    active = ma.fields.Boolean(dump_only=True, metadata={"description": "False once expired"})
    created_at = ma.fields.DateTime(dump_only=True)
    updated_at = ma.fields.DateTime(dump_only=True)
    version = ma.fields.Integer(dump_only=True)


class RiskListEntryUpdateSchema(ma.Schema):
    note = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=200))
    expires_at = ma.fields.DateTime(allow_none=True)


class RiskListQuerySchema(PageArgs):
    list = ma.fields.String(load_default=None, validate=ma.validate.OneOf(LISTS))
    kind = ma.fields.String(load_default=None, validate=ma.validate.OneOf(LIST_KINDS))
    value = ma.fields.String(load_default=None, validate=ma.validate.Length(1, 128))


class RiskReviewSchema(ma.Schema):
    id = ma.fields.String()
    action = ma.fields.String()
    decision_id = ma.fields.String()
    order_id = ma.fields.String()
    customer_id = ma.fields.String(allow_none=True)
    status = ma.fields.String(metadata={"description": " | ".join(REVIEW_STATUSES)})
    expires_at = ma.fields.DateTime(metadata={"description": "When the shop's expiry rule applies if still open"})
    closed_by = ma.fields.String(allow_none=True, metadata={"description": "staff | api | expiry"})
    note = ma.fields.String(allow_none=True)
    closed_at = ma.fields.DateTime(allow_none=True)
    created_at = ma.fields.DateTime()
    version = ma.fields.Integer()


class RiskReviewQuerySchema(PageArgs):
    status = ma.fields.String(load_default=None, validate=ma.validate.OneOf(REVIEW_STATUSES))
    customer_id = ma.fields.String(load_default=None, validate=ma.validate.Length(1, 64))


class RiskReviewCloseSchema(ma.Schema):
    note = ma.fields.String(load_default=None, allow_none=True, validate=ma.validate.Length(max=200))


class RiskRuleSettingSchema(ma.Schema):
    rule = ma.fields.String(required=True, validate=ma.validate.OneOf(tuple(RULES)))
    threshold = ma.fields.Integer(
        strict=True, metadata={"description": "0 turns the rule off; a count, or fen for new_account_high_value"}
    )
    window = ma.fields.Integer(strict=True, metadata={"description": "In window_unit"})
    window_unit = ma.fields.String(dump_only=True, metadata={"description": "minutes | hours"})
    outcome = ma.fields.String(validate=ma.validate.OneOf(RULE_OUTCOMES), metadata={"description": "review | deny"})


class RiskSettingsSchema(ma.Schema):
    rules = ma.fields.List(
        ma.fields.Nested(RiskRuleSettingSchema),
        validate=ma.validate.Length(max=len(RULES)),
        metadata={"description": "The rules to change (others keep theirs)"},
    )
    review_expiry_hours = ma.fields.Integer(strict=True)
    review_expiry_action = ma.fields.String(
        validate=ma.validate.OneOf(EXPIRY_ACTIONS),
        metadata={"description": "What an unreviewed order becomes at expiry: release (approve) or cancel"},
    )
    version = ma.fields.Integer(dump_only=True, metadata={"description": "The shop's version (If-Match)"})
