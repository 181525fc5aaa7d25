"""The app factory: the only place settings are read and extensions are wired."""

from __future__ import annotations

import importlib
import os
import types
from collections.abc import Callable, Collection
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Flask, Response, request
from flask.sessions import SecureCookieSessionInterface
from flask_babel import Babel
from flask_wtf.csrf import CSRFProtect

from souk_platform.api import SoukApi
from souk_platform.api.guard import SECURITY_SCHEME
from souk_platform.api.problems import is_api_request, problem_response
from souk_platform.api.reads import install_write_guard
from souk_platform.auth.token_cache import init_token_cache
from souk_platform.config import DEFAULTS, settings_from_env
from souk_platform.core.clock import Clock, SystemClock
from souk_platform.core.errors import problem
from souk_platform.db import db, install_liveness_check
from souk_platform.jobs.runner import InlineRunner, RqRunner, install_session_hooks
from souk_platform.migrations import MIGRATIONS_DIR as MIGRATIONS_DIR  # where the schema's history lives
from souk_platform.migrations import init_migrations
from souk_platform.models import load_all as load_all_models
from souk_platform.observability import configure_logging, init_observability
from souk_platform.ratelimit.limiter import init_rate_limits
from souk_platform.routes import API_MODULES, WEB_MODULES


def create_app(
    config: dict[str, Any] | None = None, *, clock: Clock | None = None, extensions: Collection[str] | None = None
) -> Flask:
    """Build a Souk app. ``config`` overrides settings read from ``SOUK_*`` variables.

    ``extensions`` names the ``souk.extensions`` entry points to register (``None``: every installed one;
    ``()``: the platform alone).
    """
    instance_path = os.environ.get("SOUK_INSTANCE_PATH") or str(Path.cwd() / "instance")
    app = Flask("souk_platform", instance_path=instance_path, instance_relative_config=True)
    _remember_sync_checks(app)
    app.config.update(DEFAULTS)
    app.config.update(settings_from_env(os.environ, instance_path))
    app.config.update(config or {})

    configure_logging(app.config["SOUK_LOG_FORMAT"])
    load_all_models()
    app.extensions["souk.clock"] = clock or SystemClock()
    _postgresql_sessions_in_utc(app)
    db.init_app(app)
    _tune_sqlite(app)
    with app.app_context():
        install_liveness_check(db.engine, after_idle=app.config["SOUK_DB_PING_AFTER_IDLE_SECONDS"])
    install_write_guard()
    init_migrations(app, db)
    init_observability(app)
    _init_locale(app)
    app.session_interface = _CookieSessions()
    csrf = CSRFProtect(app)
    _init_redis(app)
    _init_jobs(app)
    init_rate_limits(app)
    init_token_cache(app)

    api = SoukApi(app, spec_kwargs={"info": {"description": _API_DESCRIPTION}})
    api.spec.components.security_scheme("bearerAuth", SECURITY_SCHEME)
    for module in API_MODULES:
        blp = importlib.import_module(module).blp
        csrf.exempt(blp)
        api.register_blueprint(blp, url_prefix="/api/v1" + blp.url_prefix)
    for module in WEB_MODULES:
        app.register_blueprint(importlib.import_module(module).bp)
    _serve_swagger_assets(app)
    for ext in entry_points(group="souk.extensions"):
        if extensions is None or ext.name in extensions:
            ext.load()(app, api)  # the marketplace registers itself here
    app.extensions["souk.api"] = api

    @app.before_request
    def _json_only() -> Response | None:
        if (
            is_api_request()
            and not request.path.startswith("/oauth/")  # RFC 6749 endpoints take form bodies
            and request.method in ("POST", "PUT", "PATCH")
            and (request.content_length or request.headers.get("Transfer-Encoding"))
            and not request.is_json
        ):
            body = problem(
                415, "unsupported-media-type", "Unsupported Media Type", "Send the body as application/json."
            )
            return problem_response(body)
        return None

    return app


_API_DESCRIPTION = (
    "Souk's commerce capabilities. Authenticate with `Authorization: Bearer <token>`; each operation "
    "names the scope it needs. Errors are RFC 9457 problem+json. Lists are cursor-paginated "
    "(`limit`, `cursor`, `next_cursor`, `Link`). Money is integer minor units with a currency."
)


