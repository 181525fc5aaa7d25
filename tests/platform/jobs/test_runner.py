"""Jobs leave only after their transaction commits, and the rq wiring really runs them."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from rq import Queue, SimpleWorker

from factories import ShopFactory
from souk_platform.api.models import IdempotencyRecord
from souk_platform.db import db
from souk_platform.jobs.runner import PERIODIC_JOBS, add_periodic_job, enqueue_after_commit, periodic_jobs, resolve


def _queue(app):
    return Queue("souk", connection=app.extensions["souk.redis"])


def test_a_job_is_sent_only_when_its_transaction_commits(app, session, redis):
    queue = _queue(app)
    ShopFactory()
    enqueue_after_commit(session, "souk_platform.api.tasks.purge_idempotency")
    assert queue.count == 0
    session.commit()
    assert queue.count == 1

    session.add(ShopFactory.build(name="never saved"))
    enqueue_after_commit(session, "souk_platform.api.tasks.purge_idempotency")
    session.rollback()
    session.commit()
    assert queue.count == 1  # the rolled-back request's job was dropped


def test_the_rq_worker_runs_a_job_inside_the_app(app, session, redis, clock):
    stale = IdempotencyRecord(
        owner="shp_x:tok_x",
        key="old",
        method="POST",
        path="/x",
        request_hash="0" * 64,
        created_at=clock.now() - dt.timedelta(hours=25),
    )
    fresh = IdempotencyRecord(
        owner="shp_x:tok_x", key="new", method="POST", path="/x", request_hash="0" * 64, created_at=clock.now()
    )
    session.add_all([stale, fresh])
    session.commit()
    app.extensions["souk.jobs"].enqueue("souk_platform.api.tasks.purge_idempotency")
    SimpleWorker([_queue(app)], connection=app.extensions["souk.redis"]).work(burst=True)
    keys = session.scalars(sa.select(IdempotencyRecord.key).where(IdempotencyRecord.owner == "shp_x:tok_x")).all()
    assert keys == ["new"]


def test_every_periodic_job_points_at_a_real_function(app):
    jobs = periodic_jobs(app)  # the platform's table and the marketplace's timers
    assert set(PERIODIC_JOBS) <= set(jobs)
    for job in jobs:
        assert callable(resolve(job.path)), job.name
    assert len({job.name for job in jobs}) == len(jobs)


def test_a_periodic_job_name_is_taken_once(app):
    with pytest.raises(ValueError, match="already exists"):
        add_periodic_job(app, PERIODIC_JOBS[0])


def test_db_handle_is_the_test_session(session):
    assert db.session is session
