"""The revocation stamp's watch against a real Redis: what makes a stamp unknown, and what a value read is worth.

Other test processes change and flush their own Redis dbs on the same server, and Redis tells every watch of
a flush anywhere: a watch may therefore hear of a change nobody in this test made. Where that matters the
tests check what the watch must *not* do (trust a value across a change) rather than count messages.
"""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator

import pytest
import redis as redis_lib

from souk_platform.ratelimit.stamp_watch import RETRY_AFTER_REFUSAL_SECONDS, StampWatch


class Ticks:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def client(redis_url: str) -> Iterator[redis_lib.Redis]:
    client = redis_lib.Redis.from_url(redis_url)
    yield client
    client.close()


@pytest.fixture
def key() -> str:
    return f"souk:test:stamp:{uuid.uuid4().hex}"  # a prefix of its own: no other test's changes reach it


def settled(watch: StampWatch, client: redis_lib.Redis, key: str) -> tuple[str, int]:
    """A stamp read and confirmed with nothing in between (retried if a flush elsewhere came between)."""
    for _ in range(20):
        _, epoch = watch.current()
        value = (client.get(key) or b"").decode()
        watch.confirm(value, epoch)
        known, now_epoch = watch.current()
        if known == value:
            return value, now_epoch
    raise AssertionError("the watch never kept a confirmed stamp")


def test_a_change_to_the_key_makes_the_stamp_unknown_at_once(client: redis_lib.Redis, key: str) -> None:
    watch = StampWatch(client, key)
    client.set(key, "one")
    assert watch.current()[0] is None  # not watching yet: nothing is vouched for
    assert watch.watching
    assert settled(watch, client, key)[0] == "one"

    other = redis_lib.Redis.from_url(_url(client))  # another process changes it
    other.set(key, "two")
    other.ping()  # Redis has answered the change: its message to the watch is out
    other.close()

    assert watch.current()[0] is None
    assert settled(watch, client, key)[0] == "two"


def test_a_value_read_across_a_change_is_not_trusted(client: redis_lib.Redis, key: str) -> None:
    watch = StampWatch(client, key)
    settled(watch, client, key)
    _, epoch = watch.current()
    stale = (client.get(key) or b"").decode()
    client.set(key, "changed after the read")
    client.ping()
    watch.confirm(stale, epoch)
    assert watch.current()[0] is None


def test_a_flush_makes_the_stamp_unknown(client: redis_lib.Redis, key: str) -> None:
    watch = StampWatch(client, key)
    client.set(key, "one")
    settled(watch, client, key)
    client.flushdb()
    client.ping()
    assert watch.current()[0] is None


def test_a_lost_connection_is_noticed_and_replaced(client: redis_lib.Redis, key: str) -> None:
    watch = StampWatch(client, key)
    client.set(key, "one")
    settled(watch, client, key)
    db = client.get_connection_kwargs().get("db", 0)
    for connected in client.client_list():  # watching connections ("t": tracking) of this test's Redis db
        if "t" in connected["flags"] and int(connected["db"]) == int(db):
            client.client_kill_filter(_id=connected["id"])
    client.ping()

    assert watch.current()[0] is None
    assert watch.watching  # a new connection at once
    assert settled(watch, client, key)[0] == "one"


def test_silence_is_answered_by_a_heartbeat_and_an_answer_counts_as_a_change(client: redis_lib.Redis, key: str) -> None:
    ticks = Ticks()
    watch = StampWatch(client, key, heartbeat=5.0, monotonic=ticks)
    client.set(key, "one")
    settled(watch, client, key)
    ticks.now += 6  # six seconds without a word: the next look sends a PING
    watch.current()
    client.ping()  # the PING has been answered by now
    assert watch.current()[0] is None
    assert watch.watching


def test_a_heartbeat_without_an_answer_gives_the_connection_up(client: redis_lib.Redis, key: str) -> None:
    ticks = Ticks()
    watch = StampWatch(client, key, heartbeat=5.0, monotonic=ticks)
    client.set(key, "one")
    settled(watch, client, key)
    # A connection that has gone silent (a peer that reads and never answers, as a dead link would).
    silent, peer = socket.socketpair()
    silent.setblocking(False)
    watch._sock = silent
    ticks.now += 6
    assert watch.current()[0] == "one"  # a PING goes out; silence alone proves nothing yet
    assert peer.recv(64) == b"*1\r\n$4\r\nPING\r\n"
    ticks.now += 6
    assert watch.current()[0] is None  # no answer in time: given up, and a new connection made at once
    assert watch.watching and watch._sock is not silent
    peer.close()


def test_a_server_that_refuses_tracking_leaves_every_stamp_unknown(client: redis_lib.Redis, key: str) -> None:
    user = f"souk_no_tracking_{uuid.uuid4().hex[:12]}"
    client.acl_setuser(user, enabled=True, nopass=True, keys=["*"], commands=["+@all", "-client"])
    try:
        kwargs = client.get_connection_kwargs()
        limited = redis_lib.Redis(host=kwargs["host"], port=kwargs["port"], db=kwargs.get("db", 0), username=user)
        ticks = Ticks()
        watch = StampWatch(limited, key, monotonic=ticks)
        assert watch.current()[0] is None and not watch.watching
        ticks.now += RETRY_AFTER_REFUSAL_SECONDS / 2
        assert watch.current()[0] is None and not watch.watching  # not asked again so soon
        limited.close()
    finally:
        client.acl_deluser(user)


def test_redis_down_leaves_every_stamp_unknown_without_waiting_on_each_request() -> None:
    ticks = Ticks()
    watch = StampWatch(redis_lib.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.5), "k", monotonic=ticks)
    assert watch.current() == (None, 0) and not watch.watching
    watch.confirm("a value from elsewhere", 0)
    assert watch.current()[0] is None


def _url(client: redis_lib.Redis) -> str:
    kwargs = client.get_connection_kwargs()
    return f"redis://{kwargs['host']}:{kwargs['port']}/{kwargs.get('db', 0)}"
