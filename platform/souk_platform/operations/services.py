"""Readiness checks, the state ``/metrics`` reads at scrape time, and who may read ``/metrics``.

Readiness answers "should a load balancer send this web process traffic": the database answers, Redis
answers (when configured), and the database's Alembic heads are the scripts' heads. Workers' beats and
the periodic ticker are reported too, but do not make a web process unready: a web process serves
requests without workers (jobs wait in the queue), and taking every web process out of the balancer
because workers are down would turn a delay into an outage.

Nothing reported is secret: check names, revision ids, worker ``host:pid`` names, ages. Failures are
reported by exception class only (a driver's message can carry a host or user name).
"""

from __future__ import annotations

import datetime as dt
import hmac
import ipaddress
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from alembic.runtime.migration import MigrationContext
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from souk_platform.db import DbSession
from souk_platform.jobs import liveness
from souk_platform.jobs.runner import PeriodicJob
from souk_platform.webhooks.models import WebhookDelivery

# A periodic job not started for this many of its intervals (plus slack for a busy queue) is overdue.
OVERDUE_INTERVALS = 2
OVERDUE_SLACK_SECONDS = 30


@dataclass(frozen=True, slots=True)
class Check:
    ok: bool
    detail: dict[str, Any] = field(default_factory=dict)


def check_database(engine: sa.Engine, expected_heads: frozenset[str]) -> tuple[Check, Check]:
    """(database answers, migrations at head): one connection for both."""
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
            current = frozenset(MigrationContext.configure(connection).get_current_heads())
    except Exception as exc:
        failed = Check(False, {"error": type(exc).__name__})
        return failed, Check(False, {"error": "database unreachable"})
    migrations = Check(
        current == expected_heads,
        {"database": sorted(current), "scripts": sorted(expected_heads)},
    )
    return Check(True), migrations


def check_redis(redis: Any | None) -> Check:
    if redis is None:
        return Check(True, {"configured": False})
    try:
        redis.ping()
    except Exception as exc:
        return Check(False, {"error": type(exc).__name__})
    return Check(True)


def worker_report(redis: Any | None, jobs: Sequence[PeriodicJob], *, now: float) -> dict[str, Any]:
    """Each worker's last beat, the ticker's last tick, each periodic job's last start and whether it is late."""
    if redis is None:
        return {"mode": "inline"}  # the embedded wiring: jobs run in a thread of this process
    try:
        beats = liveness.worker_beats(redis, now=now)
        runs = liveness.periodic_runs(redis)
    except Exception as exc:
        return {"error": type(exc).__name__}
    periodic = {}
    for job in jobs:
        last = runs.last_run_at.get(job.name)
        periodic[job.name] = {
            "every_seconds": job.every_seconds,
            "last_run": _iso(last),
            "runs": runs.runs.get(job.name, 0),
            "overdue": last is None or now - last > OVERDUE_INTERVALS * job.every_seconds + OVERDUE_SLACK_SECONDS,
        }
    return {
        "alive": sum(1 for b in beats if b.alive),
        "workers": [
            {
                "name": b.worker,
                "alive": b.alive,
                "last_beat": _iso(b.last_beat_at),
                "seconds_since_beat": round(b.age_seconds, 1),
                "started": _iso(b.started_at),
            }
            for b in beats
        ],
        "ticker": {
            "last_tick": _iso(runs.last_tick_at),
            "seconds_since_tick": None if runs.last_tick_at is None else round(max(0.0, now - runs.last_tick_at), 1),
        },
        "periodic_jobs": periodic,
    }


def _iso(timestamp: float | None) -> str | None:
    if timestamp is None:
        return None
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).isoformat(timespec="seconds")


@dataclass(frozen=True, slots=True)
class WebhookBacklog:
    pending: int  # deliveries not yet succeeded nor given up
    due: int  # of those, due now and not claimed by a worker: waiting for a delivery run


def webhook_backlog(session: DbSession, *, now: dt.datetime) -> WebhookBacklog:
    row = session.execute(
        sa.select(sa.func.count(), sa.func.count().filter(WebhookDelivery.next_attempt_at <= now)).where(
            WebhookDelivery.status == "pending"
        )
    ).one()
    return WebhookBacklog(pending=int(row[0]), due=int(row[1]))


class StateCollector(Collector):
    """Metrics read at scrape time from shared state (Redis, the database), the same from any process."""

    def __init__(
        self,
        *,
        queue_depth: dict[str, int],
        backlog: WebhookBacklog | None,
        workers: Iterable[liveness.WorkerBeat],
        runs: liveness.PeriodicRuns | None,
    ) -> None:
        self._queue_depth = queue_depth
        self._backlog = backlog
        self._workers = list(workers)
        self._runs = runs

    def collect(self) -> Iterator[Metric]:
        depth = GaugeMetricFamily("souk_job_queue_depth", "Jobs waiting", labels=["queue"])
        for queue, count in self._queue_depth.items():
            depth.add_metric([queue], count)
        yield depth
        if self._backlog is not None:
            backlog = GaugeMetricFamily(
                "souk_webhook_backlog",
                "Webhook deliveries undelivered (pending) and due now (due)",
                labels=["state"],
            )
            backlog.add_metric(["pending"], self._backlog.pending)
            backlog.add_metric(["due"], self._backlog.due)
            yield backlog
        beat_age = GaugeMetricFamily(
            "souk_worker_seconds_since_beat", "Seconds since each souk worker's last beat", labels=["worker"]
        )
        for beat in self._workers:
            beat_age.add_metric([beat.worker], beat.age_seconds)
        yield beat_age
        yield GaugeMetricFamily(
            "souk_workers_alive", "souk worker processes beating", value=sum(1 for b in self._workers if b.alive)
        )
        if self._runs is None:
            return
        if self._runs.last_tick_at is not None:
            yield GaugeMetricFamily(
                "souk_periodic_ticker_last_tick_timestamp_seconds",
                "When a worker's ticker last looked at the periodic jobs",
                value=self._runs.last_tick_at,
            )
        last_run = GaugeMetricFamily(
            "souk_periodic_job_last_run_timestamp_seconds", "When each periodic job last started", labels=["job"]
        )
        for name, at in self._runs.last_run_at.items():
            last_run.add_metric([name], at)
        yield last_run
        runs = CounterMetricFamily("souk_periodic_job_runs", "Periodic job starts, all workers", labels=["job"])
        for name, count in self._runs.runs.items():
            runs.add_metric([name], count)
        yield runs


LOOPBACK_NETWORKS = (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128"))


def may_read_metrics(*, token: str | None, authorization: str | None, remote_addr: str | None, forwarded: bool) -> bool:
    """Whether a scrape is allowed.

    With ``SOUK_METRICS_TOKEN`` set, only ``Authorization: Bearer <token>`` is (from anywhere). Without it,
    only a client on this machine that did not come through a proxy (a request carrying ``Forwarded`` or
    ``X-Forwarded-For`` came from elsewhere, even if the proxy connects over loopback).
    """
    if token:
        scheme, _, given = (authorization or "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())
    if forwarded or not remote_addr:
        return False
    try:
        address = ipaddress.ip_address(remote_addr)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return any(address in network for network in LOOPBACK_NETWORKS)
