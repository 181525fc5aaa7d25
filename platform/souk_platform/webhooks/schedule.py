"""When to try a failed webhook delivery again (plain Python; the RNG and the clock are passed in).

After the n-th failed attempt the next one waits ``RETRY_DELAYS[n-1]`` seconds ±20 % jitter, so a
delivery gets ``len(RETRY_DELAYS) + 1`` attempts over about 28 hours. A timeout or a 429 waits at least
60 s. A 429 or 503 carrying ``Retry-After`` waits what the receiver asked for, capped at 1 hour.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import random
from dataclasses import dataclass

RETRY_DELAYS: tuple[int, ...] = (5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 10 * 3600)
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
JITTER = 0.2
SLOW_DOWN_FLOOR = 60  # seconds after a timeout or a 429
RETRY_AFTER_CAP = 3600
RETRY_AFTER_STATUSES = frozenset({429, 503})


@dataclass(frozen=True, slots=True)
class Failure:
    """What went wrong with one attempt: an HTTP status, or a timeout, or no response at all."""

    status: int | None = None
    timed_out: bool = False
    retry_after: str | None = None  # the raw header, for 429 and 503


def parse_retry_after(value: str | None, *, now: dt.datetime) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date); None if unusable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - now).total_seconds())


def retry_delay(failed_attempts: int, failure: Failure, *, rng: random.Random, now: dt.datetime) -> float | None:
    """Seconds until the next attempt after ``failed_attempts`` failures in a row; None: give up."""
    if failed_attempts < 1:
        raise ValueError("failed_attempts counts the attempt that just failed, so it is at least 1")
    if failed_attempts >= MAX_ATTEMPTS:
        return None
    delay = RETRY_DELAYS[failed_attempts - 1] * rng.uniform(1 - JITTER, 1 + JITTER)
    if failure.status in RETRY_AFTER_STATUSES:
        asked = parse_retry_after(failure.retry_after, now=now)
        if asked is not None:
            delay = min(max(asked, RETRY_DELAYS[0]), RETRY_AFTER_CAP)
    if failure.timed_out or failure.status == 429:
        delay = max(delay, SLOW_DOWN_FLOOR)
    return delay
