"""The protocol pieces on their own: Standard Webhooks signatures, the retry schedule, the SSRF guard."""

from __future__ import annotations

import datetime as dt
import random

import httpx
import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from souk_platform.webhooks.schedule import MAX_ATTEMPTS, RETRY_DELAYS, Failure, parse_retry_after, retry_delay
from souk_platform.webhooks.secret_box import SecretBox, UnreadableSecret
from souk_platform.webhooks.signing import InvalidSecret, new_secret, secret_key, webhook_headers
from souk_platform.webhooks.ssrf import BlockedDestination, GuardedTransport, check_url_shape, webhook_client

NOW = dt.datetime.now(dt.UTC)
BODY = b'{"type":"order.paid","data":{"id":"ord_1","version":3}}'


def test_signatures_verify_with_the_reference_library():
    secret = new_secret()
    # Signed now, not at import: the reference library refuses a timestamp 5 minutes old, and a long
    # parallel run reaches this test well after it collected the module.
    headers = webhook_headers([secret], msg_id="msg_1", at=dt.datetime.now(dt.UTC), body=BODY)
    assert secret.startswith("whsec_") and headers["webhook-signature"].startswith("v1,")
    assert Webhook(secret).verify(BODY, headers)["data"]["version"] == 3
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(BODY, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(BODY.replace(b"3", b"4"), headers)


def test_during_rotation_both_secrets_verify():
    old, new = new_secret(), new_secret()
    headers = webhook_headers([new, old], msg_id="msg_2", at=dt.datetime.now(dt.UTC), body=BODY)
    assert len(headers["webhook-signature"].split(" ")) == 2
    Webhook(old).verify(BODY, headers)
    Webhook(new).verify(BODY, headers)


def test_naive_datetimes_and_bad_secrets_are_refused():
    with pytest.raises(ValueError):
        webhook_headers([new_secret()], msg_id="m", at=dt.datetime(2026, 1, 1), body=BODY)
    for bad in ("abc", "whsec_!!!", "whsec_" + "QUJD"):
        with pytest.raises(InvalidSecret):
            secret_key(bad)


def test_secret_box_round_trips_and_refuses_another_key():
    sealed = SecretBox("key-one").seal("whsec_abc")
    assert "whsec_abc" not in sealed
    assert SecretBox("key-one").open(sealed) == "whsec_abc"
    with pytest.raises(UnreadableSecret):
        SecretBox("key-two").open(sealed)


class FixedRandom(random.Random):
    def __init__(self, value: float) -> None:
        super().__init__()
        self.value = value

    def uniform(self, a: float, b: float) -> float:
        return a + (b - a) * self.value


def test_schedule_follows_the_table_with_jitter_bounds():
    low, mid, high = FixedRandom(0.0), FixedRandom(0.5), FixedRandom(1.0)
    plain = Failure(status=500)
    assert [retry_delay(n, plain, rng=mid, now=NOW) for n in range(1, MAX_ATTEMPTS)] == pytest.approx(
        [float(d) for d in RETRY_DELAYS]
    )
    assert retry_delay(1, plain, rng=low, now=NOW) == pytest.approx(4.0)
    assert retry_delay(7, plain, rng=high, now=NOW) == pytest.approx(43200.0)
    assert retry_delay(MAX_ATTEMPTS, plain, rng=mid, now=NOW) is None
    seeded = random.Random(7)
    for _ in range(200):
        assert 4.0 <= retry_delay(1, plain, rng=seeded, now=NOW) <= 6.0  # type: ignore[operator]


def test_timeouts_and_429_wait_at_least_a_minute_and_retry_after_is_honoured_up_to_an_hour():
    rng = FixedRandom(0.5)
    assert retry_delay(1, Failure(timed_out=True), rng=rng, now=NOW) == 60
    assert retry_delay(1, Failure(status=429), rng=rng, now=NOW) == 60
    assert retry_delay(1, Failure(status=503, retry_after="120"), rng=rng, now=NOW) == 120
    assert retry_delay(6, Failure(status=503, retry_after="120"), rng=rng, now=NOW) == 120
    assert retry_delay(1, Failure(status=429, retry_after="10"), rng=rng, now=NOW) == 60
    assert retry_delay(1, Failure(status=429, retry_after="99999"), rng=rng, now=NOW) == 3600
    assert retry_delay(1, Failure(status=500, retry_after="600"), rng=rng, now=NOW) == 5  # only 429/503
    http_date = (NOW + dt.timedelta(seconds=300)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert parse_retry_after(http_date, now=NOW) == pytest.approx(300, abs=1)
    assert parse_retry_after("soon", now=NOW) is None


class RecordingTransport(httpx.BaseTransport):
    """Records what would have been sent; never opens a socket."""

    def __init__(self, response: httpx.Response | None = None) -> None:
        self.sent: list[httpx.Request] = []
        self.response = response

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request)
        return self.response or httpx.Response(204)


def _resolver(table: dict[str, list[str]]):
    looked_up: list[str] = []

    def resolve(host: str, port: int) -> list[str]:
        looked_up.append(host)
        return table[host]

    resolve.looked_up = looked_up  # type: ignore[attr-defined]
    return resolve


DNS = {
    "hooks.example.com": ["93.184.216.34"],
    "internal.example.com": ["10.1.2.3"],
    "mixed.example.com": ["93.184.216.34", "192.168.0.5"],
    "metadata.example.com": ["169.254.169.254"],
    "aliyun-meta.example.com": ["100.100.100.200"],
    "v6-local.example.com": ["::1"],
    "mapped.example.com": ["::ffff:10.0.0.1"],
    "localhost": ["127.0.0.1"],
    "nat64.example.com": ["64:ff9b::a9fe:a9fe"],  # 169.254.169.254 through a NAT64 gateway
    "sixtofour.example.com": ["2002:a00:1::1"],  # 10.0.0.1 through 6to4
    "teredo.example.com": ["2001:0:4136:e378:8000:63bf:80ff:fffe"],  # client 127.0.0.1
    "v6-public.example.com": ["2606:4700:4700::1111"],
    "nat64-public.example.com": ["64:ff9b::5db8:d822"],  # 93.184.216.34
}


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/hook",
        "http://10.0.0.1/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://internal.example.com/hook",
        "https://mixed.example.com/hook",
        "http://metadata.example.com/",
        "http://aliyun-meta.example.com/",
        "http://v6-local.example.com/",
        "http://mapped.example.com/",
        "http://[::1]:8080/",
        "http://224.0.0.1/",
        "http://0.0.0.0/",
        "http://localhost:5000/",
        "http://127.1/",
        "http://2130706433/",
        "http://0x7f000001/",
        # IPv6 forms that carry an IPv4 loopback or private address
        "http://[64:ff9b::7f00:1]/",
        "http://[64:ff9b:1::a00:1]/",
        "http://[2002:7f00:1::]/",
        "http://[::127.0.0.1]/",
        "http://[::ffff:0:7f00:1]/",
        "http://[::8.8.8.8]/",
        "http://[2001:0:53aa:64c:0:0:80ff:fffe]/",
        "http://nat64.example.com/",
        "http://sixtofour.example.com/",
        "http://teredo.example.com/",
    ],
)
def test_the_guard_refuses_internal_destinations_without_sending(url):
    connect = RecordingTransport()
    client = httpx.Client(transport=GuardedTransport(resolver=_resolver(DNS), connect=connect))
    with pytest.raises(BlockedDestination):
        client.post(url, content=b"{}")
    assert connect.sent == []


