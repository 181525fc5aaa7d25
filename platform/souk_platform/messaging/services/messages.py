"""Sending messages (docs/architecture.md §5.11): the one entry point the API, the pages and the journey
engine call, the jobs that send what waits, the in-app inbox and what apps report back.

``send_message`` checks the customer and the address the channel needs, renders in the sandbox, then
either records the message ``suppressed`` (the channel's daily cap per customer is reached), defers it
(``scheduled`` until the shop's quiet hours end), or hands it on: an inbox message is delivered at once,
an email is ``queued`` for the SMTP job, an app channel's message is ``sent`` to its app as the signed
``message.send_requested`` webhook. The idempotency key makes a retried call return the first message.
"""

from __future__ import annotations

import datetime as dt
import smtplib
from dataclasses import dataclass, field
from email.errors import MessageError
from email.message import EmailMessage
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from souk_platform.apps.models import Installation
from souk_platform.customers.models import Customer
from souk_platform.customers.services import get_customer
from souk_platform.db import DbSession
from souk_platform.events.services import emit
from souk_platform.jobs.runner import enqueue_after_commit
from souk_platform.messaging import mailer, rendering
from souk_platform.messaging.errors import ChannelDisabled, InvalidMessage, MessageNotFound, StatusNotAllowed
from souk_platform.messaging.models import Message, MessageChannel
from souk_platform.messaging.services.channels import get_channel
from souk_platform.messaging.services.templates import get_template, render_for
from souk_platform.shops.models import Shop
from souk_platform.shops.services import shop_setting

SEND_EMAIL_JOB = "souk_platform.messaging.tasks.send_email"
# An email that failed is tried again after these waits; after the last it is failed for good.
EMAIL_RETRY_WAITS = (dt.timedelta(minutes=1), dt.timedelta(minutes=5), dt.timedelta(minutes=30))
MAX_EMAIL_ATTEMPTS = len(EMAIL_RETRY_WAITS) + 1
DUE_BATCH = 200
# A claimed email is sent with no transaction open; if its worker dies meanwhile, the minute job tries it
# again once this has passed (longer than the SMTP timeout, so a slow attempt is never taken over).
SEND_LEASE = dt.timedelta(minutes=5)
# What an app may report, from which statuses (delivered then clicked is the one move past "final").
_REPORT_FROM: dict[str, tuple[str, ...]] = {
    "delivered": ("sent",),
    "failed": ("sent",),
    "clicked": ("sent", "delivered"),
}


def message_view(message: Message) -> dict[str, Any]:
    return {
        "id": message.id,
        "customer_id": message.customer_id,
        "channel_id": message.channel_id,
        "channel_kind": message.channel_kind,
        "template_id": message.template_id,
        "subject": message.subject,
        "body": message.body,
        "recipient": message.recipient,
        "status": message.status,
        "reason": message.reason,
        "source": message.source,
        "source_id": message.source_id,
        "attempts": message.attempts,
        "send_at": message.send_at,
        "sent_at": message.sent_at,
        "delivered_at": message.delivered_at,
        "clicked_at": message.clicked_at,
        "failed_at": message.failed_at,
        "read_at": message.read_at,
        "created_at": message.created_at,
        "version": message.version,
    }


def _payload(message: Message) -> dict[str, Any]:
    view = message_view(message)
    for key in ("send_at", "sent_at", "delivered_at", "clicked_at", "failed_at", "read_at", "created_at"):
        view[key] = view[key].isoformat() if view[key] else None
    return view


def _emit(session: DbSession, message: Message, type: str, extra: dict[str, Any] | None = None) -> None:
    emit(
        session,
        shop_id=message.shop_id,
        type=type,
        subject_type="message",
        subject_id=message.id,
        payload={**_payload(message), **(extra or {})},
    )


def messages_stmt(
    shop_id: str,
    *,
    customer_id: str | None = None,
    channel_id: str | None = None,
    status: str | None = None,
    source: str | None = None,
    source_id: str | None = None,
) -> sa.Select[Any]:
    stmt = sa.select(Message).where(Message.shop_id == shop_id)
    for column, value in (
        (Message.customer_id, customer_id),
        (Message.channel_id, channel_id),
        (Message.status, status),
        (Message.source, source),
        (Message.source_id, source_id),
    ):
        if value:
            stmt = stmt.where(column == value)
    return stmt


