"""Sending one email over SMTP (docs/architecture.md §5.11). Plain Python: settings in, an exception out."""

from __future__ import annotations

import html
import re
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from typing import Any


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    """``SOUK_SMTP_*`` as the app factory read them; ``host`` None: email is not configured."""

    host: str | None
    port: int = 25
    user: str | None = None
    password: str | None = None
    tls: str = "none"  # none | starttls | ssl
    default_from: str = "no-reply@souk.localhost"
    timeout: float = 10.0

    @classmethod
    def from_config(cls, config: Any) -> SmtpSettings:
        return cls(
            host=config.get("SOUK_SMTP_HOST"),
            port=int(config.get("SOUK_SMTP_PORT") or 25),
            user=config.get("SOUK_SMTP_USER"),
            password=config.get("SOUK_SMTP_PASSWORD"),
            tls=config.get("SOUK_SMTP_TLS") or "none",
            default_from=config.get("SOUK_SMTP_FROM") or "no-reply@souk.localhost",
            timeout=float(config.get("SOUK_SMTP_TIMEOUT") or 10),
        )


class EmailNotConfigured(RuntimeError):
    """No SMTP server is configured: retrying will not help."""


_TAG = re.compile(r"<[^>]+>")


def plain_text(body_html: str) -> str:
    """A text part for clients that show no HTML: tags dropped, entities decoded."""
    text = re.sub(r"(?i)<br\s*/?>|</p>", "\n", body_html)
    return html.unescape(_TAG.sub("", text)).strip() + "\n"


def build_email(
    *, message_id: str, from_address: str, from_name: str | None, to: str, subject: str, body_html: str, domain: str
) -> EmailMessage:
    email = EmailMessage()
    email["From"] = formataddr((from_name or "", from_address))
    email["To"] = to
    email["Subject"] = subject
    email["Message-ID"] = make_msgid(idstring=message_id, domain=domain)
    email["X-Souk-Message-Id"] = message_id
    email.set_content(plain_text(body_html))
    email.add_alternative(body_html, subtype="html")
    return email


def send_email(settings: SmtpSettings, email: EmailMessage) -> None:
    """Hand ``email`` to the SMTP server; raises ``EmailNotConfigured``, ``smtplib.SMTPException`` or
    ``OSError`` (refused connection, timeout)."""
    if not settings.host:
        raise EmailNotConfigured("No SMTP server is configured (SOUK_SMTP_HOST).")
    smtp: smtplib.SMTP
    if settings.tls == "ssl":
        smtp = smtplib.SMTP_SSL(
            settings.host, settings.port, timeout=settings.timeout, context=ssl.create_default_context()
        )
    else:
        smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
    with smtp:
        if settings.tls == "starttls":
            smtp.starttls(context=ssl.create_default_context())
        if settings.user:
            smtp.login(settings.user, settings.password or "")
        smtp.send_message(email)
