"""``enqueue_once``: however many commits ask for a run, one waits in the queue; once it starts, another may."""

from __future__ import annotations

from rq import Queue, SimpleWorker

from factories import ShopFactory
from souk_platform.jobs.runner import enqueue_once_after_commit

JOB = "souk_platform.webhooks.tasks.sweep"


def test_many_commits_leave_one_waiting_run_and_a_started_run_lets_the_next_queue(app, session, redis):
    queue = Queue("souk", connection=redis)
    for n in range(5):
        session.add(ShopFactory.build(name=f"asks {n}"))
        enqueue_once_after_commit(session, JOB)
        enqueue_once_after_commit(session, JOB)  # asked twice in one transaction, too
        session.commit()
    assert queue.count == 1

    SimpleWorker([queue], connection=redis).work(burst=True)
    assert queue.count == 0
    enqueue_once_after_commit(session, JOB)
    session.commit()
    assert queue.count == 1  # the run that started no longer counts as waiting


def test_a_rolled_back_transaction_asks_for_nothing(app, session, redis):
    queue = Queue("souk", connection=redis)
    session.add(ShopFactory.build(name="never saved"))
    enqueue_once_after_commit(session, JOB)
    session.rollback()
    session.commit()
    assert queue.count == 0


def test_a_flushed_redis_does_not_block_the_next_request(app, session, redis):
    queue = Queue("souk", connection=redis)
    app.extensions["souk.jobs"].enqueue_once(JOB)
    redis.flushdb()  # the waiting run and its marker are gone together
    app.extensions["souk.jobs"].enqueue_once(JOB)
    assert queue.count == 1