def get_message(session: DbSession, *, shop_id: str, message_id: str) -> Message:
    message = session.scalar(sa.select(Message).where(Message.id == message_id, Message.shop_id == shop_id))
    if message is None:
        raise MessageNotFound(f"No message {message_id} in this shop.")
    return message


# ---- quiet hours and caps ----


def _minutes(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def quiet_hours_end(shop: Shop, now: dt.datetime) -> dt.datetime | None:
    """When the shop's quiet hours that ``now`` falls in end (UTC), or None when ``now`` is not quiet."""
    return quiet_window_end(
        shop_setting(shop, "quiet_hours_start"), shop_setting(shop, "quiet_hours_end"), shop.timezone, now
    )


def quiet_window_end(
    start_text: str | None, end_text: str | None, timezone: str | None, now: dt.datetime
) -> dt.datetime | None:
    """When the quiet hours ``start_text``–``end_text`` that ``now`` falls in end (UTC), or None when ``now``
    is not quiet. The times are ``HH:MM`` in ``timezone``; a start after the end spans midnight (21:00–09:00).
    The shop's quiet hours and a journey's (§5.12) are both read this way."""
    if not start_text or not end_text or start_text == end_text:
        return None
    zone = ZoneInfo(timezone or "Asia/Shanghai")
    local = now.astimezone(zone)
    start, end, at = _minutes(start_text), _minutes(end_text), local.hour * 60 + local.minute
    quiet = start <= at < end if start < end else at >= start or at < end
    if not quiet:
        return None
    end_day = local.date() if at < end else local.date() + dt.timedelta(days=1)
    local_end = dt.datetime.combine(end_day, dt.time(end // 60, end % 60), tzinfo=zone)
    return local_end.astimezone(dt.UTC)


def _sent_today(session: DbSession, shop: Shop, *, customer_id: str, channel_id: str, now: dt.datetime) -> int:
    """Messages (not suppressed) the customer was given on the channel since the shop-local midnight."""
    zone = ZoneInfo(shop.timezone or "Asia/Shanghai")
    midnight = dt.datetime.combine(now.astimezone(zone).date(), dt.time(), tzinfo=zone).astimezone(dt.UTC)
    count = session.scalar(
        sa.select(sa.func.count())
        .select_from(Message)
        .where(
            Message.customer_id == customer_id,
            Message.channel_id == channel_id,
            Message.created_at >= midnight,
            Message.status != "suppressed",
        )
    )
    return int(count or 0)


# ---- sending ----


def _recipient(channel: MessageChannel, customer: Customer) -> str | None:
    if channel.kind == "email":
        if not customer.email:
            raise InvalidMessage(
                f"Customer {customer.id} has no email address.",
                errors={"customer_id": ["This customer has no email address: choose another channel."]},
            )
        return customer.email
    if channel.kind == "app":
        return customer.phone
    return None


def send_message(
    session: DbSession,
    *,
    shop_id: str,
    customer_id: str,
    channel_id: str,
    template_id: str | None = None,
    subject: str | None = None,
    body: str | None = None,
    variables: dict[str, Any] | None = None,
    source: str,
    source_id: str | None = None,
    idempotency_key: str,
    now: dt.datetime,
    not_before: dt.datetime | None = None,
) -> Message:
    """Send (or defer, or suppress) one message to one customer; the same key returns the first message.

    ``not_before`` (a journey's own quiet hours, §5.12) defers the message like the shop's quiet hours do:
    it is ``scheduled`` for that time, or for the end of the shop's quiet hours if that time falls in them.

    Give a ``template_id`` (its variables filled from ``variables``) or a ``subject``/``body`` rendered
    in the same sandbox. Raises 404 for another shop's customer, channel or template, 409 for a channel
    switched off, 422 for a missing address, value or a template the sandbox refuses; a capped message
    is not an error: it is recorded ``suppressed`` with the reason.
    """
    existing = _by_key(session, shop_id, idempotency_key)
    if existing is not None:
        return existing
    customer = get_customer(session, shop_id=shop_id, customer_id=customer_id, for_update=True)  # one at a time
    channel = get_channel(session, shop_id=shop_id, channel_id=channel_id)
    if channel.status != "active":
        raise ChannelDisabled(f"The channel {channel.name} is {channel.status}.")
    if template_id is not None:
        template = get_template(session, shop_id=shop_id, template_id=template_id)
        if template.channel_kind != channel.kind:
            raise InvalidMessage(
                "The template is for another kind of channel.",
                errors={"template_id": [f"This template is for {template.channel_kind}, not {channel.kind}."]},
            )
        subject, body, declared = template.subject, template.body, list(template.variables)
    else:
        if not (body or "").strip():
            raise InvalidMessage("Give a template_id or a body.", errors={"body": ["Write the message."]})
        if channel.kind == "email" and not (subject or "").strip():
            raise InvalidMessage("An email needs a subject.", errors={"subject": ["Write a subject."]})
        declared = [name for name in (variables or {}) if name not in ("coupon_code", "coupon_name")]
        _check_inline(channel.kind, subject or "", body or "", declared)
    recipient = _recipient(channel, customer)
    shop = session.get(Shop, shop_id)
    assert shop is not None
    rendered_subject, rendered_body = render_for(
        session,
        shop=shop,
        customer=customer,
        kind=channel.kind,
        subject=subject or "",
        body=body or "",
        declared=declared,
        variables=variables,
    )
    message = Message(
        shop_id=shop_id,
        customer_id=customer.id,
        channel_id=channel.id,
        template_id=template_id,
        channel_kind=channel.kind,
        subject=rendered_subject[:500],
        body=rendered_body,
        recipient=recipient,
        status="queued",
        source=source,
        source_id=source_id,
        idempotency_key=idempotency_key,
        attempts=0,
        created_at=now,
    )
    if channel.daily_cap is not None and (
        _sent_today(session, shop, customer_id=customer.id, channel_id=channel.id, now=now) >= channel.daily_cap
    ):
        message.status = "suppressed"
        message.reason = f"The channel's cap of {channel.daily_cap} messages per customer per day is reached."
    elif (wake := _deferred_until(shop, now, not_before)) is not None:
        message.status, message.send_at = "scheduled", wake
    if not _insert(session, message):
        found = _by_key(session, shop_id, idempotency_key)
        assert found is not None
        return found
    if message.status == "suppressed":
        _emit(session, message, "message.suppressed")
    elif message.status == "scheduled":
        _emit(session, message, "message.scheduled")
    else:
        dispatch(session, message=message, channel=channel, customer=customer, now=now)
    return message


def _deferred_until(shop: Shop, now: dt.datetime, not_before: dt.datetime | None) -> dt.datetime | None:
    """When a message asked for at ``now`` may go out, or None for now: after ``not_before`` and outside the
    shop's quiet hours."""
    earliest = not_before if not_before is not None and not_before > now else now
    wake = quiet_hours_end(shop, earliest)
    if wake is not None:
        return wake
    return earliest if earliest > now else None


def _check_inline(kind: str, subject: str, body: str, declared: list[str]) -> None:
    try:
        rendering.check_template(subject=subject, body=body, variables=declared, html=kind == "email")
    except rendering.TemplateProblem as problem:
        raise InvalidMessage(problem.message, errors={problem.field: [problem.message]}) from None


def _by_key(session: DbSession, shop_id: str, key: str) -> Message | None:
    return session.scalar(sa.select(Message).where(Message.shop_id == shop_id, Message.idempotency_key == key))


def _insert(session: DbSession, message: Message) -> bool:
    """Add ``message``; False when a concurrent call with the same key got there first."""
    try:
        with session.begin_nested():
            session.add(message)
            session.flush()
    except IntegrityError:
        return False
    return True


def dispatch(
    session: DbSession, *, message: Message, channel: MessageChannel, customer: Customer, now: dt.datetime
) -> None:
    """Hand a due message on by its channel's kind (the caller holds the message)."""
    message.send_at = None
    if channel.kind == "inbox":
        message.status, message.sent_at, message.delivered_at = "delivered", now, now
        session.flush()
        _emit(session, message, "message.sent")
        _emit(session, message, "message.delivered")
    elif channel.kind == "app":
        message.status, message.sent_at = "sent", now
        session.flush()
        _emit(
            session,
            message,
            "message.send_requested",
            {
                "installation_id": channel.installation_id,
                "channel_key": channel.key,
                "customer": {
                    "id": customer.id,
                    "name": customer.name,
                    "phone": customer.phone,
                    "email": customer.email,
                },
            },
        )
        _emit(session, message, "message.sent")
    else:
        message.status, message.send_at = "queued", now
        session.flush()
        enqueue_after_commit(session, SEND_EMAIL_JOB, message.id)


@dataclass(frozen=True, slots=True)
class OutgoingEmail:
    """An email claimed for one attempt: sent with no transaction open, then recorded by ``record_email``."""

    message_id: str
    attempt: int
    email: EmailMessage


@dataclass(slots=True)
class DueBatch:
    """What one ``send_due_messages`` batch handled, and the emails it claimed for the caller to send."""

    handled: int = 0
    emails: list[OutgoingEmail] = field(default_factory=list)


def send_due_messages(session: DbSession, *, now: dt.datetime, smtp: mailer.SmtpSettings) -> DueBatch:
    """One batch: scheduled messages whose quiet hours ended are handed on, emails due a (re)try are
    claimed (sent by the caller after its commit). Rows are claimed with SKIP LOCKED and re-checked, so two
    runs never send one twice."""
    rows = list(
        session.scalars(
            sa.select(Message)
            .where(
                Message.status.in_(("scheduled", "queued")),
                Message.send_at.is_not(None),
                Message.send_at <= now,
            )
            .order_by(Message.send_at, Message.id)
            .limit(DUE_BATCH)
            .with_for_update(skip_locked=True)
        )
    )
    batch = DueBatch(handled=len(rows))
    for message in rows:
        if message.status == "queued":
            outgoing = _claim_email(session, message, now=now, smtp=smtp)
            if outgoing is not None:
                batch.emails.append(outgoing)
            continue
        channel = session.get(MessageChannel, message.channel_id)
        customer = session.get(Customer, message.customer_id)
        assert channel is not None and customer is not None
        if channel.status != "active":
            _fail(session, message, f"The channel was {channel.status} before the message could be sent.", now)
        else:
            dispatch(session, message=message, channel=channel, customer=customer, now=now)
    return batch


def claim_email(
    session: DbSession, *, message_id: str, now: dt.datetime, smtp: mailer.SmtpSettings
) -> OutgoingEmail | str:
    """The email job's first step: claim a queued email that is due for one attempt (the caller commits,
    then ``transmit`` and ``record_email``); anything else (sent, failed, not due, another worker holding
    it) is left alone and its status returned, so the job is safe to run twice."""
    message = session.scalar(
        sa.select(Message)
        .where(Message.id == message_id, Message.status == "queued", Message.channel_kind == "email")
        .with_for_update(skip_locked=True)
    )
    if message is None or (message.send_at is not None and message.send_at > now):
        return message.status if message else "skipped"
    return _claim_email(session, message, now=now, smtp=smtp) or message.status


def _claim_email(
    session: DbSession, message: Message, *, now: dt.datetime, smtp: mailer.SmtpSettings
) -> OutgoingEmail | None:
    """Build the email and count the attempt; the claim is ``send_at`` moved past ``SEND_LEASE``, so a
    worker that dies while sending leaves it to the minute job after the lease. None when it failed here."""
    channel = session.get(MessageChannel, message.channel_id)
    shop = session.get(Shop, message.shop_id)
    assert channel is not None and shop is not None
    if channel.status != "active":
        _fail(session, message, f"The channel was {channel.status} before the email could be sent.", now)
        return None
    try:
        email = mailer.build_email(
            message_id=message.id,
            from_address=channel.config.get("from_address") or smtp.default_from,
            from_name=channel.config.get("from_name") or shop.name,
            to=message.recipient or "",
            subject=message.subject,
            body_html=message.body,
            domain=(smtp.default_from.rpartition("@")[2] or "souk.localhost"),
        )
    except (ValueError, MessageError) as error:  # an address no email can carry: retrying will not help
        _fail(session, message, f"The email cannot be built: {error}", now)
        return None
    message.attempts += 1
    message.send_at = now + SEND_LEASE
    session.flush()
    return OutgoingEmail(message.id, message.attempts, email)


def transmit(smtp: mailer.SmtpSettings, outgoing: OutgoingEmail) -> Exception | None:
    """Hand a claimed email to the SMTP server, with no transaction open (a slow server holds no lock);
    returns the error, if any, for ``record_email``."""
    try:
        mailer.send_email(smtp, outgoing.email)
    except (mailer.EmailNotConfigured, smtplib.SMTPException, OSError) as error:
        return error
    return None


def record_email(session: DbSession, outgoing: OutgoingEmail, error: Exception | None, *, now: dt.datetime) -> str:
    """Record an attempt's outcome: sent, another try later, or failed for good. An attempt whose claim
    was taken over meanwhile (its lease ran out and another attempt started) records nothing."""
    message = session.scalar(
        sa.select(Message)
        .where(Message.id == outgoing.message_id, Message.status == "queued", Message.attempts == outgoing.attempt)
        .with_for_update()
    )
    if message is None:
        found = session.get(Message, outgoing.message_id)
        return found.status if found is not None else "skipped"
    if error is None:
        message.status, message.sent_at, message.send_at, message.reason = "sent", now, None, None
        session.flush()
        _emit(session, message, "message.sent")
    elif isinstance(error, mailer.EmailNotConfigured):
        _fail(session, message, str(error), now)
    else:
        reason = f"SMTP: {type(error).__name__}: {error}"[:500]
        if isinstance(error, smtplib.SMTPRecipientsRefused) or message.attempts >= MAX_EMAIL_ATTEMPTS:
            _fail(session, message, reason, now)
        else:
            message.reason = reason
            message.send_at = now + EMAIL_RETRY_WAITS[message.attempts - 1]
            session.flush()
    return message.status


def _fail(session: DbSession, message: Message, reason: str, now: dt.datetime) -> None:
    message.status, message.reason, message.failed_at, message.send_at = "failed", reason[:500], now, None
    session.flush()
    _emit(session, message, "message.failed")


# ---- the inbox and apps' reports ----


def inbox_stmt(shop_id: str, customer_id: str, *, unread: bool = False) -> sa.Select[Any]:
    """The customer's in-app inbox: inbox messages that reached it (not scheduled or suppressed)."""
    stmt = sa.select(Message).where(
        Message.shop_id == shop_id,
        Message.customer_id == customer_id,
        Message.channel_kind == "inbox",
        Message.status.in_(("delivered", "clicked")),
    )
    if unread:
        stmt = stmt.where(Message.read_at.is_(None))
    return stmt


def mark_read(session: DbSession, *, shop_id: str, customer_id: str, message_id: str, now: dt.datetime) -> Message:
    """Mark an inbox message read (once: the first time stays)."""
    message = session.scalar(inbox_stmt(shop_id, customer_id).where(Message.id == message_id).with_for_update())
    if message is None:
        raise MessageNotFound(f"No message {message_id} in this customer's inbox.")
    if message.read_at is None:
        message.read_at = now
        session.flush()
        _emit(session, message, "message.read")
    return message


def report_status(
    session: DbSession,
    *,
    app_id: str,
    message_id: str,
    status: str,
    reason: str | None,
    now: dt.datetime,
) -> Message:
    """An app reports what became of a message on its channel: delivered, failed or clicked.

    Only the app providing the message's channel may, in whichever shop (any other caller gets 404).
    Reporting the current status again changes nothing; a final status does not move back (409), except
    that a delivered message may be clicked."""
    message = session.scalar(
        sa.select(Message)
        .join(MessageChannel, MessageChannel.id == Message.channel_id)
        .join(Installation, Installation.id == MessageChannel.installation_id)
        .where(Message.id == message_id, MessageChannel.kind == "app", Installation.app_id == app_id)
        .with_for_update(of=Message)
    )
    if message is None:
        raise MessageNotFound(f"No message {message_id} on your app's channels.")
    if message.status == status:
        return message
    if message.status not in _REPORT_FROM[status]:
        raise StatusNotAllowed(f"The message is {message.status}; it cannot become {status}.")
    message.status = status
    if status == "delivered":
        message.delivered_at = now
    elif status == "clicked":
        message.clicked_at = now
        message.delivered_at = message.delivered_at or now
    else:
        message.failed_at, message.reason = now, (reason or "The app reported a failure.")[:500]
    session.flush()
    _emit(session, message, f"message.{status}")
    return message
