"""Message channels, templates, messages, the customer's inbox and apps' delivery reports
(docs/architecture.md §5.11)."""

from __future__ import annotations

import hashlib
from typing import Any

from flask import g, request
from flask.views import MethodView

from souk_platform.api import (
    current_principal,
    etag,
    expected_version,
    idempotent,
    page_of,
    page_schema,
    paginated,
    requires,
    transactional,
)
from souk_platform.api.parsing import Blueprint
from souk_platform.apps.models import App
from souk_platform.core.clock import app_now
from souk_platform.core.ids import new_id
from souk_platform.customers.services import get_customer
from souk_platform.db import db
from souk_platform.messaging import services
from souk_platform.messaging.models import Message, MessageChannel, MessageTemplate
from souk_platform.messaging.schemas import (
    InboxQuerySchema,
    MessageChannelQuerySchema,
    MessageChannelSchema,
    MessageChannelUpdateSchema,
    MessageQuerySchema,
    MessageReportQuerySchema,
    MessageReportSchema,
    MessageSchema,
    MessageTemplateQuerySchema,
    MessageTemplateSchema,
    MessageTemplateUpdateSchema,
    PreviewRequestSchema,
    PreviewSchema,
    SendMessageSchema,
    StatusReportSchema,
)
from souk_platform.oauth.api import requires_app_token
from souk_platform.shops.services import get_shop

blp = Blueprint(
    "messaging",
    __name__,
    url_prefix="",
    description="Message channels (email, in-app inbox, apps' SMS and WeChat…), templates and messages (消息触达)",
)


def _shop_id() -> str:
    return current_principal().shop_id


@blp.route("/message-channels")
class ChannelList(MethodView):
    @requires("read_messages")
    @blp.arguments(MessageChannelQuerySchema, location="query")
    @blp.response(200, page_schema(MessageChannelSchema))
    def get(self, args: dict[str, Any]) -> Any:
        """The shop's channels: the built-in email and inbox, added email senders, installed apps' channels"""
        stmt = services.channels_stmt(_shop_id(), kind=args.pop("kind"), status=args.pop("status"))
        page = page_of(db.session, stmt, MessageChannel.id, **args)
        body, status, headers = paginated(page)
        body["items"] = services.channel_views(db.session, page.items)
        return body, status, headers

    @requires("write_messages")
    @transactional
    @blp.arguments(MessageChannelSchema)
    @blp.response(201, MessageChannelSchema)
    def post(self, fields: dict[str, Any]) -> Any:
        """Add an email channel (another From address, its own daily cap)"""
        channel = services.create_channel(db.session, shop_id=_shop_id(), fields=fields)
        return services.channel_views(db.session, [channel])[0], 201, etag(channel.version)


@blp.route("/message-channels/<channel_id>")
class ChannelResource(MethodView):
    @requires("read_messages")
    @blp.response(200, MessageChannelSchema)
    def get(self, channel_id: str) -> Any:
        """One channel"""
        channel = services.get_channel(db.session, shop_id=_shop_id(), channel_id=channel_id)
        return services.channel_views(db.session, [channel])[0], 200, etag(channel.version)

    @requires("write_messages")
    @transactional
    @blp.arguments(MessageChannelUpdateSchema)
    @blp.response(200, MessageChannelSchema)
    @blp.alt_response(412, description="If-Match names a stale version")
    def patch(self, changes: dict[str, Any], channel_id: str) -> Any:
        """Rename, switch off or on, set the daily cap per customer, or an email channel's From address"""
        channel = services.update_channel(
            db.session,
            shop_id=_shop_id(),
            channel_id=channel_id,
            changes=changes,
            expected_version=expected_version(),
        )
        return services.channel_views(db.session, [channel])[0], 200, etag(channel.version)


@blp.route("/message-templates")
class TemplateList(MethodView):
    @requires("read_messages")
    @blp.arguments(MessageTemplateQuerySchema, location="query")
    @blp.response(200, page_schema(MessageTemplateSchema))
    def get(self, args: dict[str, Any]) -> Any:
        """The shop's message templates, newest first"""
        stmt = services.templates_stmt(_shop_id(), channel_kind=args.pop("channel_kind"))
        page = page_of(db.session, stmt, MessageTemplate.id, **args)
        return paginated(page, view=services.template_view)

    @requires("write_messages")
    @transactional
    @blp.arguments(MessageTemplateSchema)
    @blp.response(201, MessageTemplateSchema)
    def post(self, fields: dict[str, Any]) -> Any:
        """Create a template; 422 naming the field when it uses an unknown variable or the sandbox refuses it"""
        template = services.create_template(db.session, shop_id=_shop_id(), fields=fields)
        return services.template_view(template), 201, etag(template.version)


@blp.route("/message-templates/<template_id>")
class TemplateResource(MethodView):
    @requires("read_messages")
    @blp.response(200, MessageTemplateSchema)
    def get(self, template_id: str) -> Any:
        """One template"""
        template = services.get_template(db.session, shop_id=_shop_id(), template_id=template_id)
        return services.template_view(template), 200, etag(template.version)

    @requires("write_messages")
    @transactional
    @blp.arguments(MessageTemplateUpdateSchema)
    @blp.response(200, MessageTemplateSchema)
    @blp.alt_response(412, description="If-Match names a stale version")
    def patch(self, changes: dict[str, Any], template_id: str) -> Any:
        """Change a template (send If-Match with the version you read); messages already sent keep their text"""
        template = services.update_template(
            db.session,
            shop_id=_shop_id(),
            template_id=template_id,
            changes=changes,
            expected_version=expected_version(),
        )
        return services.template_view(template), 200, etag(template.version)

    @requires("write_messages")
    @transactional
    @blp.response(204)
    @blp.alt_response(412, description="If-Match names a stale version")
    def delete(self, template_id: str) -> Any:
        """Delete a template (its messages keep their rendered text)"""
        services.delete_template(
            db.session, shop_id=_shop_id(), template_id=template_id, expected_version=expected_version()
        )
        return None


