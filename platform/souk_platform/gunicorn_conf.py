"""gunicorn settings of ``souk serve`` (loaded with ``-c python:souk_platform.gunicorn_conf``)."""

from __future__ import annotations

from typing import Any

from souk_platform.gc_tuning import tune_garbage_collector


def post_worker_init(worker: Any) -> None:
    """Each worker has built the app by now: tune its collector (see ``souk_platform.gc_tuning``)."""
    tune_garbage_collector()
