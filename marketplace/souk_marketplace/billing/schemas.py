from __future__ import annotations

from typing import Any

import marshmallow as ma

from souk_marketplace.billing.services import (
    APP_STATUSES,
    CHARGE_KINDS,
    CHARGE_STATUSES,
    MAX_AMOUNT,
    SUBSCRIPTION_STATES,
)
from souk_platform.api.pagination import PageArgs
from souk_platform.core.money import CURRENCIES


def _amount(**options: Any) -> ma.fields.Integer:
    """Integer minor units, 1 or more: floats and numeric strings are refused."""
    return ma.fields.Integer(strict=True, validate=ma.validate.Range(1, MAX_AMOUNT), **options)


_RETURN_URL = ma.fields.String(
    required=True,
    validate=ma.validate.Length(1, 2000),
    metadata={"description": "Where the merchant's browser goes after approving or declining (http or https)"},
)


class AppSubscriptionSchema(ma.Schema):
    id = ma.fields.String()
    app_id = ma.fields.String()
    installation_id = ma.fields.String()
    plan_id = ma.fields.String(metadata={"description": "A plan of the installed app version's manifest"})
    kind = ma.fields.String(metadata={"description": "free | recurring | usage"})
    status = ma.fields.String(metadata={"description": " | ".join(SUBSCRIPTION_STATES.states)})
    price = ma.fields.Integer(metadata={"description": "Minor units per interval (a usage plan's base price)"})
    list_price = ma.fields.Integer(metadata={"description": "The plan's price; price is 0 when free for backers"})
    currency = ma.fields.String()
    interval = ma.fields.String(metadata={"description": "month | year"})
    trial_days = ma.fields.Integer()
    trial_ends_at = ma.fields.DateTime(allow_none=True)
    usage_cap = ma.fields.Integer(allow_none=True, metadata={"description": "Usage allowed per period, minor units"})
    usage_used = ma.fields.Integer(metadata={"description": "Usage charged in the current period"})
    current_period_start = ma.fields.DateTime(allow_none=True)
    current_period_end = ma.fields.DateTime(allow_none=True)
    free_reason = ma.fields.String(allow_none=True)
    replaces_id = ma.fields.String(allow_none=True, metadata={"description": "The plan this one changes from"})
    return_url = ma.fields.String()
    confirmation_url = ma.fields.String(
        allow_none=True, metadata={"description": "Send the merchant here to approve (only while pending)"}
    )
    created_at = ma.fields.DateTime()
    cancelled_at = ma.fields.DateTime(allow_none=True)
    version = ma.fields.Integer()


class AppSubscriptionCreateSchema(ma.Schema):
    plan_id = ma.fields.String(required=True, validate=ma.validate.Length(1, 40))
    return_url = _RETURN_URL


class CurrentAppSubscriptionSchema(ma.Schema):
    status = ma.fields.String(metadata={"description": " | ".join(APP_STATUSES)})
    limited = ma.fields.Boolean(
        metadata={"description": "True unless the status is trial or active: offer the app's limited mode"}
    )
    subscription = ma.fields.Nested(AppSubscriptionSchema, allow_none=True)
    pending = ma.fields.Nested(
        AppSubscriptionSchema, allow_none=True, metadata={"description": "A plan request awaiting the merchant"}
    )


class ChargeRefundSchema(ma.Schema):
    id = ma.fields.String()
    charge_id = ma.fields.String()
    kind = ma.fields.String(metadata={"description": "refund | proration_credit"})
    amount = ma.fields.Integer()
    currency = ma.fields.String()
    reason = ma.fields.String()
    created_at = ma.fields.DateTime()


class AppChargeSchema(ma.Schema):
    id = ma.fields.String()
    app_id = ma.fields.String()
    installation_id = ma.fields.String()
    subscription_id = ma.fields.String(allow_none=True)
    kind = ma.fields.String(metadata={"description": " | ".join(CHARGE_KINDS)})
    description = ma.fields.String()
    amount = ma.fields.Integer(metadata={"description": "Minor units taken from the shop's balance"})
    list_price = ma.fields.Integer(metadata={"description": "What was asked; amount is 0 when free for backers"})
    currency = ma.fields.String()
    status = ma.fields.String(metadata={"description": " | ".join(CHARGE_STATUSES)})
    refunded = ma.fields.Integer()
    free_reason = ma.fields.String(allow_none=True)
    period_start = ma.fields.DateTime(allow_none=True)
    period_end = ma.fields.DateTime(allow_none=True)
    return_url = ma.fields.String(allow_none=True)
    confirmation_url = ma.fields.String(allow_none=True)
    paid_at = ma.fields.DateTime(allow_none=True)
    created_at = ma.fields.DateTime()
    version = ma.fields.Integer()


class AppChargeDetailSchema(AppChargeSchema):
    refunds = ma.fields.List(ma.fields.Nested(ChargeRefundSchema))


class OneTimeChargeCreateSchema(ma.Schema):
    name = ma.fields.String(required=True, validate=ma.validate.Length(1, 200))
    amount = _amount(required=True, metadata={"description": "Minor units (fen)"})
    currency = ma.fields.String(required=True, validate=ma.validate.OneOf(sorted(CURRENCIES)))
    return_url = _RETURN_URL


class UsageRecordCreateSchema(ma.Schema):
    description = ma.fields.String(required=True, validate=ma.validate.Length(1, 500))
    amount = _amount(required=True, metadata={"description": "Minor units (fen)"})
    idempotency = ma.fields.String(
        required=True,
        validate=ma.validate.Length(1, 255),
        metadata={"description": "Your key for this usage: a retry with the same key charges nothing more"},
    )


class ChargeRefundCreateSchema(ma.Schema):
    amount = _amount(load_default=None, metadata={"description": "Minor units; default: all that is left"})
    reason = ma.fields.String(required=True, validate=ma.validate.Length(1, 500))


class AppChargeQuerySchema(PageArgs):
    kind = ma.fields.String(load_default=None, validate=ma.validate.OneOf(CHARGE_KINDS))
    status = ma.fields.String(load_default=None, validate=ma.validate.OneOf(CHARGE_STATUSES))


class AppSubscriptionQuerySchema(PageArgs):
    status = ma.fields.String(load_default=None, validate=ma.validate.OneOf(SUBSCRIPTION_STATES.states))


class BillingInvoiceTotalSchema(ma.Schema):
    currency = ma.fields.String()
    charged = ma.fields.Integer()
    refunded = ma.fields.Integer()
    net = ma.fields.Integer()


class BillingInvoiceLineSchema(ma.Schema):
    date = ma.fields.String(metadata={"description": "The day, in the shop's timezone"})
    type = ma.fields.String(metadata={"description": "charge | refund"})
    kind = ma.fields.String()
    app = ma.fields.String()
    description = ma.fields.String()
    reference = ma.fields.String(metadata={"description": "The charge id"})
    amount = ma.fields.Integer(metadata={"description": "Minor units; refunds are negative"})
    currency = ma.fields.String()


class BillingInvoiceSchema(ma.Schema):
    id = ma.fields.String()
    number = ma.fields.String()
    month = ma.fields.String(metadata={"description": "YYYY-MM in the shop's timezone"})
    timezone = ma.fields.String()
    period_start = ma.fields.DateTime()
    period_end = ma.fields.DateTime()
    totals = ma.fields.List(ma.fields.Nested(BillingInvoiceTotalSchema))
    created_at = ma.fields.DateTime()


class BillingInvoiceDetailSchema(BillingInvoiceSchema):
    lines = ma.fields.List(ma.fields.Nested(BillingInvoiceLineSchema))
