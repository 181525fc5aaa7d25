"""gunicorn settings of ``souk serve`` (loaded with ``-c python:souk_platform.gunicorn_conf``).

Metrics: ``souk serve`` sets ``PROMETHEUS_MULTIPROC_DIR`` before gunicorn starts, so every worker writes
its counters there and ``/metrics`` sums them all (docs/architecture.md §13). Here the directory
is kept tidy: files of processes gone before this start are removed (a reused pid would otherwise carry
on from a dead process's counts), a worker's live gauges go when it exits, and a directory ``souk serve``
made for itself goes when the server stops.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
from pathlib import Path
from typing import Any

from souk_platform.gc_tuning import tune_garbage_collector

METRICS_DIR_MADE_BY_SERVE = "SOUK_METRICS_DIR_MADE_BY_SERVE"
_PID_IN_NAME = re.compile(r"_(\d+)\.db$")

# gunicorn 23+ opens a control socket at one fixed path per user: a second `souk serve` on the machine
# would take it from the first. Souk is driven by signals and its health endpoints instead.
control_socket_disable = True


def on_starting(server: Any) -> None:
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not directory:
        server.log.warning("PROMETHEUS_MULTIPROC_DIR is not set: /metrics will show one worker per scrape")
        return
    forget_dead_processes(Path(directory))


def post_worker_init(worker: Any) -> None:
    """Each worker has built the app by now: tune its collector (see ``souk_platform.gc_tuning``)."""
    tune_garbage_collector()


def child_exit(server: Any, worker: Any) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


def on_exit(server: Any) -> None:
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory and os.environ.get(METRICS_DIR_MADE_BY_SERVE) == directory:
        shutil.rmtree(directory, ignore_errors=True)


def forget_dead_processes(directory: Path) -> None:
    """Remove metric files of processes no longer running (a ``souk worker`` sharing the directory keeps its)."""
    for path in directory.glob("*.db"):
        match = _PID_IN_NAME.search(path.name)
        if match and not _running(int(match.group(1))):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
