"""Request and response shapes of the messaging API (docs/architecture.md §5.11)."""

from __future__ import annotations

import datetime as dt

import marshmallow as ma

from souk_platform.api.pagination import PageArgs
from souk_platform.messaging.models import CHANNEL_KINDS, CHANNEL_STATUSES, MESSAGE_STATUSES, REPORTED_STATUSES
from souk_platform.messaging.rendering import FIXED_VARIABLES

_VARIABLES_DOC = (
    "Every template sees "
    + ", ".join(sorted(FIXED_VARIABLES))
    + "; declare any other name here and callers give its value when they send."
)


class EmailConfigSchema(ma.Schema):
    from_address = ma.fields.String(allow_none=True, metadata={"description": "null: Souk's default sender"})
    from_name = ma.fields.String(allow_none=True, metadata={"description": "null: the shop's name"})
    kinds = ma.fields.List(ma.fields.String(), dump_only=True, metadata={"description": "app channels: sms, …"})


class MessageChannelSchema(ma.Schema):
    id = ma.fields.String(dump_only=True)
    kind = ma.fields.String(
        required=True,
        validate=ma.validate.OneOf(CHANNEL_KINDS),
        metadata={"description": "email, inbox or app; only email channels can be created"},
    )
    name = ma.fields.String(required=True, validate=ma.validate.Length(1, 100))
    status = ma.fields.String(load_default="active", validate=ma.validate.OneOf(("active", "disabled")))
    key = ma.fields.String(dump_only=True, metadata={"description": "email, inbox, or the app's manifest key"})
    installation_id = ma.fields.String(dump_only=True, allow_none=True)
    app_name = ma.fields.String(dump_only=True, allow_none=True)
    config = ma.fields.Nested(EmailConfigSchema, load_default=dict)
    daily_cap = ma.fields.Integer(
        load_default=None,
        allow_none=True,
        validate=ma.validate.Range(1, 1000),
        metadata={"description": "Messages one customer may receive on this channel per shop-local day"},
    )
    built_in = ma.fields.Boolean(dump_only=True)
    version = ma.fields.Integer(dump_only=True)
    created_at = ma.fields.DateTime(dump_only=True)
    updated_at = ma.fields.DateTime(dump_only=True)


class MessageChannelUpdateSchema(ma.Schema):
    name = ma.fields.String(validate=ma.validate.Length(1, 100))
    status = ma.fields.String(validate=ma.validate.OneOf(("active", "disabled")))
    config = ma.fields.Nested(EmailConfigSchema)
    daily_cap = ma.fields.Integer(allow_none=True, validate=ma.validate.Range(1, 1000))


class MessageChannelQuerySchema(PageArgs):
    kind = ma.fields.String(load_default=None, validate=ma.validate.OneOf(CHANNEL_KINDS))
    status = ma.fields.String(load_default=None, validate=ma.validate.OneOf(CHANNEL_STATUSES))


class MessageTemplateSchema(ma.Schema):
    id = ma.fields.String(dump_only=True)
    name = ma.fields.String(required=True, validate=ma.validate.Length(1, 100))
    channel_kind = ma.fields.String(required=True, validate=ma.validate.OneOf(CHANNEL_KINDS))
    subject = ma.fields.String(
        load_default="", validate=ma.validate.Length(max=500), metadata={"description": "Required for email"}
    )
    body = ma.fields.String(
        required=True,
        validate=ma.validate.Length(1, 20_000),
        metadata={"description": "Jinja syntax in a sandbox: {{ customer_name }}; HTML for email (values escaped)"},
    )
    variables = ma.fields.List(
        ma.fields.String(validate=ma.validate.Length(1, 40)),
        load_default=list,
        validate=ma.validate.Length(max=20),
        metadata={"description": _VARIABLES_DOC},
    )
    version = ma.fields.Integer(dump_only=True)
    created_at = ma.fields.DateTime(dump_only=True)
    updated_at = ma.fields.DateTime(dump_only=True)


class MessageTemplateUpdateSchema(ma.Schema):
    name = ma.fields.String(validate=ma.validate.Length(1, 100))
    channel_kind = ma.fields.String(validate=ma.validate.OneOf(CHANNEL_KINDS))
    subject = ma.fields.String(validate=ma.validate.Length(max=500))
    body = ma.fields.String(validate=ma.validate.Length(1, 20_000))
    variables = ma.fields.List(
        ma.fields.String(validate=ma.validate.Length(1, 40)), validate=ma.validate.Length(max=20)
    )


class MessageTemplateQuerySchema(PageArgs):
    channel_kind = ma.fields.String(load_default=None, validate=ma.validate.OneOf(CHANNEL_KINDS))


class PreviewRequestSchema(ma.Schema):
    customer_id = ma.fields.String(required=True, validate=ma.validate.Length(1, 64))
    variables = ma.fields.Dict(keys=ma.fields.String(), load_default=dict)


class PreviewSchema(ma.Schema):
    template_id = ma.fields.String()
    customer_id = ma.fields.String()
    subject = ma.fields.String()
    body = ma.fields.String()