@pytest.mark.parametrize(
    ("url", "pinned"),
    [
        ("http://v6-public.example.com/", "2606:4700:4700::1111"),
        ("http://nat64-public.example.com/", "64:ff9b::5db8:d822"),  # a public IPv4 through NAT64 is fine
        ("http://[2002:5db8:d822::1]/", "2002:5db8:d822::1"),
    ],
)
def test_the_guard_lets_public_ipv6_through(url, pinned):
    connect = RecordingTransport()
    with httpx.Client(transport=GuardedTransport(resolver=_resolver(DNS), connect=connect)) as client:
        assert client.post(url, content=b"{}").status_code == 204
    assert [r.url.host for r in connect.sent] == [pinned]


def test_development_loopback_does_not_open_ipv6_ways_round_the_guard():
    connect = RecordingTransport()
    guard = GuardedTransport(allow_loopback=True, resolver=_resolver(DNS), connect=connect)
    with httpx.Client(transport=guard) as client:
        client.post("http://[::1]:9/", content=b"{}")
        for url in ("http://[64:ff9b::7f00:1]/", "http://[2002:7f00:1::]/", "http://[::127.0.0.1]/"):
            with pytest.raises(BlockedDestination):
                client.post(url, content=b"{}")
    assert [r.url.host for r in connect.sent] == ["::1"]


