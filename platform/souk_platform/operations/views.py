"""``/healthz``, ``/readyz`` and ``/metrics``: thin glue over ``operations.services``."""

from __future__ import annotations

import time
from typing import Any

from alembic.script import ScriptDirectory
from flask import Blueprint, Flask, Response, current_app, jsonify, request
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.multiprocess import MultiProcessCollector

from souk_platform.api.problems import problem_response
from souk_platform.core.errors import problem
from souk_platform.db import db
from souk_platform.jobs import liveness
from souk_platform.jobs.runner import periodic_jobs
from souk_platform.observability import metrics_of
from souk_platform.operations import services

bp = Blueprint("operations", __name__)


def _app() -> Flask:
    return current_app._get_current_object()  # type: ignore[attr-defined]


@bp.get("/healthz")
def healthz() -> Response:
    """Alive: the process answers. Touches nothing else, so a database outage never restarts web processes."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz() -> tuple[Response, int]:
    """Ready for traffic (database, Redis, migrations at head) and how the workers are doing; 503 if not ready."""
    app = _app()
    redis = app.extensions.get("souk.redis")
    database, migrations = services.check_database(db.engine, _script_heads(app))
    redis_check = services.check_redis(redis)
    checks = {"database": database, "redis": redis_check, "migrations": migrations}
    ready = all(check.ok for check in checks.values())
    body = {
        "status": "ready" if ready else "unready",
        "checks": {name: {"ok": check.ok, **check.detail} for name, check in checks.items()},
        "jobs": services.worker_report(redis if redis_check.ok else None, periodic_jobs(app), now=time.time()),
    }
    return jsonify(body), 200 if ready else 503


@bp.get("/metrics")
def metrics() -> Response:
    """Prometheus text format: this host's processes summed, plus shared state read now."""
    app = _app()
    allowed = services.may_read_metrics(
        token=app.config.get("SOUK_METRICS_TOKEN"),
        authorization=request.headers.get("Authorization"),
        remote_addr=request.remote_addr,
        forwarded="Forwarded" in request.headers or "X-Forwarded-For" in request.headers,
    )
    if not allowed:
        return _refused(bool(app.config.get("SOUK_METRICS_TOKEN")))
    multiprocess_dir = app.config.get("SOUK_METRICS_MULTIPROC_DIR")
    if multiprocess_dir:
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=multiprocess_dir)
    else:
        registry = metrics_of(app).registry
    state = CollectorRegistry()
    state.register(_state_collector(app))
    return Response(generate_latest(registry) + generate_latest(state), mimetype=CONTENT_TYPE_LATEST)


def _refused(token_configured: bool) -> Response:
    if token_configured:
        body = problem(401, "unauthorized", "Unauthorized", "Send the metrics token: Authorization: Bearer <token>.")
        return problem_response(body, {"WWW-Authenticate": 'Bearer realm="metrics"'})
    body = problem(
        403,
        "forbidden",
        "Forbidden",
        "Metrics are served to this machine only; set SOUK_METRICS_TOKEN to let a scraper elsewhere read them.",
    )
    return problem_response(body)


def _state_collector(app: Flask) -> services.StateCollector:
    redis = app.extensions.get("souk.redis")
    now = time.time()
    queue_depth: dict[str, int] = {}
    workers: list[liveness.WorkerBeat] = []
    runs = None
    try:
        queue_depth = app.extensions["souk.queue_depth"]()
        if redis is not None:
            workers = liveness.worker_beats(redis, now=now)
            runs = liveness.periodic_runs(redis)
    except Exception:  # Redis down: the process metrics are still worth serving; /readyz says what is wrong
        pass
    try:
        backlog = services.webhook_backlog(db.session, now=app.extensions["souk.clock"].now())
    except Exception:
        db.session.rollback()
        backlog = None
    return services.StateCollector(queue_depth=queue_depth, backlog=backlog, workers=workers, runs=runs)


def _script_heads(app: Flask) -> frozenset[str]:
    """The Alembic heads of the scripts, found from the app's own migration config (both branches' locations)."""
    heads: Any = app.extensions.get("souk.migration_heads")
    if heads is None:
        config = app.extensions["migrate"].migrate.get_config()
        heads = frozenset(ScriptDirectory.from_config(config).get_heads())
        app.extensions["souk.migration_heads"] = heads
    return frozenset(heads)
