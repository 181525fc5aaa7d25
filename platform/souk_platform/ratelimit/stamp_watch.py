"""The revocation stamp, pushed: a process learns that it changed without asking Redis on every request.

A process keeps one connection to Redis on which it has asked to be told about every change to the stamp
key (Redis's client-side caching in broadcast mode: ``CLIENT TRACKING ON BCAST PREFIX <key>``, redirected to
the connection itself, which listens on ``__redis__:invalidate``). Redis then writes a message to that
connection whenever any client changes the key, and on every ``FLUSHDB``/``FLUSHALL``. Checking for one is
a non-blocking read of the socket (~1 µs, no round trip), done before each request is served.

The watch never learns a stamp's *value* from a message: a message only makes the stamp unknown, and the
next request reads it again in the round trip that charges its rate limit (``RedisStore``). A value read
that way is trusted only if nothing arrived on the watch between the moment the request looked (``current``)
and the moment the value came back (``confirm``): Redis writes the message in the same pass of its event
loop as the reply to the change, before it serves anyone's next command, so a change the read did not see
is always on the socket by then or comes later and is seen by the next check. ``RedisStore.bump_stamp``
follows its change with a ``PING`` so that the message has left Redis before the revoking request returns.

Whatever is not known to be alive counts as changed: no connection yet, a connection closed or broken
(Redis restarted), a server that refuses tracking (then the API asks Redis on every request, as before), or
``heartbeat`` seconds without a sign of life — the watch sends a ``PING`` when it has heard nothing for
that long and gives the connection up when the answer does not come within the same time. See
docs/architecture.md §4.2.
"""

from __future__ import annotations

import contextlib
import os
import socket
import ssl
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

import structlog
from hiredis import Reader, pack_command

if TYPE_CHECKING:
    import redis

log = structlog.get_logger("souk.ratelimit")

# How long a failed attempt to watch waits before the next: a connection refused or timed out (Redis
# down), and a server that answered with an error (tracking not allowed there), which will not change soon.
RETRY_AFTER_FAILURE_SECONDS = 1.0
RETRY_AFTER_REFUSAL_SECONDS = 60.0


class StampWatch:
    """One process's watch on the stamp key; thread-safe (one lock around the socket).

    ``current()`` returns ``(stamp, epoch)``: the stamp value last confirmed by a round trip, or ``None``
    when it must be read again. ``confirm(stamp, epoch)`` records a value read by a round trip that started
    after ``current()`` returned ``epoch``; it is kept only if the watch saw nothing in between.
    """

    def __init__(
        self,
        client: redis.Redis,
        key: str,
        *,
        heartbeat: float = 5.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._key = key
        self._heartbeat = heartbeat
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._reset()
        os.register_at_fork(after_in_child=self._reset)

    def _reset(self) -> None:
        # A forked worker must not read its parent's socket: it opens its own on first use.
        self._connection: Any = None
        self._sock: socket.socket | None = None
        self._reader = Reader()
        self._stamp: str | None = None
        self._epoch = 0
        self._next_attempt = 0.0
        self._heard_at = 0.0  # when the socket last gave a sign of life (monotonic)
        self._pinged_at: float | None = None  # a PING waiting for its answer

    @property
    def watching(self) -> bool:
        return self._sock is not None

    @property
    def epoch(self) -> int:
        """Changes with every message, connection and loss: what a value read by a round trip is checked against."""
        return self._epoch

    def current(self) -> tuple[str | None, int]:
        with self._lock:
            now = self._monotonic()
            if self._sock is not None:
                self._check(now)
            if self._sock is None and now >= self._next_attempt:
                self._start(now)  # a watch lost just now is replaced on the same look
            return self._stamp, self._epoch

    def confirm(self, stamp: str, epoch: int) -> None:
        with self._lock:
            if self._sock is None:
                return
            self._drain(self._monotonic())
            if epoch == self._epoch and self._sock is not None:
                self._stamp = stamp

    def _check(self, now: float) -> None:
        self._drain(now)
        if self._sock is None:
            return
        silent = now - self._heard_at
        if self._pinged_at is not None:
            if now - self._pinged_at > self._heartbeat:
                self._lose("no answer to a heartbeat")
        elif silent > self._heartbeat:
            try:
                self._sock.send(pack_command(("PING",)))
            except OSError as exc:
                self._lose(str(exc))
                return
            self._pinged_at = now

    def _drain(self, now: float) -> None:
        """Read whatever Redis has written: any message (a change, a flush, a heartbeat's answer) makes the
        stamp unknown and starts a new epoch; an end of stream or an error gives the connection up."""
        sock = self._sock
        assert sock is not None
        got = False
        while True:
            try:
                data = sock.recv(65536)
            except (BlockingIOError, InterruptedError, ssl.SSLWantReadError):
                break
            except OSError as exc:
                self._lose(str(exc))
                return
            if not data:
                self._lose("closed by the server")
                return
            self._reader.feed(data)
            got = True
        if not got:
            return
        while self._reader.gets() is not False:
            pass
        self._stamp = None
        self._epoch += 1
        self._heard_at = now
        self._pinged_at = None

    def _start(self, now: float) -> None:
        """Connect as the client would (address, password, TLS), then ask to hear of every change."""
        connection = None
        try:
            connection = self._client.connection_pool.make_connection()
            connection.connect()
            sock = cast(socket.socket, cast(Any, connection)._sock)
            own_id = self._call(sock, "CLIENT", "ID")
            self._call(sock, "CLIENT", "TRACKING", "ON", "REDIRECT", own_id, "BCAST", "PREFIX", self._key)
            self._call(sock, "SUBSCRIBE", "__redis__:invalidate")
            sock.setblocking(False)
        except _Refused as exc:
            log.warning("ratelimit.stamp_watch_refused", error=str(exc))
            self._next_attempt = now + RETRY_AFTER_REFUSAL_SECONDS
            _close(connection)
            return
        except Exception as exc:  # any failure to connect means "ask Redis every time"
            log.warning("ratelimit.stamp_watch_unavailable", error=str(exc))
            self._next_attempt = now + RETRY_AFTER_FAILURE_SECONDS
            _close(connection)
            return
        self._connection, self._sock = connection, sock
        self._stamp = None
        self._epoch += 1
        self._heard_at = now
        self._pinged_at = None

    def _call(self, sock: socket.socket, *args: object) -> Any:
        """One blocking command while setting up (the connection's own timeouts apply)."""
        sock.sendall(pack_command(cast(Any, args)))
        while True:
            reply = self._reader.gets()
            if reply is not False:
                if isinstance(reply, Exception):
                    raise _Refused(str(reply))
                return reply
            data = sock.recv(65536)
            if not data:
                raise ConnectionError("closed by the server")
            self._reader.feed(data)

    def _lose(self, why: str) -> None:
        log.warning("ratelimit.stamp_watch_lost", error=why)
        _close(self._connection)
        self._connection = self._sock = None
        self._reader = Reader()
        self._stamp = None
        self._epoch += 1
        self._next_attempt = 0.0  # try again at once: a restarted Redis is usually back


class _Refused(Exception):
    """Redis answered a set-up command with an error (no tracking on this server, or not for this user)."""


def _close(connection: Any) -> None:
    if connection is not None:
        with contextlib.suppress(Exception):  # closing a connection that is already broken
            connection.disconnect()
