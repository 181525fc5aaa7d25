"""The deliveries a delivery run has claimed and not yet logged, sent over a few lanes per endpoint.

Plain Python: the sending threads and the function that sends are passed in. A lane is one sending thread
posting one endpoint's queued requests one after another over its kept-alive connection; an endpoint has
at most ``connections`` lanes, so a slow endpoint holds at most that many threads whatever it has queued.
An endpoint whose attempt fails or answers slowly is *troubled*: what was queued for it before that is not
sent but handed back (``collect``), so nothing waits behind a failing endpoint until its claim runs out.
See docs/architecture.md §8.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from concurrent.futures import Executor

from souk_platform.webhooks.services import AttemptResult, PreparedRequest

Send = Callable[[PreparedRequest], AttemptResult]


class SendLanes:
    """What one delivery run holds: queued, on the wire, or finished and not yet collected.

    Only the run's own thread calls ``add``, ``collect``, ``wait`` and the counts; the lanes run on
    ``senders``.
    """

    def __init__(self, senders: Executor, *, connections: int, slow_ms: int, stale_seconds: float) -> None:
        self._senders = senders
        self._connections = connections
        self._slow_ms = slow_ms  # an answer slower than this troubles its endpoint
        self._stale_seconds = stale_seconds  # a request queued longer than this is handed back, not sent
        self._changed = threading.Condition(threading.Lock())
        self._queued: dict[str, deque[tuple[PreparedRequest, Send, float]]] = {}
        self._lanes: Counter[str] = Counter()
        self._held: Counter[str] = Counter()
        self._finished: list[tuple[PreparedRequest, AttemptResult]] = []
        self._released: list[PreparedRequest] = []
        self._troubled_since: dict[str, float] = {}

    def add(self, requests: list[PreparedRequest], send: Send) -> None:
        """Queue claimed requests and open lanes for their endpoints (up to ``connections`` each)."""
        now = time.monotonic()
        with self._changed:
            for request in requests:
                self._queued.setdefault(request.subscription_id, deque()).append((request, send, now))
                self._held[request.subscription_id] += 1
            for subscription_id in {request.subscription_id for request in requests}:
                waiting = len(self._queued[subscription_id])
                while self._lanes[subscription_id] < min(self._connections, waiting):
                    self._lanes[subscription_id] += 1
                    self._senders.submit(self._lane, subscription_id)

    def collect(self) -> tuple[list[tuple[PreparedRequest, AttemptResult]], list[PreparedRequest]]:
        """What finished since the last call, and what was handed back unsent; both stop counting as held."""
        with self._changed:
            finished, self._finished = self._finished, []
            released, self._released = self._released, []
            for request in [request for request, _ in finished] + released:
                self._held[request.subscription_id] -= 1
                if not self._held[request.subscription_id]:
                    del self._held[request.subscription_id]
        return finished, released

    def wait(self, timeout: float) -> None:
        """Until nothing is queued or on the wire, or ``timeout`` seconds."""
        with self._changed:
            self._changed.wait_for(lambda: not any(self._lanes.values()), timeout=timeout)

    def held(self) -> int:
        """Requests claimed and not yet collected."""
        with self._changed:
            return sum(self._held.values())

    def busy(self) -> dict[str, int]:
        """Per endpoint (subscription id), the requests claimed and not yet collected."""
        with self._changed:
            return dict(self._held)

    def troubled(self) -> set[str]:
        """Endpoints whose latest attempt in this run failed or answered slowly."""
        with self._changed:
            return set(self._troubled_since)

    def _lane(self, subscription_id: str) -> None:
        while True:
            with self._changed:
                queue = self._queued.get(subscription_id)
                if not queue:
                    self._queued.pop(subscription_id, None)
                    self._lanes[subscription_id] -= 1
                    if not self._lanes[subscription_id]:
                        del self._lanes[subscription_id]
                    self._changed.notify_all()
                    return
                request, send, queued_at = queue.popleft()
                trouble = self._troubled_since.get(subscription_id)
                if (trouble is not None and queued_at < trouble) or (
                    time.monotonic() - queued_at > self._stale_seconds
                ):
                    self._released.append(request)
                    continue
            result = _send_safely(send, request)
            with self._changed:
                self._finished.append((request, result))
                if result.succeeded and result.latency_ms <= self._slow_ms:
                    self._troubled_since.pop(subscription_id, None)
                elif subscription_id not in self._troubled_since:
                    self._troubled_since[subscription_id] = time.monotonic()
                self._changed.notify_all()


def _send_safely(send: Send, request: PreparedRequest) -> AttemptResult:
    """A sender's result; an unexpected exception fails that one attempt, not the whole run."""
    try:
        return send(request)
    except Exception as exc:  # any bug in sending must not lose the run's other results
        return AttemptResult(None, None, 0, error=f"{type(exc).__name__}: {exc}"[:500])
