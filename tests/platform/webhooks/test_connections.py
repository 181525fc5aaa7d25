"""The delivery client's connections, over real sockets: kept alive, never shared between sending threads,
and a timeout says which wait ran out."""

from __future__ import annotations

import datetime as dt
import socket
import threading
from collections import defaultdict
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from souk_platform.webhooks.services import AttemptResult, PreparedRequest, send
from souk_platform.webhooks.ssrf import webhook_client

SENDERS = 12
REQUESTS_EACH = 20


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128


@pytest.fixture
def keep_alive_receiver() -> Iterator[tuple[str, dict[int, set[str]]]]:
    """A receiver that keeps connections open (HTTP/1.1) and notes which sender used each client port."""
    senders_by_port: dict[int, set[str]] = defaultdict(set)
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length", 0)))
            with lock:
                senders_by_port[self.client_address[1]].add(self.headers["x-sender"])
            self.send_response(200)
            self.send_header("content-length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            pass

    server = _Server(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hooks", senders_by_port
    server.shutdown()
    server.server_close()


def _request(url: str, sender: str, n: int) -> PreparedRequest:
    headers = {"content-type": "application/json", "x-sender": sender}
    return PreparedRequest(f"msg_{sender}_{n}", "whs_1", url, headers, b"{}", dt.datetime.now(dt.UTC))


def test_a_connection_is_only_ever_used_by_one_sending_thread(keep_alive_receiver):
    # httpcore's shared pool could close a connection it had just handed to another thread's request:
    # the receiver had the delivery within milliseconds, and the attempt was logged as timed out.
    url, senders_by_port = keep_alive_receiver
    http = webhook_client(allow_loopback=True)
    results: dict[str, list[AttemptResult]] = defaultdict(list)
    start = threading.Barrier(SENDERS)

    def sender(name: str) -> None:
        start.wait()
        for n in range(REQUESTS_EACH):
            results[name].append(send(http, _request(url, name, n)))

    threads = [threading.Thread(target=sender, args=(f"s{i}",)) for i in range(SENDERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    http.close()

    outcomes = [(r.status, r.error) for rs in results.values() for r in rs]
    assert outcomes == [(200, None)] * (SENDERS * REQUESTS_EACH)
    shared = {port: senders for port, senders in senders_by_port.items() if len(senders) > 1}
    assert shared == {}
    assert len(senders_by_port) <= SENDERS  # kept alive: no thread reconnected for each delivery


def test_a_timeout_says_which_wait_ran_out():
    silent = socket.create_server(("127.0.0.1", 0))  # accepts (the backlog does) and never answers
    try:
        http = webhook_client(allow_loopback=True)
        http.timeout = httpx.Timeout(0.3)
        result = send(http, _request(f"http://127.0.0.1:{silent.getsockname()[1]}/hooks", "s0", 0))
    finally:
        silent.close()
    assert result.timed_out and result.status is None
    assert result.error is not None and result.error.startswith("Timed out waiting for the response after ")
    assert "15 s" not in result.error
