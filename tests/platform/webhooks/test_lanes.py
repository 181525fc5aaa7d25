"""A delivery run's lanes: at most a few requests on the wire per endpoint, and what was queued for an endpoint
that then failed goes back unsent (docs/architecture.md §8)."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from souk_platform.webhooks.lanes import SendLanes
from souk_platform.webhooks.services import AttemptResult, PreparedRequest


@pytest.fixture
def senders() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(8) as pool:
        yield pool


def _requests(endpoint: str, count: int) -> list[PreparedRequest]:
    now = dt.datetime.now(dt.UTC)
    return [PreparedRequest(f"msg_{endpoint}_{n}", endpoint, "https://x.test/", {}, b"{}", now) for n in range(count)]


def _drain(lanes: SendLanes) -> tuple[list[tuple[PreparedRequest, AttemptResult]], list[PreparedRequest]]:
    lanes.wait(10)
    finished, released = lanes.collect()
    assert lanes.held() == 0
    return finished, released


def test_an_endpoint_never_has_more_requests_on_the_wire_than_its_lanes(senders):
    lanes = SendLanes(senders, connections=2, slow_ms=1000, stale_seconds=30)
    lock = threading.Lock()
    on_wire: dict[str, int] = {"a": 0, "b": 0}
    most: dict[str, int] = {"a": 0, "b": 0}
    both_started = threading.Barrier(4)  # two lanes of each endpoint at once, or the test waits out the timeout

    def send(request: PreparedRequest) -> AttemptResult:
        with lock:
            on_wire[request.subscription_id] += 1
            most[request.subscription_id] = max(most[request.subscription_id], on_wire[request.subscription_id])
        if request.delivery_id.endswith("_0") or request.delivery_id.endswith("_1"):
            both_started.wait(5)
        with lock:
            on_wire[request.subscription_id] -= 1
        return AttemptResult(200, "ok", 1)

    lanes.add(_requests("a", 20) + _requests("b", 20), send)
    assert lanes.busy() == {"a": 20, "b": 20}
    finished, released = _drain(lanes)

    assert len(finished) == 40 and released == []
    assert most == {"a": 2, "b": 2}
    assert lanes.troubled() == set()


def test_what_was_queued_for_an_endpoint_that_failed_goes_back_unsent(senders):
    lanes = SendLanes(senders, connections=1, slow_ms=1000, stale_seconds=30)
    sent: list[str] = []

    def send(request: PreparedRequest) -> AttemptResult:
        sent.append(request.delivery_id)
        if request.subscription_id == "down":
            return AttemptResult(503, "busy", 2)
        return AttemptResult(200, "ok", 2)

    lanes.add(_requests("down", 5) + _requests("up", 5), send)
    finished, released = _drain(lanes)

    assert [r.delivery_id for r, _ in finished if r.subscription_id == "down"] == ["msg_down_0"]
    assert sorted(r.delivery_id for r in released) == [f"msg_down_{n}" for n in range(1, 5)]
    assert len([r for r, _ in finished if r.subscription_id == "up"]) == 5
    assert lanes.troubled() == {"down"}
    # Claimed again after the failure (the run claims one per lane for it now): sent, not handed back forever.
    lanes.add(_requests("down", 1), send)
    finished, released = _drain(lanes)
    assert [r.delivery_id for r, _ in finished] == ["msg_down_0"] and released == []


def test_a_slow_answer_troubles_an_endpoint_and_a_quick_success_clears_it(senders):
    lanes = SendLanes(senders, connections=1, slow_ms=1000, stale_seconds=30)
    answers = iter([AttemptResult(200, "ok", 4000), AttemptResult(200, "ok", 5)])
    lanes.add(_requests("slow", 2), lambda request: next(answers))
    finished, released = _drain(lanes)
    assert len(finished) == 1 and len(released) == 1 and lanes.troubled() == {"slow"}
    lanes.add(_requests("slow", 1), lambda request: next(answers))
    _drain(lanes)
    assert lanes.troubled() == set()


def test_a_request_queued_too_long_goes_back_and_a_crash_in_sending_fails_one_attempt(senders):
    lanes = SendLanes(senders, connections=1, slow_ms=1000, stale_seconds=0)
    lanes.add(_requests("e", 1), lambda request: AttemptResult(200, "ok", 1))
    finished, released = _drain(lanes)
    assert finished == [] and len(released) == 1  # queued longer than 0 s: never sent

    def broken(request: PreparedRequest) -> AttemptResult:
        raise RuntimeError("a bug")

    lanes = SendLanes(senders, connections=1, slow_ms=1000, stale_seconds=30)
    lanes.add(_requests("e", 1), broken)
    ((_, result),), _ = _drain(lanes)
    assert result.status is None and result.error == "RuntimeError: a bug"
