"""Messaging jobs (docs/architecture.md §5.11): each safe to run twice and late."""

from __future__ import annotations

from flask import current_app

from souk_platform.core.clock import app_now
from souk_platform.db import db
from souk_platform.messaging import services
from souk_platform.messaging.mailer import SmtpSettings


def send_email(message_id: str) -> str:
    """Send one queued email (asked for after the message's commit); the message's status guards it. The
    SMTP conversation happens between two short transactions, never inside one (docs/architecture.md §5.11)."""
    smtp = SmtpSettings.from_config(current_app.config)
    claimed = services.claim_email(db.session, message_id=message_id, now=app_now(), smtp=smtp)
    db.session.commit()
    if isinstance(claimed, str):
        return claimed
    return _send(claimed, smtp)


def _send(outgoing: services.OutgoingEmail, smtp: SmtpSettings) -> str:
    error = services.transmit(smtp, outgoing)
    status = services.record_email(db.session, outgoing, error, now=app_now())
    db.session.commit()
    return status


def send_due_messages() -> int:
    """Every minute: messages whose quiet hours ended, and emails due another try."""
    smtp = SmtpSettings.from_config(current_app.config)
    handled = 0
    while True:
        batch = services.send_due_messages(db.session, now=app_now(), smtp=smtp)
        db.session.commit()
        for outgoing in batch.emails:
            _send(outgoing, smtp)
        handled += batch.handled
        if batch.handled < services.messages.DUE_BATCH:
            return handled
