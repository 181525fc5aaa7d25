"""The marketplace's timers, added to the app's periodic jobs when the extension registers."""

from __future__ import annotations

from souk_platform.jobs.runner import PeriodicJob

# name, dotted path of a job function (it runs inside an app context and commits its own work), seconds.
PERIODIC_JOBS: tuple[PeriodicJob, ...] = ()
