"""A real SMTP server (aiosmtpd) on a free port, and a real HTTP receiver for apps' webhooks."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from app_webhooks import Receiver, drain, now_clock, receiver  # noqa: F401 (fixtures)


@dataclass
class Mailbox:
    """What the SMTP server accepted; ``refuse`` makes it answer 451 (a temporary failure) that many times."""

    messages: list[EmailMessage] = field(default_factory=list)
    recipients: list[list[str]] = field(default_factory=list)
    refuse: int = 0
    while_receiving: Any = None  # called (in the server's thread) as each email's data arrives


class _Handler:
    def __init__(self, box: Mailbox) -> None:
        self.box = box

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.box.while_receiving is not None:
            self.box.while_receiving()
        if self.box.refuse > 0:
            self.box.refuse -= 1
            return "451 Try again later"
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.box.messages.append(parsed)
        self.box.recipients.append(list(envelope.rcpt_tos))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def smtp(app, monkeypatch: pytest.MonkeyPatch) -> Iterator[Mailbox]:
    box = Mailbox()
    port = _free_port()
    controller = Controller(_Handler(box), hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setitem(app.config, "SOUK_SMTP_HOST", "127.0.0.1")
    monkeypatch.setitem(app.config, "SOUK_SMTP_PORT", port)
    yield box
    controller.stop()