def _postgresql_sessions_in_utc(app: Flask) -> None:
    """Every PostgreSQL session runs in UTC, whatever the server's zone (a startup option: no round trip).

    Souk keeps and computes time in UTC and turns to a shop's zone in Python; SQL never relies on the
    session's zone. In UTC, psycopg returns datetimes carrying ``datetime.UTC`` itself, which
    ``UTCDateTime`` then passes through instead of converting each one (150 per page of 50 products).
    """
    if not str(app.config["SQLALCHEMY_DATABASE_URI"]).startswith("postgresql"):
        return
    options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    connect_args = dict(options.get("connect_args") or {})
    connect_args["options"] = f"{connect_args.get('options', '')} -c TimeZone=UTC".strip()
    options["connect_args"] = connect_args
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options


def _remember_sync_checks(app: Flask) -> None:
    """Flask asks ``ensure_sync`` of every hook and view on every request (13 times per API call here), and
    each answer inspects the function's code flags afresh; a function's answer never changes, so keep it.

    Only plain functions are kept: anything else — a bound method (a ``MethodView``'s, made per request),
    a partial — is asked each time, so nothing grows with the traffic (docs/architecture.md §4.9).
    """
    ask = app.ensure_sync
    answers: dict[Callable[..., Any], Callable[..., Any]] = {}

    def ensure_sync(func: Callable[..., Any]) -> Callable[..., Any]:
        if type(func) is not types.FunctionType:
            return ask(func)
        answer = answers.get(func)
        if answer is None:
            answer = answers[func] = ask(func)
        return answer

    app.ensure_sync = ensure_sync  # type: ignore[method-assign]


class _CookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions with the signing serializer built once per key set, not per request.

    Flask opens the session on every request, API calls included, and building the serializer cost more
    than reading an empty cookie jar (docs/architecture.md §4.9).
    """

    def __init__(self) -> None:
        self._serializers: dict[tuple[Any, ...], Any] = {}

    def get_signing_serializer(self, app: Flask) -> Any:
        keys = (app.secret_key, *(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        serializer = self._serializers.get(keys)
        if serializer is None:
            serializer = super().get_signing_serializer(app)
            self._serializers = {keys: serializer}  # a new key set replaces the old one
        return serializer


def _tune_sqlite(app: Flask) -> None:
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return
    with app.app_context():
        engine = db.engine

    @sa.event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy's "begin" hook below opens transactions
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _begin_immediate(connection: Any) -> None:
        # Take the write lock up front: a deferred transaction that reads and then writes while the
        # in-process job thread writes fails with "database is locked" instead of waiting its turn.
        # A read-only request (api/reads.py) runs in autocommit and takes no lock at all.
        if connection.get_execution_options().get("isolation_level") == "AUTOCOMMIT":
            return
        # SQLAlchemy puts the driver back in its own transaction mode ("") when a connection that ran in
        # autocommit returns to the pool; in that mode the driver opens and ends transactions of its own
        # around ours. Undo it before every transaction.
        dbapi_connection = connection.connection.dbapi_connection
        if dbapi_connection.isolation_level is not None:
            dbapi_connection.isolation_level = None
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def _init_locale(app: Flask) -> None:
    from souk_platform.web.i18n import select_locale

    Babel(app, locale_selector=select_locale, default_translation_directories="translations")


def _init_redis(app: Flask) -> None:
    """The app's one Redis client (rq jobs, rate limits), when ``SOUK_REDIS_URL`` is set."""
    if app.config["SOUK_REDIS_URL"]:
        import redis

        app.extensions["souk.redis"] = redis.Redis.from_url(app.config["SOUK_REDIS_URL"])


def _init_jobs(app: Flask) -> None:
    install_session_hooks()
    if app.config["SOUK_JOBS"] == "rq":
        runner: Any = RqRunner(app.extensions["souk.redis"])
    else:
        runner = InlineRunner(app, periodic=False)
    app.extensions["souk.jobs"] = runner
    app.extensions["souk.queue_depth"] = runner.queue_depth


def _serve_swagger_assets(app: Flask) -> None:
    import flask_swagger_ui

    dist = Path(flask_swagger_ui.__file__).parent / "dist"
    app.register_blueprint(
        Blueprint("swagger_assets", __name__, static_folder=str(dist), static_url_path="/static/swagger-ui")
    )
