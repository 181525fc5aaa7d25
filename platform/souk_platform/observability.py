"""Structured logs with a request id on every line, and the Prometheus metrics each process counts.

``/metrics`` itself (who may read it, the multiprocess sum, state read at scrape time) is served by
``souk_platform.operations``.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from typing import Any

import structlog
from flask import Flask, Response, g, request
from prometheus_client import CollectorRegistry, Counter, Histogram


def configure_logging(fmt: str) -> None:
    """JSON lines in production, readable lines in the embedded demo; one format for every logger.

    Our own structlog loggers and the standard-library loggers of Flask, Alembic, rq and gunicorn all
    go through the same processors, so every line carries the request id bound for the request.
    """
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: Any = structlog.processors.JSONRenderer() if fmt == "json" else structlog.dev.ConsoleRenderer()
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers = [h for h in root.handlers if not getattr(h, "_souk", False)]
    handler._souk = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    # httpx logs every request at INFO: a line per webhook attempt, hundreds a second at full speed, cost
    # half a millisecond each. The delivery run logs failed attempts itself and counts every attempt.
    logging.getLogger("httpx").setLevel(logging.WARNING)


# Latency buckets (seconds) for work measured in milliseconds to seconds: requests, checkouts, jobs.
_SECONDS_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
# The checkout route, measured on its own (count, outcome, latency) from the request hooks.
CHECKOUT_ROUTE = ("POST", "/api/v1/carts/<cart_id>/checkout")


class Metrics:
    """The counters and histograms a process adds to; one set per app so tests' apps stay apart.

    Under ``souk serve`` (``PROMETHEUS_MULTIPROC_DIR`` set before prometheus_client is imported) every
    value is also written to that directory, and ``/metrics`` sums all processes' files: the registry
    here is then not what is exposed (see ``souk_platform.operations``). State read at scrape time
    (queue depth, webhook backlog, worker beats) is not here: it is a collector of its own.
    """

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "souk_http_requests_total", "HTTP requests", ["method", "route", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "souk_http_request_seconds",
            "HTTP request latency",
            ["method", "route"],
            buckets=_SECONDS_BUCKETS,
            registry=self.registry,
        )
        self.plugin_invocations = Counter(
            "souk_plugin_invocations_total",
            "Extension-point plugin invocations, by outcome (ok, trap, timeout, budget_exhausted, ...)",
            ["point", "outcome"],
            registry=self.registry,
        )
        self.checkouts = Counter(
            "souk_checkouts_total",
            "Checkouts through the API, by outcome (placed, or the problem type: out-of-stock, order-rejected, ...)",
            ["outcome"],
            registry=self.registry,
        )
        self.checkout_latency = Histogram(
            "souk_checkout_seconds", "Checkout latency", buckets=_SECONDS_BUCKETS, registry=self.registry
        )
        self.webhook_attempts = Counter(
            "souk_webhook_attempts_total",
            "Webhook delivery attempts, by outcome (succeeded, http_4xx, http_5xx, timeout, error)",
            ["outcome"],
            registry=self.registry,
        )
        self.webhook_latency = Histogram(
            "souk_webhook_attempt_seconds",
            "Webhook delivery attempt latency (request sent to response read)",
            buckets=_SECONDS_BUCKETS,
            registry=self.registry,
        )
        self.job_runs = Counter("souk_job_runs_total", "Jobs run", ["job"], registry=self.registry)
        self.job_failures = Counter("souk_job_failures_total", "Jobs that raised", ["job"], registry=self.registry)
        self.job_seconds = Histogram(
            "souk_job_seconds", "Job run time", ["job"], buckets=_SECONDS_BUCKETS, registry=self.registry
        )
        self.job_lag = Histogram(
            "souk_job_lag_seconds",
            "Time from enqueue to start, for jobs run by souk worker",
            ["job"],
            buckets=_SECONDS_BUCKETS,
            registry=self.registry,
        )

    def observe_webhook_attempt(self, status: int | None, *, timed_out: bool, latency_ms: int) -> None:
        if status is not None:
            outcome = "succeeded" if 200 <= status < 300 else f"http_{status // 100}xx"
        else:
            outcome = "timeout" if timed_out else "error"
        self.webhook_attempts.labels(outcome).inc()
        self.webhook_latency.observe(latency_ms / 1000)


def metrics_of(app: Flask) -> Metrics:
    metrics: Metrics = app.extensions["souk.metrics"]
    return metrics


def init_observability(app: Flask) -> None:
    metrics = Metrics()
    app.extensions["souk.metrics"] = metrics
    log = structlog.get_logger("souk.http")

    @app.before_request
    def _start() -> None:
        g.request_id = request.headers.get("X-Request-Id", "")[:64] or os.urandom(16).hex()
        g.started = time.perf_counter()
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=g.request_id)

    @app.after_request
    def _finish(response: Response) -> Response:
        route = request.url_rule.rule if request.url_rule else "<unmatched>"
        elapsed = time.perf_counter() - g.get("started", time.perf_counter())
        metrics.requests.labels(request.method, route, str(response.status_code)).inc()
        metrics.latency.labels(request.method, route).observe(elapsed)
        if (request.method, route) == CHECKOUT_ROUTE:
            metrics.checkouts.labels(_checkout_outcome(response)).inc()
            metrics.checkout_latency.observe(elapsed)
        response.headers["X-Request-Id"] = g.get("request_id", "")
        if response.status_code >= 500:
            log.warning("request.failed", method=request.method, path=request.path, status=response.status_code)
        return response

    @app.teardown_request
    def _forget(_exc: BaseException | None) -> None:
        structlog.contextvars.clear_contextvars()


def _checkout_outcome(response: Response) -> str:
    """``placed``, or the last part of the problem's type URI (``out-of-stock``): a short, bounded label."""
    if response.status_code < 400:
        return "placed"
    body = response.get_json(silent=True) if response.is_json else None
    kind = body.get("type") if isinstance(body, dict) else None
    return str(kind).rsplit("/", 1)[-1][:40] if kind else f"http_{response.status_code}"
