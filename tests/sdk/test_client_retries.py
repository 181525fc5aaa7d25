"""Retries: a real 429 from Souk's rate limiter is waited out; backoff, Retry-After and transport failures.

The rate-limit tests run the real app in-process with the frozen clock: the client's sleep moves
the clock, so the bucket refills exactly as it would in real time. The timing edge cases (HTTP-date
``Retry-After``, exponential backoff, failures after the request left) use a scripted transport.
"""

from __future__ import annotations

import email.utils
import socket
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from flask import Flask

from factories import ShopFactory, token_for
from souk_sdk import Client, RateLimited, ServerError

BASE = "http://127.0.0.1"


def in_process(app: Flask) -> Callable[..., Any]:
    def call(environ: dict[str, Any], start_response: Any) -> Any:
        with app.app_context():  # a fresh ``g`` per request, as in production
            return app.wsgi_app(environ, start_response)

    return call


@pytest.fixture
def limits(app: Flask) -> Iterator[Callable[[float, int], None]]:
    saved = app.config["SOUK_RATE_LIMIT_RPS"], app.config["SOUK_RATE_LIMIT_BURST"]

    def set_limits(rps: float, burst: int) -> None:
        app.config["SOUK_RATE_LIMIT_RPS"], app.config["SOUK_RATE_LIMIT_BURST"] = rps, burst

    yield set_limits
    app.config["SOUK_RATE_LIMIT_RPS"], app.config["SOUK_RATE_LIMIT_BURST"] = saved


@pytest.fixture
def live(app: Flask, session: Any, redis: Any, clock: Any) -> Iterator[Callable[..., Client]]:
    """``live(**client_options)`` → a Client on a fresh shop whose sleep advances the frozen clock."""
    opened: list[httpx.Client] = []

    def make(**options: Any) -> Client:
        statuses: list[int] = []
        slept: list[float] = []

        def sleep(seconds: float) -> None:
            slept.append(seconds)
            clock.advance(seconds=seconds)

        http = httpx.Client(
            transport=httpx.WSGITransport(app=in_process(app)),
            event_hooks={"response": [lambda response: statuses.append(response.status_code)]},
        )
        opened.append(http)
        token = token_for(ShopFactory())["Authorization"].removeprefix("Bearer ")
        client = Client(BASE, token, http=http, sleep=sleep, **options)
        client.statuses, client.slept = statuses, slept
        return client

    yield make
    for http in opened:
        http.close()


def test_a_429_is_waited_out_for_as_long_as_retry_after_says(live, limits):
    limits(1, 2)
    client = live()
    names = [client.shop.get()["name"] for _ in range(3)]
    assert len(set(names)) == 1
    assert client.statuses == [200, 200, 429, 200]
    [waited] = client.slept
    assert 1.0 <= waited <= 1.1  # Retry-After: 1, plus at most 10 % jitter


def test_a_refused_post_is_retried_and_creates_one_customer(live, limits):
    limits(0.5, 1)
    client = live()
    client.shop.get()
    created = client.customers.create({"name": "Lin"})
    assert client.statuses == [200, 429, 201] and 2.0 <= client.slept[0] <= 2.2
    assert [c["id"] for c in client.customers.iter()] == [created["id"]]


def test_without_retries_the_429_is_raised_with_retry_after(live, limits):
    limits(0.5, 1)
    client = live(max_retries=0)
    client.shop.get()
    with pytest.raises(RateLimited) as refused:
        client.shop.get()
    assert refused.value.status == 429 and refused.value.retry_after == 2.0
    assert refused.value.code == "rate-limited" and "0.5 requests per second" in refused.value.detail
    assert client.slept == []


def test_a_retry_after_beyond_the_cap_is_raised_at_once(live, limits):
    limits(0.01, 1)  # one request per 100 s
    client = live(max_retry_after=60)
    client.shop.get()
    with pytest.raises(RateLimited) as refused:
        client.shop.get()
    assert refused.value.retry_after == 100.0 and client.slept == [] and client.statuses == [200, 429]


# -- scripted transports for the timing edge cases -------------------------------------------------


class Script(httpx.BaseTransport):
    """Answers each request with the next scripted response or exception; records what it was sent."""

    def __init__(self, *steps: httpx.Response | Exception) -> None:
        self.steps, self.requests = list(steps), []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        step = self.steps.pop(0)
        if isinstance(step, Exception):
            raise step
        return step