class MessageSchema(ma.Schema):
    id = ma.fields.String()
    customer_id = ma.fields.String()
    channel_id = ma.fields.String()
    channel_kind = ma.fields.String()
    template_id = ma.fields.String(allow_none=True)
    subject = ma.fields.String()
    body = ma.fields.String()
    recipient = ma.fields.String(allow_none=True)
    status = ma.fields.String(metadata={"description": ", ".join(MESSAGE_STATUSES)})
    reason = ma.fields.String(allow_none=True, metadata={"description": "Why it was suppressed or failed"})
    source = ma.fields.String()
    source_id = ma.fields.String(allow_none=True)
    attempts = ma.fields.Integer()
    send_at = ma.fields.DateTime(allow_none=True, metadata={"description": "scheduled: when it will be sent"})
    sent_at = ma.fields.DateTime(allow_none=True)
    delivered_at = ma.fields.DateTime(allow_none=True)
    clicked_at = ma.fields.DateTime(allow_none=True)
    failed_at = ma.fields.DateTime(allow_none=True)
    read_at = ma.fields.DateTime(allow_none=True)
    created_at = ma.fields.DateTime()
    version = ma.fields.Integer()


class SendMessageSchema(ma.Schema):
    customer_id = ma.fields.String(required=True, validate=ma.validate.Length(1, 64))
    channel_id = ma.fields.String(required=True, validate=ma.validate.Length(1, 64))
    template_id = ma.fields.String(load_default=None, allow_none=True, validate=ma.validate.Length(1, 64))
    subject = ma.fields.String(load_default=None, allow_none=True, validate=ma.validate.Length(max=500))
    body = ma.fields.String(load_default=None, allow_none=True, validate=ma.validate.Length(1, 20_000))
    variables = ma.fields.Dict(
        keys=ma.fields.String(),
        load_default=dict,
        metadata={"description": "Values of the template's declared variables, and coupon_code/coupon_name"},
    )
    source_id = ma.fields.String(load_default=None, allow_none=True, validate=ma.validate.Length(1, 64))


class MessageQuerySchema(PageArgs):
    customer_id = ma.fields.String(load_default=None)
    channel_id = ma.fields.String(load_default=None)
    status = ma.fields.String(load_default=None, validate=ma.validate.OneOf(MESSAGE_STATUSES))
    source = ma.fields.String(load_default=None, validate=ma.validate.Length(1, 32))
    source_id = ma.fields.String(load_default=None)


class InboxQuerySchema(PageArgs):
    unread = ma.fields.Boolean(load_default=False)


class StatusReportSchema(ma.Schema):
    status = ma.fields.String(required=True, validate=ma.validate.OneOf(REPORTED_STATUSES))
    reason = ma.fields.String(
        load_default=None, allow_none=True, validate=ma.validate.Length(max=500), metadata={"description": "failed"}
    )


_EARLIEST = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_LATEST = dt.datetime(2999, 12, 31, tzinfo=dt.UTC)


class MessageReportQuerySchema(ma.Schema):
    days = ma.fields.Integer(
        load_default=None,
        allow_none=True,
        validate=ma.validate.Range(1, 366),
        metadata={"description": "The last N shop-local days, today included (default 7); not with from/to"},
    )
    from_ = ma.fields.AwareDateTime(
        data_key="from",
        attribute="from",
        default_timezone=dt.UTC,
        load_default=None,
        validate=ma.validate.Range(_EARLIEST, _LATEST),
        metadata={"description": "Messages made at or after this instant (with to)"},
    )
    to = ma.fields.AwareDateTime(
        default_timezone=dt.UTC,
        load_default=None,
        validate=ma.validate.Range(_EARLIEST, _LATEST),
        metadata={"description": "… and before this one; at most 366 days after from"},
    )


class MessageFiguresSchema(ma.Schema):
    total = ma.fields.Integer(metadata={"description": "Messages made in the period"})
    scheduled = ma.fields.Integer()
    queued = ma.fields.Integer()
    sent = ma.fields.Integer(metadata={"description": "Handed to an app's channel, no report back yet"})
    delivered = ma.fields.Integer()
    failed = ma.fields.Integer()
    clicked = ma.fields.Integer()
    suppressed = ma.fields.Integer()
    read = ma.fields.Integer(metadata={"description": "Inbox messages the customer opened"})
    delivery_rate = ma.fields.Float(
        allow_none=True,
        metadata={"description": "(delivered + clicked) / (sent + delivered + clicked + failed); null: none"},
    )
    click_rate = ma.fields.Float(allow_none=True, metadata={"description": "clicked / (delivered + clicked)"})
    failure_rate = ma.fields.Float(
        allow_none=True, metadata={"description": "failed / (sent + delivered + clicked + failed)"}
    )
    suppression_rate = ma.fields.Float(allow_none=True, metadata={"description": "suppressed / total"})


class ChannelFiguresSchema(MessageFiguresSchema):
    channel_id = ma.fields.String()
    name = ma.fields.String()
    kind = ma.fields.String(metadata={"description": ", ".join(CHANNEL_KINDS)})
    key = ma.fields.String(metadata={"description": "email, inbox, or the app's manifest key"})


class TemplateFiguresSchema(MessageFiguresSchema):
    template_id = ma.fields.String(allow_none=True, metadata={"description": "null: written without a template"})
    name = ma.fields.String(allow_none=True)


class JourneyFiguresSchema(MessageFiguresSchema):
    journey_id = ma.fields.String()
    name = ma.fields.String()


class MessageReportSchema(ma.Schema):
    from_ = ma.fields.DateTime(data_key="from", attribute="from")
    to = ma.fields.DateTime()
    totals = ma.fields.Nested(MessageFiguresSchema)
    channels = ma.fields.List(ma.fields.Nested(ChannelFiguresSchema), metadata={"description": "Busiest first"})
    templates = ma.fields.List(ma.fields.Nested(TemplateFiguresSchema), metadata={"description": "Busiest first"})
    journeys = ma.fields.List(
        ma.fields.Nested(JourneyFiguresSchema), metadata={"description": "Messages journeys' actions sent"}
    )
