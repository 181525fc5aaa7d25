"""The per-app objects webhooks need (Flask glue): the secret box, the guarded httpx client, the RNG, and
the threads a delivery run sends with.

Built on first use and kept in ``app.extensions["souk.webhooks"]``; settings read from ``app.config``:
``SOUK_WEBHOOK_SECRETS_KEY`` (defaults to ``SECRET_KEY``) and ``SOUK_WEBHOOKS_ALLOW_LOOPBACK``
(off by default; local development and tests turn it on to deliver to 127.0.0.1) and
``SOUK_WEBHOOKS_CA_FILE`` (extra CA certificates endpoints may present).
"""

from __future__ import annotations

import random
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import httpx
from flask import Flask

from souk_platform.webhooks.secret_box import SecretBox
from souk_platform.webhooks.ssrf import webhook_client

_KEY = "souk.webhooks"
_lock = threading.Lock()
# Threads one delivery run sends with. Sending is mostly waiting on the network, so threads suffice; the
# database work stays on the run's own thread.
SEND_CONCURRENCY = 32
# Lanes (sending threads, each with its kept-alive connection) one endpoint may use at once: a slow or
# flooded endpoint (one shop's) cannot take every sender and delay every other shop's deliveries by up to
# the 15 s timeout.
PER_ENDPOINT_CONNECTIONS = 8
# Deliveries one healthy endpoint may hold of a run's claims (queued behind its lanes or on the wire): a
# round's few statements then serve up to this many of its deliveries, not one per lane. An endpoint that
# is failing (``failing_since``) or that failed or answered slowly in this run holds only one per lane.
PER_ENDPOINT_WINDOW = 64
# All of a run's claims held at once, across endpoints.
RUN_WINDOW = 256
# An answer slower than this makes its endpoint troubled: what is queued for it goes back to the database.
SLOW_ATTEMPT_MS = 1000


@dataclass
class WebhookRuntime:
    box: SecretBox
    rng: random.Random = field(default_factory=random.SystemRandom)
    _clients: dict[tuple[bool, str | None], httpx.Client] = field(default_factory=dict)
    _senders: ThreadPoolExecutor | None = None

    def http(self, *, allow_loopback: bool, ca_file: str | None = None) -> httpx.Client:
        """The one delivery client for these settings (tests change them on a live app; a change is
        a new client, so nothing built under the old settings is reused)."""
        key = (allow_loopback, ca_file)
        with _lock:
            if key not in self._clients:
                self._clients[key] = webhook_client(allow_loopback=allow_loopback, ca_file=ca_file)
            return self._clients[key]

    def http_for(self, app: Flask) -> httpx.Client:
        """The delivery client for ``app``'s settings as they are now."""
        return self.http(allow_loopback=allow_loopback(app), ca_file=app.config.get("SOUK_WEBHOOKS_CA_FILE"))

    def senders(self) -> ThreadPoolExecutor:
        """The threads that send a run's requests (``SEND_CONCURRENCY`` of them, started on first use)."""
        with _lock:
            if self._senders is None:
                self._senders = ThreadPoolExecutor(SEND_CONCURRENCY, thread_name_prefix="souk-webhook-send")
            return self._senders


def runtime_for(app: Flask) -> WebhookRuntime:
    with _lock:
        runtime: WebhookRuntime | None = app.extensions.get(_KEY)
        if runtime is None:
            key = app.config.get("SOUK_WEBHOOK_SECRETS_KEY") or app.config["SECRET_KEY"]
            runtime = WebhookRuntime(box=SecretBox(str(key)))
            app.extensions[_KEY] = runtime
        return runtime


def allow_loopback(app: Flask) -> bool:
    return bool(app.config.get("SOUK_WEBHOOKS_ALLOW_LOOPBACK", False))
