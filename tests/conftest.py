"""Test wiring (after warehouse's tests/conftest.py).

One PostgreSQL database per test process (each xdist worker), migrated once with Alembic; each test runs inside a
connection-level transaction with SAVEPOINT sessions and is rolled back at teardown. Redis is real:
one logical database per worker, flushed per test. Nothing of our own is mocked.
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import redis as redis_lib
from flask import Flask
from flask.testing import FlaskClient
from redis_slots import lease_redis_database
from sqlalchemy.orm import scoped_session, sessionmaker

from souk_platform import create_app
from souk_platform.core.clock import FrozenClock
from souk_platform.db import db
from souk_platform.jobs.runner import RqRunner

PG_BASE = os.environ.get("SOUK_TEST_PG", "postgresql://postgres@127.0.0.1:5432")
REDIS_BASE = os.environ.get("SOUK_TEST_REDIS", "redis://127.0.0.1:6379")


def _create_database(name: str) -> str:
    with psycopg.connect(f"{PG_BASE}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{PG_BASE.replace('postgresql://', 'postgresql+psycopg://')}/{name}"


def _drop_database(name: str) -> None:
    with psycopg.connect(f"{PG_BASE}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """A database of this test process's own (xdist workers and parallel runs never share one)."""
    name = f"souk_test_{os.getpid()}"
    yield _create_database(name)
    _drop_database(name)


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A Redis logical database leased by this test process alone (see tests/redis_slots.py)."""
    slot = lease_redis_database(REDIS_BASE)
    yield slot.url
    slot.release()


def make_test_app(database_url: str, redis_url: str, **overrides: Any) -> Flask:
    """A migrated app on ``database_url`` wired like production (PostgreSQL + Redis + rq)."""
    application = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SOUK_REDIS_URL": redis_url,
            "SOUK_JOBS": "rq",
            "SOUK_LOG_FORMAT": "console",
            "WTF_CSRF_ENABLED": False,
            "SECRET_KEY": "test-secret",
            # The suite sends bursts with one token (fuzzing, concurrency); tests/platform/ratelimit sets its own.
            "SOUK_RATE_LIMIT_RPS": 100_000.0,
            "SOUK_RATE_LIMIT_BURST": 100_000,
        }
        | overrides
    )
    from flask_migrate import upgrade

    with application.app_context():
        upgrade(revision="heads")
    return application


@pytest.fixture(scope="session")
def app(database_url: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    os.environ["SOUK_INSTANCE_PATH"] = str(tmp_path_factory.mktemp("instance"))
    application = make_test_app(database_url, redis_url)
    application.test_client_class = IsolatedClient  # every client, whichever test asks first (see the class)
    yield application
    with application.app_context():
        db.engine.dispose()


@pytest.fixture
def own_database(redis_url: str) -> Iterator[tuple[Flask, str]]:
    """A migrated app on a database of this test's own, dropped afterwards: for tests whose real processes
    commit data (orders, events, deliveries) that the tests after them in this process must not see."""
    name = f"souk_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    url = _create_database(name)
    application = make_test_app(url, redis_url)
    application.test_client_class = IsolatedClient
    yield application, url
    with application.app_context():
        db.engine.dispose()
    _drop_database(name)


@pytest.fixture(scope="module")
def isolated_app(app: Flask, redis_url: str) -> Iterator[Flask]:
    """An app on a database of its own, for tests that commit data others must not see (fuzzing)."""
    name = f"souk_test_{os.getpid()}_isolated"
    application = make_test_app(_create_database(name), redis_url)
    yield application
    with application.app_context():
        db.engine.dispose()
    _drop_database(name)


class _TestThreadRegistry:
    """A scoped session's registry that keeps the test thread's session in ``own`` and hands every other
    thread the registry the swap replaced (``scoped_session`` needs only these four methods)."""

    def __init__(self, own: Any, others: Any) -> None:
        self._own, self._others, self._thread = own, others, threading.get_ident()

    def _pick(self) -> Any:
        return self._own if threading.get_ident() == self._thread else self._others

    def __call__(self) -> Any:
        return self._pick()()

    def has(self) -> bool:
        return bool(self._pick().has())

    def set(self, obj: Any) -> None:
        self._pick().set(obj)

    def clear(self) -> None:
        self._pick().clear()


@pytest.fixture
def session(app: Flask) -> Iterator[Any]:
    """A session inside a transaction that is rolled back after the test (services may commit)."""
    with app.app_context():
        connection = db.engine.connect()
        outer = connection.begin()
        original = db.session
        # A plain SQLAlchemy session: Flask-SQLAlchemy's own Session picks the engine per model and
        # would bypass this connection (and its rollback).
        on_test_connection = sessionmaker(
            bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
        )
        # Only the test's own thread uses its connection. Every other thread (an embedded app's in-process
        # job worker, say) keeps the app's own scoped session, before, during and after the swap: a job
        # that began under the swap and commits after it must still commit the session it began with.
        db.session = scoped_session(on_test_connection)
        db.session.registry = _TestThreadRegistry(db.session.registry, original.registry)
        try:
            yield db.session
        finally:
            db.session.remove()
            db.session = original
            outer.rollback()
            connection.close()


@pytest.fixture
def redis(app: Flask) -> redis_lib.Redis:
    client: redis_lib.Redis = app.extensions["souk.redis"]
    client.flushdb()
    # The runner remembers for 0.1 s that a delivery run was waiting in Redis; after the flush none is.
    # Without this, a commit right after the previous test's was coalesced into a run the flush removed.
    runner = app.extensions["souk.jobs"]
    if isinstance(runner, RqRunner):
        runner.forget_waiting()
    return client


@pytest.fixture
def clock(app: Flask) -> Iterator[FrozenClock]:
    frozen = FrozenClock(dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC))
    original = app.extensions["souk.clock"]
    app.extensions["souk.clock"] = frozen
    yield frozen
    app.extensions["souk.clock"] = original


class IsolatedClient(FlaskClient):
    """Each request gets its own app context (and so its own ``g``), as in production.

    Without this, requests made while a test holds an app context would share ``g``: a cached
    user, principal or locale would leak from one request into the next.
    """

    def open(self, *args: Any, **kwargs: Any) -> Any:
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture
def client(app: Flask, session: Any, redis: redis_lib.Redis) -> FlaskClient:
    app.test_client_class = IsolatedClient
    return app.test_client()


def make_embedded_app(folder: Path, before_use: Callable[[Flask], None] = lambda _app: None) -> Flask:
    """The demo's wiring on a SQLite file in ``folder``, migrated with the same Alembic scripts, in-process
    jobs. ``before_use`` runs before anything can start the job thread: the place for engine listeners,
    which must not be added or removed while another thread may be running them."""
    from flask_migrate import upgrade

    application = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'souk.sqlite3'}",
            "SOUK_REDIS_URL": None,
            "SOUK_JOBS": "inline",
            "SECRET_KEY": "test-secret",
            "WTF_CSRF_ENABLED": False,
        }
    )
    before_use(application)
    with application.app_context():
        upgrade(revision="heads")
    return application


@pytest.fixture(scope="session")
def embedded_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """The demo's wiring, shared by the tests of one process (see ``make_embedded_app``)."""
    application = make_embedded_app(tmp_path_factory.mktemp("embedded"))
    yield application
    application.extensions["souk.jobs"].stop()


@pytest.fixture(autouse=True)
def _embedded_write_lock_released(request: pytest.FixtureRequest) -> Iterator[None]:
    """The embedded file's write lock is free after each test that uses it, or that test fails here — not
    every later test of the process, each waiting out the busy timeout. The holder may be the test or a
    job the in-process runner ran meanwhile (during this test or the ones between)."""
    yield
    if "embedded_app" not in request.fixturenames:
        return
    application = request.getfixturevalue("embedded_app")
    path = application.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
    probe = sqlite3.connect(path, isolation_level=None, timeout=10)  # the job thread may be finishing a job
    try:
        probe.execute("BEGIN IMMEDIATE")
        probe.execute("ROLLBACK")
    except sqlite3.OperationalError as error:
        pytest.fail(f"the embedded database's write lock is still held after this test ({error})")
    finally:
        probe.close()
