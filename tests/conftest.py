"""Test wiring (after warehouse's tests/conftest.py).

One PostgreSQL database per test process (each xdist worker), migrated once with Alembic; each test runs inside a
connection-level transaction with SAVEPOINT sessions and is rolled back at teardown. Redis is real:
one logical database per worker, flushed per test. Nothing of our own is mocked.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
import uuid
from collections.abc import Iterator
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
        test_thread = threading.get_ident()

        def new_session() -> Any:
            # Only the test's own thread may use its connection. Another thread (an embedded app's
            # in-process job worker, say) gets an ordinary session on its own app's engine: sharing
            # one connection between threads would corrupt both.
            return on_test_connection() if threading.get_ident() == test_thread else original.session_factory()

        db.session = scoped_session(new_session)
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


@pytest.fixture(scope="session")
def embedded_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """The demo's wiring: a SQLite file migrated with the same Alembic scripts, in-process jobs."""
    from flask_migrate import upgrade

    folder = tmp_path_factory.mktemp("embedded")
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
    with application.app_context():
        upgrade(revision="heads")
    yield application
    application.extensions["souk.jobs"].stop()
