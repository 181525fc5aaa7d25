"""When a wait node wakes (docs/architecture.md §5.12): a duration, the next time of day or a date in the
shop's timezone, or an event with a timeout."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from souk_platform.journeys.engine import reading


def wake_at(wait: Mapping[str, Any], *, now: dt.datetime, timezone: str) -> dt.datetime:
    """The moment a wait entered at ``now`` is over (for an event wait: its timeout)."""
    kind = wait.get("kind")
    if kind == "duration":
        return now + dt.timedelta(seconds=max(int(wait.get("seconds") or 0), 0))
    if kind == "event":
        return now + dt.timedelta(seconds=max(int(wait.get("timeout_seconds") or 0), 0))
    zone = ZoneInfo(timezone or "Asia/Shanghai")
    if kind == "time_of_day":
        hour, _, minute = str(wait.get("time") or "09:00").partition(":")
        local = now.astimezone(zone)
        at = local.replace(hour=int(hour), minute=int(minute or 0), second=0, microsecond=0)
        if at <= local:
            at = (local + dt.timedelta(days=1)).replace(hour=int(hour), minute=int(minute or 0), second=0)
            at = at.replace(microsecond=0)
        return at.astimezone(dt.UTC)
    if kind == "date":
        moment = reading.parse_time(wait.get("at"))
        if moment is None:
            try:
                day = dt.date.fromisoformat(str(wait.get("at")))
            except ValueError:
                return now
            moment = dt.datetime.combine(day, dt.time(), tzinfo=zone)
        return max(moment.astimezone(dt.UTC), now)
    return now
