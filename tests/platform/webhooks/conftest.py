"""A real HTTP receiver on 127.0.0.1 and a drained rq queue: deliveries go over a real socket."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from rq import Queue, SimpleWorker

from souk_platform.core.clock import FrozenClock


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes

    @property
    def message(self) -> dict[str, Any]:
        return json.loads(self.body)


@dataclass
class Receiver:
    """Answers each request with the next scripted (status, headers), then 200s."""

    url: str = ""
    script: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def ids(self) -> list[str]:
        return [r.headers["webhook-id"] for r in self.received]


class _Server(ThreadingHTTPServer):
    request_queue_size = 128  # a delivery run opens up to 32 connections at once; the default backlog is 5


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            with state.lock:
                state.received.append(Received({k.lower(): v for k, v in self.headers.items()}, body))
                status, headers = state.script.pop(0) if state.script else (200, {})
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            reply = b"ok" if status < 300 else b"nope " * 2000  # a long error page: only 4 KiB is kept
            self.send_header("content-length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args: Any) -> None:
            pass

    server = _Server(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def loopback(app, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(app.config, "SOUK_WEBHOOKS_ALLOW_LOOPBACK", True)


@pytest.fixture
def now_clock(app) -> Iterator[FrozenClock]:
    """A frozen clock at the real time, so the reference verifier's 5-minute tolerance holds."""
    frozen = FrozenClock(dt.datetime.now(dt.UTC))
    original = app.extensions["souk.clock"]
    app.extensions["souk.clock"] = frozen
    yield frozen
    app.extensions["souk.clock"] = original


@pytest.fixture
def drain(app, redis):
    """Sweep (dispatch the outbox, enqueue what is due), then run every queued job with a real rq worker."""
    from souk_platform.webhooks import tasks

    def run() -> None:
        with app.app_context():
            tasks.sweep()
        SimpleWorker([Queue("souk", connection=redis)], connection=redis).work(burst=True)

    return run
