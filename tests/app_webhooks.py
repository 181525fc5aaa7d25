"""Fixtures for tests where an app receives Souk's signed webhooks: a real HTTP receiver, a frozen clock at
the real time (the verifier's 5-minute tolerance) and a drain that runs the queued deliveries with a real rq
worker. A conftest imports the ones it needs."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from rq import Queue, SimpleWorker

from souk_platform.core.clock import FrozenClock


@dataclass
class Receiver:
    """An app's webhook endpoint: what it was sent, with the raw headers and body to verify signatures."""

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
def now_clock(app: Any) -> Iterator[FrozenClock]:
    """A frozen clock at the real time, so the webhook verifier's 5-minute tolerance holds."""
    frozen = FrozenClock(dt.datetime.now(dt.UTC))
    original = app.extensions["souk.clock"]
    app.extensions["souk.clock"] = frozen
    yield frozen
    app.extensions["souk.clock"] = original


@pytest.fixture
def drain(app: Any, redis: Any, monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    """Dispatch the outbox and run every queued job (webhook deliveries, emails) with a real rq worker."""
    from souk_platform.webhooks import tasks

    monkeypatch.setitem(app.config, "SOUK_WEBHOOKS_ALLOW_LOOPBACK", True)

    def run() -> None:
        with app.app_context():
            tasks.sweep()
        SimpleWorker([Queue("souk", connection=redis)], connection=redis).work(burst=True)

    return run