@blp.route("/message-templates/<template_id>/preview")
class TemplatePreview(MethodView):
    @requires("read_messages")
    @transactional
    @blp.arguments(PreviewRequestSchema)
    @blp.response(200, PreviewSchema)
    def post(self, body: dict[str, Any], template_id: str) -> Any:
        """Render the template for a customer, as it would be sent now (nothing is sent)"""
        return services.preview_template(
            db.session,
            shop_id=_shop_id(),
            template_id=template_id,
            customer_id=body["customer_id"],
            variables=body["variables"],
        )


def _message_key() -> str:
    """The message's idempotency key: the request's Idempotency-Key (so a retry is one message), else new."""
    key = request.headers.get("Idempotency-Key")
    if not key:
        return new_id("send")
    return "api:" + (key if len(key) <= 190 else hashlib.sha256(key.encode()).hexdigest())


@blp.route("/messages")
class MessageList(MethodView):
    @requires("read_messages")
    @blp.arguments(MessageQuerySchema, location="query")
    @blp.response(200, page_schema(MessageSchema))
    def get(self, args: dict[str, Any]) -> Any:
        """The message log, newest first; filter by customer, channel, status or source"""
        stmt = services.messages_stmt(
            _shop_id(),
            customer_id=args.pop("customer_id"),
            channel_id=args.pop("channel_id"),
            status=args.pop("status"),
            source=args.pop("source"),
            source_id=args.pop("source_id"),
        )
        page = page_of(db.session, stmt, Message.id, **args)
        return paginated(page, view=services.message_view)

    @requires("write_messages")
    @idempotent
    @blp.arguments(SendMessageSchema)
    @blp.response(201, MessageSchema)
    @blp.alt_response(409, description="The channel is disabled or retired")
    def post(self, body: dict[str, Any]) -> Any:
        """Send one message to a customer from a template or a subject and body (send an Idempotency-Key).

        A message in the shop's quiet hours is `scheduled` until they end; one over the channel's daily cap is
        recorded `suppressed` with the reason (201 either way)."""
        message = services.send_message(
            db.session,
            shop_id=_shop_id(),
            customer_id=body["customer_id"],
            channel_id=body["channel_id"],
            template_id=body["template_id"],
            subject=body["subject"],
            body=body["body"],
            variables=body["variables"],
            source="api",
            source_id=body["source_id"],
            idempotency_key=_message_key(),
            now=app_now(),
        )
        return services.message_view(message), 201


@blp.route("/messages/<message_id>")
class MessageResource(MethodView):
    @requires("read_messages")
    @blp.response(200, MessageSchema)
    def get(self, message_id: str) -> Any:
        """One message"""
        message = services.get_message(db.session, shop_id=_shop_id(), message_id=message_id)
        return services.message_view(message), 200, etag(message.version)


@blp.route("/message-reports")
class MessageReport(MethodView):
    @requires("read_messages")
    @blp.arguments(MessageReportQuerySchema, location="query")
    @blp.response(200, MessageReportSchema)
    def get(self, args: dict[str, Any]) -> Any:
        """Engagement over a period: the messages made in it by the status each has now, with delivery, click,
        failure and suppression rates, in total and per channel, template and journey"""
        shop = get_shop(db.session, _shop_id())
        start, end = services.report_period(shop, now=app_now(), days=args["days"], start=args["from"], end=args["to"])
        return services.message_report(db.session, shop_id=shop.id, start=start, end=end)


@blp.route("/customers/<customer_id>/messages")
class CustomerInbox(MethodView):
    @requires("read_messages")
    @blp.arguments(InboxQuerySchema, location="query")
    @blp.response(200, page_schema(MessageSchema))
    def get(self, args: dict[str, Any], customer_id: str) -> Any:
        """The customer's in-app inbox (站内信), newest first; `unread=true` for the unread ones"""
        customer = get_customer(db.session, shop_id=_shop_id(), customer_id=customer_id)
        stmt = services.inbox_stmt(_shop_id(), customer.id, unread=args.pop("unread"))
        page = page_of(db.session, stmt, Message.id, **args)
        return paginated(page, view=services.message_view)


@blp.route("/customers/<customer_id>/messages/<inbox_message_id>/read")
class InboxRead(MethodView):
    @requires("write_messages")
    @transactional
    @blp.response(200, MessageSchema)
    def post(self, customer_id: str, inbox_message_id: str) -> Any:
        """Mark an inbox message read (the first time is kept)"""
        message = services.mark_read(
            db.session, shop_id=_shop_id(), customer_id=customer_id, message_id=inbox_message_id, now=app_now()
        )
        return services.message_view(message)


@blp.route("/app/messages/<message_id>/status")
class AppMessageStatus(MethodView):
    @requires_app_token
    @transactional
    @blp.arguments(StatusReportSchema)
    @blp.response(200, MessageSchema)
    @blp.alt_response(409, description="The message is failed, or clicked and cannot go back")
    def post(self, body: dict[str, Any], message_id: str) -> Any:
        """An app reports what became of a message on its channel: delivered, failed or clicked.

        Call it with the app's token (client credentials), from whichever shop the message came: only messages
        on a channel of the calling app are found, any other is 404. Reporting the current status again
        changes nothing."""
        calling_app: App = g.calling_app
        message = services.report_status(
            db.session,
            app_id=calling_app.id,
            message_id=message_id,
            status=body["status"],
            reason=body["reason"],
            now=app_now(),
        )
        return services.message_view(message)
