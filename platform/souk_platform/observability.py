"""Structured logs with a request id on every line, and Prometheus metrics at ``/metrics``."""

from __future__ import annotations

import logging
import sys
import time
import uuid
from typing import Any

import structlog
from flask import Flask, Response, g, request
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST


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


class Metrics:
    """One registry per app so tests and several apps in one process stay apart."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "souk_http_requests_total", "HTTP requests", ["method", "route", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "souk_http_request_seconds", "HTTP request latency", ["method", "route"], registry=self.registry
        )
        self.plugin_invocations = Counter(
            "souk_plugin_invocations_total",
            "Extension-point plugin invocations",
            ["point", "outcome"],
            registry=self.registry,
        )
        self.queue_depth = Gauge("souk_job_queue_depth", "Jobs waiting", ["queue"], registry=self.registry)


def init_observability(app: Flask) -> None:
    metrics = Metrics()
    app.extensions["souk.metrics"] = metrics
    log = structlog.get_logger("souk.http")

    @app.before_request
    def _start() -> None:
        g.request_id = request.headers.get("X-Request-Id", "")[:64] or uuid.uuid4().hex
        g.started = time.perf_counter()
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=g.request_id)

    @app.after_request
    def _finish(response: Response) -> Response:
        route = request.url_rule.rule if request.url_rule else "<unmatched>"
        elapsed = time.perf_counter() - g.get("started", time.perf_counter())
        metrics.requests.labels(request.method, route, str(response.status_code)).inc()
        metrics.latency.labels(request.method, route).observe(elapsed)
        response.headers["X-Request-Id"] = g.get("request_id", "")
        if response.status_code >= 500:
            log.warning("request.failed", method=request.method, path=request.path, status=response.status_code)
        return response

    @app.teardown_request
    def _forget(_exc: BaseException | None) -> None:
        structlog.contextvars.clear_contextvars()

    @app.get("/metrics")
    def _metrics() -> Response:
        refresh = app.extensions.get("souk.queue_depth")
        if refresh:
            for queue, depth in refresh().items():
                metrics.queue_depth.labels(queue).set(depth)
        return Response(generate_latest(metrics.registry), mimetype=CONTENT_TYPE_LATEST)
