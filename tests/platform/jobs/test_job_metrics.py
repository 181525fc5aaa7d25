"""Job runs and failures, as counted on ``/metrics``."""

from __future__ import annotations

import pytest
from scrape import sample

from souk_platform.jobs.runner import run_job


def test_runs_and_failures_are_counted_per_job(app, client):
    ok_job = "souk_platform.webhooks.tasks.sweep"
    failing_job = "souk_platform.webhooks.tasks.no_such_job"
    before = client.get("/metrics").get_data(as_text=True)

    run_job(app, ok_job)
    with pytest.raises(AttributeError):
        run_job(app, failing_job)

    after = client.get("/metrics").get_data(as_text=True)

    def delta(name: str, **labels: str) -> float:
        return sample(after, name, **labels) - sample(before, name, **labels)

    assert (delta("souk_job_runs_total", job=ok_job), delta("souk_job_failures_total", job=ok_job)) == (1, 0)
    assert (delta("souk_job_runs_total", job=failing_job), delta("souk_job_failures_total", job=failing_job)) == (1, 1)
    assert delta("souk_job_seconds_count", job=ok_job) == 1
