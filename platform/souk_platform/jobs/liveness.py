"""What ``souk worker`` processes record in Redis so operators can see them alive, and reading it back.

Each worker beats every ``BEAT_SECONDS`` from its ticker thread (a sorted set: worker id → time of its
last beat); the ticker notes when it last looked at the periodic table; every periodic job notes when it
last started and how many times it has. ``/readyz`` and ``/metrics`` read these (docs/architecture.md
§13). Times are Unix seconds; callers pass ``now`` so the records are testable.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

BEAT_SECONDS = 5
# A worker whose last beat is older than this is reported as not alive (two missed beats and slack).
ALIVE_SECONDS = 3 * BEAT_SECONDS
# Beats older than this are dropped: a worker gone for good stops being listed.
FORGET_SECONDS = 600

_BEATS = "souk:workers:beats"
_STARTED = "souk:workers:started"
_LAST_TICK = "souk:periodic:last-tick"
_LAST_RUN = "souk:periodic:last-run"
_RUNS = "souk:periodic:runs"


@dataclass(frozen=True, slots=True)
class WorkerBeat:
    worker: str  # "<host>:<pid>"
    started_at: float | None
    last_beat_at: float
    age_seconds: float

    @property
    def alive(self) -> bool:
        return self.age_seconds <= ALIVE_SECONDS


@dataclass(frozen=True, slots=True)
class PeriodicRuns:
    last_tick_at: float | None  # when a ticker last looked at the periodic table
    last_run_at: dict[str, float]  # periodic job name → when it last started
    runs: dict[str, int]  # periodic job name → how many times it has started


def beat(redis: Any, worker: str, *, now: float, started_at: float) -> None:
    """Record that ``worker`` is alive at ``now``."""
    with redis.pipeline() as pipe:
        pipe.zadd(_BEATS, {worker: now})
        pipe.hset(_STARTED, worker, started_at)
        pipe.execute()


def forget(redis: Any, worker: str) -> None:
    """A worker stopping cleanly removes itself at once."""
    with redis.pipeline() as pipe:
        pipe.zrem(_BEATS, worker)
        pipe.hdel(_STARTED, worker)
        pipe.execute()


def worker_beats(redis: Any, *, now: float) -> list[WorkerBeat]:
    """Every worker heard from in the last ``FORGET_SECONDS``, most recent beat first."""
    gone = [name for name, at in redis.zrangebyscore(_BEATS, "-inf", now - FORGET_SECONDS, withscores=True)]
    if gone:
        forget_many = redis.pipeline()
        forget_many.zrem(_BEATS, *gone)
        forget_many.hdel(_STARTED, *gone)
        forget_many.execute()
    beats = redis.zrevrangebyscore(_BEATS, "+inf", now - FORGET_SECONDS, withscores=True)
    started = redis.hgetall(_STARTED)
    return [
        WorkerBeat(
            worker=name.decode(),
            started_at=float(started[name]) if name in started else None,
            last_beat_at=at,
            age_seconds=max(0.0, now - at),
        )
        for name, at in beats
    ]


def note_tick(redis: Any, *, now: float) -> None:
    redis.set(_LAST_TICK, now)


def note_periodic_run(redis: Any, name: str, *, now: float) -> None:
    """Record that the periodic job ``name`` started at ``now``."""
    with redis.pipeline() as pipe:
        pipe.hset(_LAST_RUN, name, now)
        pipe.hincrby(_RUNS, name, 1)
        pipe.execute()


def periodic_runs(redis: Any) -> PeriodicRuns:
    with redis.pipeline() as pipe:
        pipe.get(_LAST_TICK)
        pipe.hgetall(_LAST_RUN)
        pipe.hgetall(_RUNS)
        tick, last_run, runs = pipe.execute()
    return PeriodicRuns(
        last_tick_at=float(tick) if tick is not None else None,
        last_run_at={name.decode(): float(at) for name, at in last_run.items()},
        runs={name.decode(): int(count) for name, count in runs.items()},
    )
