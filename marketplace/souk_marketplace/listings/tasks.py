"""Listing jobs: run a submission's automated checks, and re-run checks whose job was lost.

The database is the truth: a submission stays "checking" until ``finish_checks`` records the results,
so a lost job only delays it until the periodic sweep sends it again, and a duplicate run changes nothing.
"""

from __future__ import annotations

from flask import Flask, current_app

from souk_marketplace.listings import checks, services
from souk_platform.db import db
from souk_platform.jobs.runner import JobRunner
from souk_platform.plugins.runtime import runtime_for as plugin_runtime_for
from souk_platform.webhooks.runtime import allow_loopback
from souk_platform.webhooks.runtime import runtime_for as webhook_runtime_for


def _app() -> Flask:
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    return app


def run_submission_checks(submission_id: str) -> str:
    """Run the checks of one submission and record them; returns its status afterwards."""
    app = _app()
    webhooks = webhook_runtime_for(app)
    plan = services.check_plan(db.session, submission_id=submission_id, box=webhooks.box)
    # End the read transaction before any plugin run or HTTP call: no lock or open transaction is
    # held while an endpoint takes its time (on SQLite every transaction holds the write lock).
    db.session.rollback()
    if plan is None:
        return "skipped"
    loopback = allow_loopback(app)
    context = checks.CheckContext(
        load_module=plugin_runtime_for(app).sandbox.load,
        http=webhooks.http_for(app),
        allow_loopback=loopback,
        now=app.extensions["souk.clock"].now(),
        platform_origin=checks.origin_of(str(app.config["SOUK_PUBLIC_URL"])),
    )
    results = checks.run_checks(plan, context)
    submission = services.finish_checks(
        db.session, submission_id=submission_id, results=results, now=app.extensions["souk.clock"].now()
    )
    status = submission.status if submission is not None else "skipped"
    db.session.commit()
    return status


def sweep_stale_checks() -> int:
    """Periodic: send again the checks of submissions still "checking" long after they were sent."""
    app = _app()
    stale = services.stale_checking_submissions(db.session, now=app.extensions["souk.clock"].now())
    db.session.rollback()
    runner: JobRunner = app.extensions["souk.jobs"]
    for submission_id in stale:
        runner.enqueue(services.CHECK_JOB, submission_id)
    return len(stale)
