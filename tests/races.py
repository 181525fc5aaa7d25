"""Run calls at the same moment from real threads, for the race tests on PostgreSQL.

Each call runs in its own thread (inside an app context when ``app`` is given, with the thread's session
removed afterwards); a barrier releases them together. A call that raises fails the test, because a crashed
thread would otherwise look like a lost race.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from flask import Flask

from souk_platform.db import db


def race(*calls: Callable[[], Any], app: Flask | None = None) -> list[Any]:
    """Run ``calls`` in threads released together; return their results in order."""
    results: list[Any] = [None] * len(calls)
    crashed: list[str] = []
    start = threading.Barrier(len(calls))

    def run(i: int) -> None:
        try:
            if app is None:
                start.wait()
                results[i] = calls[i]()
                return
            with app.app_context():
                try:
                    start.wait()
                    results[i] = calls[i]()
                finally:
                    db.session.remove()
        except Exception as exc:  # surfaced below: a crashed thread must fail the test
            crashed.append(repr(exc))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert crashed == []
    return results