def test_the_guard_pins_the_checked_ip_and_keeps_the_host_name():
    connect = RecordingTransport()
    resolver = _resolver(DNS)
    with httpx.Client(transport=GuardedTransport(resolver=resolver, connect=connect)) as client:
        response = client.post("https://hooks.example.com/in?x=1", content=b"{}")
    assert response.status_code == 204
    (sent,) = connect.sent
    assert sent.url.host == "93.184.216.34" and sent.url.path == "/in" and sent.url.query == b"x=1"
    assert sent.headers["host"] == "hooks.example.com"
    assert sent.extensions["sni_hostname"] == "hooks.example.com"
    assert resolver.looked_up == ["hooks.example.com"]  # type: ignore[attr-defined]


def test_rebinding_between_attempts_is_caught_because_every_request_resolves_again():
    table = {"flip.example.com": ["93.184.216.34"]}
    connect = RecordingTransport()
    with httpx.Client(transport=GuardedTransport(resolver=_resolver(table), connect=connect)) as client:
        client.post("http://flip.example.com/", content=b"{}")
        table["flip.example.com"] = ["10.0.0.7"]
        with pytest.raises(BlockedDestination):
            client.post("http://flip.example.com/", content=b"{}")
    assert [r.url.host for r in connect.sent] == ["93.184.216.34"]


def test_a_redirect_to_an_internal_address_is_not_followed():
    connect = RecordingTransport(httpx.Response(302, headers={"location": "http://169.254.169.254/latest/"}))
    client = webhook_client(resolver=_resolver(DNS), connect=connect)
    response = client.post("http://hooks.example.com/", content=b"{}")
    assert response.status_code == 302
    assert [r.url.host for r in connect.sent] == ["93.184.216.34"]
    # Even a client that follows redirects would have the second hop checked and refused.
    follows = httpx.Client(transport=GuardedTransport(resolver=_resolver(DNS), connect=connect), follow_redirects=True)
    with pytest.raises(BlockedDestination):
        follows.post("http://hooks.example.com/", content=b"{}")
    assert [r.url.host for r in connect.sent] == ["93.184.216.34", "93.184.216.34"]


def test_loopback_is_allowed_only_with_the_setting_and_nothing_else_is():
    connect = RecordingTransport()
    guard = GuardedTransport(allow_loopback=True, resolver=_resolver(DNS), connect=connect)
    with httpx.Client(transport=guard) as client:
        client.post("http://127.0.0.1:9/", content=b"{}")
        client.post("http://localhost:9/", content=b"{}")
        for url in ("http://10.0.0.1/", "http://169.254.169.254/"):
            with pytest.raises(BlockedDestination):
                client.post(url, content=b"{}")
    assert [r.url.host for r in connect.sent] == ["127.0.0.1", "127.0.0.1"]


@pytest.mark.parametrize(
    "url", ["ftp://example.com/", "example.com/hook", "http://user:pw@example.com/", "http:///nohost", "http://x:0/"]
)
def test_url_shape_is_checked_before_any_lookup(url):
    assert check_url_shape(url)
