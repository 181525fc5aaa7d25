"""``enqueue_once``: however many commits ask for a run, one waits in the queue; once it starts, another may."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from rq import Queue, SimpleWorker

from factories import ShopFactory
from souk_platform.jobs.runner import ONCE_COALESCE_SECONDS, RqRunner, enqueue_once_after_commit
from souk_platform.webhooks.tasks import LINGER_POLL_SECONDS, LINGER_SECONDS

JOB = "souk_platform.webhooks.tasks.sweep"


class StepClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def stepped(app, redis) -> Iterator[StepClock]:
    """The app's jobs sent through an rq runner whose clock the test moves."""
    clock = StepClock()
    original = app.extensions["souk.jobs"]
    app.extensions["souk.jobs"] = RqRunner(redis, monotonic=clock)
    yield clock
    app.extensions["souk.jobs"] = original


def test_many_commits_leave_one_waiting_run_and_a_started_run_lets_the_next_queue(app, session, redis, stepped):
    queue = Queue("souk", connection=redis)
    for n in range(5):
        session.add(ShopFactory.build(name=f"asks {n}"))
        enqueue_once_after_commit(session, JOB)
        enqueue_once_after_commit(session, JOB)  # asked twice in one transaction, too
        session.commit()
        stepped.now += ONCE_COALESCE_SECONDS  # each commit asks Redis again
    assert queue.count == 1

    SimpleWorker([queue], connection=redis).work(burst=True)
    assert queue.count == 0
    enqueue_once_after_commit(session, JOB)
    session.commit()
    assert queue.count == 1  # the run that started no longer counts as waiting


def test_commits_right_after_a_request_trust_the_waiting_run_and_do_not_ask_redis(app, session, redis, stepped):
    queue = Queue("souk", connection=redis)
    enqueue_once_after_commit(session, JOB)
    session.commit()
    assert queue.count == 1
    SimpleWorker([queue], connection=redis).work(burst=True)  # the run starts (and here ends) at once

    stepped.now += ONCE_COALESCE_SECONDS / 2
    enqueue_once_after_commit(session, JOB)
    session.commit()
    assert queue.count == 0  # a run that was waiting a moment ago is trusted to see this commit

    stepped.now += ONCE_COALESCE_SECONDS
    enqueue_once_after_commit(session, JOB)
    session.commit()
    assert queue.count == 1  # past the window, Redis is asked again and a new run is queued


def test_the_delivery_run_looks_for_new_work_longer_than_the_runner_trusts_a_waiting_run():
    # The coalescing above is safe only if a started delivery run keeps polling the outbox for longer than
    # the window in which commits skip asking for one.
    assert LINGER_SECONDS - LINGER_POLL_SECONDS > ONCE_COALESCE_SECONDS


def test_the_sweep_asks_again_at_once_so_a_lost_run_is_replaced(app, session, redis, stepped):
    queue = Queue("souk", connection=redis)
    enqueue_once_after_commit(session, JOB)
    session.commit()
    redis.flushdb()  # the waiting run is lost moments after a commit asked for it
    app.extensions["souk.jobs"].enqueue_once(JOB)  # the recovery path does not coalesce
    assert queue.count == 1


def test_a_rolled_back_transaction_asks_for_nothing(app, session, redis):
    queue = Queue("souk", connection=redis)
    session.add(ShopFactory.build(name="never saved"))
    enqueue_once_after_commit(session, JOB)
    session.rollback()
    session.commit()
    assert queue.count == 0


def test_a_flushed_redis_does_not_block_the_next_request(app, session, redis, stepped):
    queue = Queue("souk", connection=redis)
    app.extensions["souk.jobs"].enqueue_once(JOB)
    redis.flushdb()  # the waiting run and its marker are gone together
    stepped.now += ONCE_COALESCE_SECONDS
    app.extensions["souk.jobs"].enqueue_once(JOB)
    assert queue.count == 1
