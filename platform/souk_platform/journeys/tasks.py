"""Journey engine jobs (docs/architecture.md §5.12). Each commits its own batches and is safe to run twice and
concurrently: claims skip each other's rows, and the database is the only state, so a flushed queue or a killed
worker only delays work until the next tick."""

from __future__ import annotations

import time
from collections.abc import Callable

from flask import current_app

from souk_platform.core.clock import app_now
from souk_platform.db import db
from souk_platform.jobs.runner import JobRunner
from souk_platform.journeys import engine
from souk_platform.journeys.engine.enrol import ADVANCE_JOB
from souk_platform.journeys.engine.intake import DRAIN_JOB
from souk_platform.journeys.engine.split import plugin_picker

# A job stops after this long and leaves the rest to its successor, so other jobs get the worker in between.
RUN_SECONDS = 5.0


def _drain_loop(step: Callable[[], int], job: str) -> int:
    """Run ``step`` batch after batch, committing each, until it finds nothing or ``RUN_SECONDS`` pass (then
    the job queues its successor)."""
    done = 0
    until = time.monotonic() + RUN_SECONDS
    while True:
        batch = step()
        db.session.commit()
        done += batch
        if batch == 0:
            return done
        if time.monotonic() > until:
            runner: JobRunner = current_app.extensions["souk.jobs"]
            runner.enqueue_once(job)
            return done


def _advance_step() -> int:
    return engine.advance_batch(db.session, now=app_now(), pick_branch=plugin_picker)


def _drain_step() -> int:
    return engine.drain(db.session, now=app_now())


def drain_inbox() -> int:
    """Act on the events in the journey inbox (enrol, wake, convert, exit); queued after each hand-over."""
    return _drain_loop(_drain_step, DRAIN_JOB)


def advance_due() -> int:
    """Move every due enrolment as far as it goes now; queued after enrolments become ready."""
    return _drain_loop(_advance_step, ADVANCE_JOB)


def tick() -> int:
    """Every few seconds: drain what the inbox holds and move enrolments whose wait is over (this is also what
    recovers work whose queued job was lost)."""
    return drain_inbox() + advance_due()


def run_periodic_triggers() -> int:
    """Every minute: segment, schedule and date triggers enrol who is due; segment-left exit rules apply."""
    enrolled = 0
    while True:
        batch = engine.run_periodic_triggers(db.session, now=app_now())
        db.session.commit()
        enrolled += batch
        if batch == 0:
            break
    while engine.apply_segment_exits(db.session, now=app_now()):
        db.session.commit()
    db.session.commit()
    return enrolled
