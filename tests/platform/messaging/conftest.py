"""A real SMTP server (aiosmtpd) on a free port, and a real HTTP receiver for apps' webhooks."""

from __future__ import annotations

import datetime as dt
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from rq import Queue, SimpleWorker

from souk_platform.core.clock import FrozenClock


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


@dataclass
class Receiver:
    url: str = ""
    received: list[dict[str, Any]] = field(default_factory=list)
    raw: list[tuple[dict[str, str], bytes]] = field(default_factory=list)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            state.raw.append(({k.lower(): v for k, v in self.headers.items()}, body))
            state.received.append({"path": self.path, **json.loads(body)})
            self.send_response(200)
            self.send_header("content-length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def now_clock(app) -> Iterator[FrozenClock]:
    """A frozen clock at the real time, so the webhook verifier's 5-minute tolerance holds."""
    frozen = FrozenClock(dt.datetime.now(dt.UTC))
    original = app.extensions["souk.clock"]
    app.extensions["souk.clock"] = frozen
    yield frozen
    app.extensions["souk.clock"] = original


@pytest.fixture
def drain(app, redis, monkeypatch: pytest.MonkeyPatch):
    """Dispatch the outbox and run every queued job (webhook deliveries, emails) with a real rq worker."""
    from souk_platform.webhooks import tasks

    monkeypatch.setitem(app.config, "SOUK_WEBHOOKS_ALLOW_LOOPBACK", True)

    def run() -> None:
        with app.app_context():
            tasks.sweep()
        SimpleWorker([Queue("souk", connection=redis)], connection=redis).work(burst=True)

    return run
