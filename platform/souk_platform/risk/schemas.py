"""Request and response shapes of the risk-control API (docs/architecture.md §5.13)."""

from __future__ import annotations

import datetime as dt

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
    subject_type = ma.fields.String(metadata={"description": "order | customer | task_completion | coupon_claim"})
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


class RiskDashboardQuerySchema(ma.Schema):
    days = ma.fields.Integer(load_default=14, validate=ma.validate.Range(1, 90), metadata={"description": "1–90"})


class RiskDayFiguresSchema(ma.Schema):
    date = ma.fields.Date(metadata={"description": "The shop's local day"})
    allow = ma.fields.Integer()
    review = ma.fields.Integer()
    deny = ma.fields.Integer()
    total = ma.fields.Integer()


class RiskTotalsSchema(ma.Schema):
    allow = ma.fields.Integer()
    review = ma.fields.Integer()
    deny = ma.fields.Integer()
    total = ma.fields.Integer()


class RiskRuleCountSchema(ma.Schema):
    rule = ma.fields.String(metadata={"description": "A built-in rule, a list entry kind or plugin:<name>"})
    count = ma.fields.Integer(metadata={"description": "Decisions it fired in"})


class RiskTopIpSchema(ma.Schema):
    ip = ma.fields.String()
    deny = ma.fields.Integer()
    review = ma.fields.Integer()


class RiskTopCustomerSchema(ma.Schema):
    customer_id = ma.fields.String()
    deny = ma.fields.Integer()
    review = ma.fields.Integer()


class RiskDashboardSchema(ma.Schema):
    days = ma.fields.Integer()
    timezone = ma.fields.String(metadata={"description": "The shop's timezone the days are counted in"})
    from_ = ma.fields.DateTime(data_key="from", attribute="from")
    to = ma.fields.DateTime()
    totals = ma.fields.Nested(RiskTotalsSchema)
    per_day = ma.fields.List(ma.fields.Nested(RiskDayFiguresSchema), metadata={"description": "Oldest first"})
    top_rules = ma.fields.List(ma.fields.Nested(RiskRuleCountSchema))
    top_ips = ma.fields.List(ma.fields.Nested(RiskTopIpSchema), metadata={"description": "By denials + reviews"})
    top_customers = ma.fields.List(
        ma.fields.Nested(RiskTopCustomerSchema), metadata={"description": "By denials + reviews"}
    )
    open_reviews = ma.fields.Integer(metadata={"description": "Orders waiting in the review queue"})


class RiskReplayThresholdsSchema(ma.Schema):
    rules = ma.fields.List(
        ma.fields.Nested(RiskRuleSettingSchema),
        required=True,
        validate=ma.validate.Length(max=len(RULES)),
        metadata={"description": "The rules to change, as in PUT /risk/settings (others keep theirs)"},
    )


_EARLIEST = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_LATEST = dt.datetime(2999, 12, 31, tzinfo=dt.UTC)


class RiskReplayRequestSchema(ma.Schema):
    date = ma.fields.Date(
        load_default=None,
        allow_none=True,
        validate=ma.validate.Range(dt.date(1970, 1, 1), dt.date(2999, 12, 31)),
        metadata={"description": "A shop-local day (default: yesterday)"},
    )
    from_ = ma.fields.AwareDateTime(
        data_key="from",
        attribute="from",
        default_timezone=dt.UTC,
        load_default=None,
        allow_none=True,
        validate=ma.validate.Range(_EARLIEST, _LATEST),
    )
    to = ma.fields.AwareDateTime(
        default_timezone=dt.UTC,
        load_default=None,
        allow_none=True,
        validate=ma.validate.Range(_EARLIEST, _LATEST),
        metadata={"description": "With from: at most 31 days after it"},
    )
    thresholds = ma.fields.Nested(RiskReplayThresholdsSchema, required=True)


class RiskReplayChangeSchema(ma.Schema):
    before = ma.fields.String(metadata={"description": " | ".join(OUTCOMES)})
    after = ma.fields.String(metadata={"description": " | ".join(OUTCOMES)})
    count = ma.fields.Integer()


class RiskReplayRuleSchema(ma.Schema):
    rule = ma.fields.String()
    outcome = ma.fields.String(metadata={"description": "What the rule asks for under the new settings"})
    fired_before = ma.fields.Integer()
    fired_after = ma.fields.Integer()
    newly_fired = ma.fields.Integer()
    no_longer_fired = ma.fields.Integer()


class RiskReplaySampleSchema(ma.Schema):
    id = ma.fields.String(metadata={"description": "The decision"})
    created_at = ma.fields.DateTime()
    action = ma.fields.String()
    subject_id = ma.fields.String()
    customer_id = ma.fields.String(allow_none=True)
    ip = ma.fields.String(allow_none=True)
    before = ma.fields.String()
    after = ma.fields.String()
    rules_before = ma.fields.List(ma.fields.String())
    rules_after = ma.fields.List(ma.fields.String())


class RiskReplaySchema(ma.Schema):
    from_ = ma.fields.DateTime(data_key="from", attribute="from")
    to = ma.fields.DateTime()
    decisions = ma.fields.Integer(metadata={"description": "Recorded decisions in the period"})
    replayed = ma.fields.Integer(metadata={"description": "Those decided by the rules (replayable)"})
    decided_by_lists = ma.fields.Integer(metadata={"description": "Those a list entry decided (unchanged)"})
    changed = ma.fields.Integer(metadata={"description": "Decisions whose outcome would change"})
    changes = ma.fields.List(ma.fields.Nested(RiskReplayChangeSchema))
    rules = ma.fields.List(ma.fields.Nested(RiskReplayRuleSchema))
    windows_not_replayed = ma.fields.List(
        ma.fields.String(), metadata={"description": "Count rules whose changed window cannot be replayed"}
    )
    sample = ma.fields.List(ma.fields.Nested(RiskReplaySampleSchema), metadata={"description": "Up to 20"})