def scripted(*steps: httpx.Response | Exception, **options: Any) -> tuple[Client, Script, list[float]]:
    script, slept = Script(*steps), []
    client = Client(BASE, "souk_at_test", http=httpx.Client(transport=script), sleep=slept.append, **options)
    return client, script, slept


def ok(body: Any = None) -> httpx.Response:
    return httpx.Response(200, json=body if body is not None else {"id": "shp_1", "name": "Tea Corner"})


def test_503_without_retry_after_backs_off_exponentially_then_raises():
    unavailable = [httpx.Response(503, text="<html>upstream down</html>") for _ in range(4)]
    client, script, slept = scripted(*unavailable, backoff=0.5, max_retries=3)
    with pytest.raises(ServerError) as failed:
        client.shop.get()
    assert failed.value.status == 503 and "upstream down" in failed.value.detail  # not JSON: still a clean error
    assert len(script.requests) == 4 and len(slept) == 3
    for waited, ceiling in zip(slept, (0.5, 1.0, 2.0), strict=True):
        assert ceiling / 2 <= waited <= ceiling


def test_backoff_is_capped():
    client, _, slept = scripted(
        *[httpx.Response(503) for _ in range(5)], ok(), backoff=10, max_backoff=15, max_retries=5
    )
    client.shop.get()
    assert all(waited <= 15 for waited in slept) and min(slept[1:]) >= 7.5


def test_retry_after_as_an_http_date():
    import datetime as dt

    later = email.utils.format_datetime(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=30), usegmt=True)
    client, _, slept = scripted(httpx.Response(429, headers={"Retry-After": later}), ok())
    assert client.shop.get()["name"] == "Tea Corner"
    assert 28 <= slept[0] <= 31
    past = email.utils.format_datetime(dt.datetime.now(dt.UTC) - dt.timedelta(hours=1), usegmt=True)
    client, _, slept = scripted(httpx.Response(503, headers={"Retry-After": past}), ok())
    client.shop.get()
    assert slept == [0.0]


def test_one_idempotency_key_for_every_attempt_of_one_call():
    top_up = {"transfer_id": "trf_1", "balance": 100}
    client, script, _ = scripted(httpx.Response(503), httpx.ReadTimeout("slow"), ok(top_up), ok(top_up))
    client.stored_value.top_up("cus_1", {"amount": 100})
    keys = {r.headers["Idempotency-Key"] for r in script.requests}
    assert len(script.requests) == 3 and len(keys) == 1
    assert script.requests[0].content == script.requests[2].content == b'{"amount":100}'
    client.stored_value.top_up("cus_1", {"amount": 100})
    assert script.requests[3].headers["Idempotency-Key"] not in keys  # a new call, a new key


def test_a_failure_after_sending_is_retried_only_when_repeating_is_safe():
    failure = httpx.ReadError("connection reset by peer")
    client, script, _ = scripted(failure, ok())
    assert client.shop.get()["id"] == "shp_1"  # GET: safe
    assert len(script.requests) == 2

    client, script, slept = scripted(httpx.ReadError("connection reset by peer"), ok())
    with pytest.raises(httpx.ReadError):
        client.customers.create({"name": "Lin"})  # no idempotency key: the customer may exist already
    assert len(script.requests) == 1 and slept == []

    client, script, _ = scripted(httpx.ConnectError("refused"), ok({"id": "cus_1"}))
    assert client.customers.create({"name": "Lin"})["id"] == "cus_1"  # never reached the server: safe


def test_a_server_that_is_not_there_is_tried_max_retries_more_times():
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    slept: list[float] = []
    client = Client(f"http://127.0.0.1:{port}", "souk_at_test", sleep=slept.append, max_retries=2)
    with client, pytest.raises(httpx.ConnectError):
        client.shop.get()
    assert len(slept) == 2


def test_the_token_can_come_from_a_function_each_time():
    tokens = iter(["souk_at_one", "souk_at_two"])
    script = Script(ok(), ok())
    client = Client(BASE, lambda: next(tokens), http=httpx.Client(transport=script))
    client.shop.get()
    client.shop.get()
    assert [r.headers["Authorization"] for r in script.requests] == ["Bearer souk_at_one", "Bearer souk_at_two"]
    assert "souk_at" not in repr(client)
