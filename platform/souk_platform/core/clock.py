"""The one clock. Services take a ``Clock`` so timers and windows are testable."""

from __future__ import annotations

import datetime as dt
from typing import Protocol


class Clock(Protocol):
    def now(self) -> dt.datetime: ...


class SystemClock:
    """Wall-clock time, always timezone-aware UTC."""

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)


class FrozenClock:
    """A clock for tests and replays: returns ``at`` until moved with ``advance``."""

    def __init__(self, at: dt.datetime) -> None:
        self.at = at

    def now(self) -> dt.datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        self.at = self.at + dt.timedelta(**delta)


def utc(value: dt.datetime) -> dt.datetime:
    """Treat naive datetimes read back from SQLite as UTC."""
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def app_now() -> dt.datetime:
    """Now, by the current app's clock (``app.extensions["souk.clock"]``): for API handlers, pages, jobs and
    CLI commands. Services never call it; they take ``now`` from their caller."""
    from flask import current_app

    now: dt.datetime = current_app.extensions["souk.clock"].now()
    return now
