"""The periodic ticker of ``souk worker`` keeps going through a Redis outage."""

from __future__ import annotations

import threading
import time

import redis as redis_lib

from souk_platform.jobs import liveness
from souk_platform.jobs.worker import periodic_ticker, worker_id


def test_the_ticker_survives_redis_being_unreachable_and_beats_again_after(app, redis):
    unreachable = redis_lib.Redis(port=1, socket_connect_timeout=0.2)
    stop = threading.Event()
    down = threading.Thread(target=periodic_ticker, args=(app, unreachable, stop))
    down.start()
    time.sleep(0.5)  # at least one tick failed
    stop.set()
    down.join(10)
    assert not down.is_alive()  # it stopped when asked, having logged the failure instead of dying

    stop = threading.Event()
    up = threading.Thread(target=periodic_ticker, args=(app, redis, stop))
    up.start()
    deadline = time.monotonic() + 10
    while not any(b.worker == worker_id() for b in liveness.worker_beats(redis, now=time.time())):
        assert time.monotonic() < deadline, "no beat"
        time.sleep(0.05)
    stop.set()
    up.join(10)
    assert liveness.worker_beats(redis, now=time.time()) == []  # a clean stop takes its name off the list
