"""The token bucket and its two stores, without Flask: the same scenarios against memory and real Redis."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis as redis_lib

from souk_platform.ratelimit import BucketStore, Decision, MemoryStore, Policy, RedisStore, take
from souk_platform.ratelimit.services import plan_policy

T0 = 1_772_445_600.0  # 2026-03-02T10:00:00Z: an injected clock, never the wall clock


@pytest.fixture(params=["memory", "redis"])
def store(request: pytest.FixtureRequest, redis_url: str) -> Iterator[BucketStore]:
    if request.param == "memory":
        yield MemoryStore()
        return
    client = redis_lib.Redis.from_url(redis_url)
    client.flushdb()
    yield RedisStore(client)
    client.flushdb()
    client.close()


def drain(store: BucketStore, key: str, policy: Policy, now: float, times: int) -> list[bool]:
    return [store.take(key, policy, now).allowed for _ in range(times)]


def test_a_fresh_bucket_admits_the_burst_then_refuses(store: BucketStore) -> None:
    policy = Policy(requests_per_second=2, burst=5)
    assert drain(store, "k", policy, T0, 7) == [True] * 5 + [False] * 2
    refused = store.take("k", policy, T0)
    assert (refused.allowed, refused.limit, refused.remaining) == (False, 5, 0)
    assert refused.retry_after == pytest.approx(0.5)  # one token comes back in 1/2 s
    assert refused.reset_after == pytest.approx(2.5)  # five tokens in 2.5 s
    assert refused.headers() == {
        "RateLimit-Limit": "5",
        "RateLimit-Remaining": "0",
        "RateLimit-Reset": "3",
        "Retry-After": "1",
    }


def test_tokens_come_back_at_the_rate_and_never_beyond_the_burst(store: BucketStore) -> None:
    policy = Policy(requests_per_second=2, burst=5)
    drain(store, "k", policy, T0, 5)
    assert drain(store, "k", policy, T0 + 0.4, 1) == [False]  # 0.8 of a token
    assert drain(store, "k", policy, T0 + 1.0, 3) == [True, True, False]  # 2 tokens after 1 s
    after_a_long_pause = store.take("k", policy, T0 + 3600)
    assert (after_a_long_pause.allowed, after_a_long_pause.remaining) == (True, 4)  # capped at the burst


def test_remaining_and_reset_describe_the_bucket_after_the_request(store: BucketStore) -> None:
    policy = Policy(requests_per_second=4, burst=8)
    first = store.take("k", policy, T0)
    assert (first.allowed, first.remaining, first.retry_after) == (True, 7, 0)
    assert first.headers() == {"RateLimit-Limit": "8", "RateLimit-Remaining": "7", "RateLimit-Reset": "1"}
    assert first.reset_after == pytest.approx(0.25)


def test_each_key_has_its_own_bucket(store: BucketStore) -> None:
    policy = Policy(requests_per_second=1, burst=2)
    assert drain(store, "ins:a", policy, T0, 3) == [True, True, False]
    assert drain(store, "ins:b", policy, T0, 3) == [True, True, False]


def test_a_clock_that_goes_backwards_refills_nothing(store: BucketStore) -> None:
    policy = Policy(requests_per_second=1, burst=2)
    drain(store, "k", policy, T0, 2)
    assert drain(store, "k", policy, T0 - 30, 1) == [False]
    assert drain(store, "k", policy, T0 + 1, 2) == [True, False]


def test_a_smaller_plan_caps_a_bucket_filled_under_a_larger_one(store: BucketStore) -> None:
    store.take("k", Policy(requests_per_second=100, burst=100), T0)
    small = Policy(requests_per_second=1, burst=3)
    assert drain(store, "k", small, T0, 4) == [True, True, True, False]


def test_the_revocation_stamp_rides_on_the_charge_and_changes_on_every_bump(store: BucketStore) -> None:
    policy = Policy(1.0, 2)
    first, stamp = store.take_and_read_stamp("k", policy, 1000.0)
    second, same = store.take_and_read_stamp("k", policy, 1000.0)
    assert (first.remaining, second.remaining, same) == (1, 0, stamp)  # the charge counts as a plain take
    seen = {stamp}
    for _ in range(3):
        store.bump_stamp()
        _, stamp = store.take_and_read_stamp("k", policy, 1000.0)
        assert stamp not in seen
        seen.add(stamp)


@pytest.mark.parametrize("kind", ["memory", "redis", "one-redis-store"])
def test_parallel_requests_are_never_over_admitted(kind: str, redis_url: str) -> None:
    """Twelve threads (think gunicorn processes, or one process's threads) race for a bucket of 50: at most 50
    get through, and every one of the 50 tokens is either spent or still held in a thread's lease.
    ``one-redis-store``: the threads share one ``RedisStore``, each on a connection of its own."""
    client = redis_lib.Redis.from_url(redis_url)
    client.flushdb()
    shared: BucketStore = MemoryStore() if kind == "memory" else RedisStore(client)
    policy = Policy(requests_per_second=0.001, burst=50)
    admitted: list[bool] = []
    held: list[int] = []
    failures: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(12)

    def worker() -> None:
        try:
            # Each thread gets its own store object on the shared backing (as each process would).
            mine = shared if kind != "redis" else RedisStore(redis_lib.Redis.from_url(redis_url))
            start.wait()
            for _ in range(10):
                allowed = mine.take("ins:busy", policy, T0).allowed
                with lock:
                    admitted.append(allowed)
            with lock:
                held.append(mine.leased("ins:busy", T0) if isinstance(mine, RedisStore) else 0)
        except BaseException as exc:  # collected and asserted below
            failures.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    client.flushdb()
    assert failures == []
    assert len(admitted) == 120 and admitted.count(True) <= 50
    assert admitted.count(True) + sum(held) == 50
    if kind == "memory":
        assert admitted.count(True) == 50


def test_a_lease_serves_requests_without_redis_and_gives_back_what_it_did_not_spend(redis_url: str) -> None:
    client = redis_lib.Redis.from_url(redis_url)
    client.flushdb()
    store, policy = RedisStore(client), Policy(requests_per_second=1, burst=160)
    first = store.take("k", policy, T0)  # 160 tokens: the round trip takes 160 // 16 = 10, one for this request
    assert (first.allowed, first.remaining, store.leased("k", T0)) == (True, 159, 9)
    assert client.hget("souk:ratelimit:k", "tokens") == b"150"
    admin = redis_lib.Redis.from_url(redis_url)
    before = int(admin.info("stats")["total_commands_processed"])
    spent = [store.take("k", policy, T0) for _ in range(9)]
    assert int(admin.info("stats")["total_commands_processed"]) == before + 1  # the INFO call itself
    assert [d.remaining for d in spent] == list(range(158, 149, -1))  # as an exact count reports them
    assert store.leased("k", T0) == 0

    other = RedisStore(redis_lib.Redis.from_url(redis_url))  # another process on the same bucket
    decision, stamp = other.take_and_read_stamp("k", policy, T0)
    assert decision.remaining == 149 and other.leased("k", T0) == 8
    # 150 - 9 leased: the shared bucket cannot refill over tokens another process still holds.
    assert client.hget("souk:ratelimit:k", "tokens") == b"141"
    assert other.take_and_read_stamp("k", policy, T0) == (Decision(True, 160, 148, 12.0, 0.0), stamp)  # leased

    store.bump_stamp()  # a revocation: the other process must read the stamp again, and gives back 7 tokens
    decision, new_stamp = other.take_and_read_stamp("k", policy, T0)
    assert new_stamp != stamp and decision.remaining == 160 - 13  # 13 requests admitted so far, exactly
    assert client.hget("souk:ratelimit:k", "tokens") == b"139" and other.leased("k", T0) == 8

    later = store.take("k", policy, T0 + 30)  # both leases have ended: a full bucket again
    assert later.remaining == 159 and store.leased("k", T0 + 30) == 9
    client.flushdb()


def test_leases_end_and_a_caller_near_its_limit_is_counted_one_request_at_a_time(redis_url: str) -> None:
    client = redis_lib.Redis.from_url(redis_url)
    client.flushdb()
    store, policy = RedisStore(client), Policy(requests_per_second=0.001, burst=40)
    store.take("k", policy, T0)  # 40 // 16: a lease of 2, one spent at once
    assert store.leased("k", T0) == 1
    assert store.leased("k", T0 + 1.0) == 0  # a lease lasts one second
    for _ in range(8):
        store.take("k", policy, T0 + 2)
    assert store.leased("k", T0 + 2) == 0  # under 32 tokens left: no lease, one token per round trip
    client.flushdb()


def test_the_memory_store_forgets_buckets_that_have_refilled() -> None:
    store = MemoryStore(max_buckets=3)
    policy = Policy(requests_per_second=1, burst=2)
    for key in ("a", "b", "c"):
        store.take(key, policy, T0)
    store.take("d", policy, T0 + 10)  # a, b and c are full again by now: forgetting them changes nothing
    assert drain(store, "a", policy, T0 + 10, 3) == [True, True, False]
    assert drain(store, "d", policy, T0 + 10, 2) == [True, False]


def test_the_pure_function_is_what_the_stores_share() -> None:
    policy = Policy(requests_per_second=10, burst=1)
    state, decision = take(None, policy, T0)
    assert decision.allowed and state.tokens == 0
    state, decision = take(state, policy, T0 + 0.05)
    assert not decision.allowed and decision.retry_after == pytest.approx(0.05)


@pytest.mark.parametrize("bad", [{"requests_per_second": 0, "burst": 1}, {"requests_per_second": 1, "burst": 0}])
def test_a_policy_must_admit_something(bad: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        Policy(**bad)


PLAN: Callable[[Any], dict[str, Any]] = lambda limit: {"pricing": [{"name": "basic", "rate_limit": limit}]}  # noqa: E731


@pytest.mark.parametrize(
    ("manifest", "expected"),
    [
        (PLAN({"requests_per_second": 5, "burst": 10}), Policy(5.0, 10)),
        (PLAN({"requests_per_second": 2.5}), Policy(2.5, 2)),  # no burst: one second's worth
        ({"pricing": {"plans": [{"rate_limit": {"requests_per_second": 1, "burst": 3}}]}}, Policy(1.0, 3)),
        (
            {"pricing": [{"name": "a"}, {"name": "b", "rate_limit": {"requests_per_second": 9, "burst": 9}}]},
            None,  # the first plan stands for all until the chosen plan is recorded
        ),
        ({}, None),
        ({"pricing": []}, None),
        (PLAN({"requests_per_second": -1, "burst": 10}), None),
        (PLAN({"requests_per_second": True, "burst": 10}), None),
        (PLAN({"requests_per_second": 5, "burst": "many"}), None),
        (PLAN("fast"), None),
    ],
)
def test_plan_limits_come_from_the_first_pricing_plan(manifest: dict[str, Any], expected: Policy | None) -> None:
    assert plan_policy(manifest) == expected


def test_the_redis_store_loads_its_script_again_when_redis_has_forgotten_it(redis_url: str) -> None:
    client = redis_lib.Redis.from_url(redis_url)
    client.flushdb()
    store, policy = RedisStore(client), Policy(requests_per_second=1, burst=3)
    assert drain(store, "k", policy, T0, 1) == [True]
    client.script_flush()  # as after a restart: the script's SHA is unknown
    assert drain(store, "k", policy, T0, 3) == [True, True, False]  # the same bucket, counted on
    client.flushdb()


def test_the_redis_store_reconnects_once_when_its_connection_was_closed(redis_url: str) -> None:
    client = redis_lib.Redis.from_url(redis_url)
    client.flushdb()
    store, policy = RedisStore(client), Policy(requests_per_second=1, burst=3)
    assert drain(store, "k", policy, T0, 1) == [True]
    admin = redis_lib.Redis.from_url(redis_url)
    own_id, db = admin.client_id(), admin.connection_pool.connection_kwargs.get("db", 0)
    for connected in admin.client_list():  # this test's Redis db only: others belong to other tests
        if int(connected["id"]) != own_id and int(connected["db"]) == int(db):
            admin.client_kill_filter(_id=connected["id"])  # the store's connection among them
    assert drain(store, "k", policy, T0, 3) == [True, True, False]
    client.flushdb()


def test_the_redis_store_raises_when_redis_is_unreachable() -> None:
    store = RedisStore(redis_lib.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.5))
    with pytest.raises(redis_lib.ConnectionError):
        store.take("k", Policy(requests_per_second=1, burst=3), T0)
