"""``/healthz`` and ``/readyz`` as a load balancer and an operator read them."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest
from conftest import PG_BASE, _create_database, _drop_database
from flask import Flask

from souk_platform import create_app
from souk_platform.jobs import liveness
from souk_platform.jobs.runner import periodic_jobs


def test_healthz_answers_without_auth_and_touches_nothing(client):
    r = client.get("/healthz")
    assert r.status_code == 200 and r.get_json() == {"status": "ok"}


def test_readyz_is_ready_with_migrations_at_head_and_shows_workers_and_periodic_jobs(client, redis):
    now = time.time()
    liveness.beat(redis, "web-1:4242", now=now - 2, started_at=now - 60)
    liveness.beat(redis, "web-2:4343", now=now - 120, started_at=now - 600)  # stopped beating
    liveness.note_tick(redis, now=now - 1)
    liveness.note_periodic_run(redis, "sweep-webhooks", now=now - 3)

    r = client.get("/readyz")

    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["status"] == "ready"
    assert {name: check["ok"] for name, check in body["checks"].items()} == {
        "database": True,
        "redis": True,
        "migrations": True,
    }
    migrations = body["checks"]["migrations"]
    assert migrations["database"] == migrations["scripts"] and migrations["scripts"]
    jobs = body["jobs"]
    assert jobs["alive"] == 1
    assert [(w["name"], w["alive"]) for w in jobs["workers"]] == [("web-1:4242", True), ("web-2:4343", False)]
    assert jobs["ticker"]["seconds_since_tick"] is not None
    sweep = jobs["periodic_jobs"]["sweep-webhooks"]
    assert sweep["runs"] == 1 and sweep["overdue"] is False
    assert jobs["periodic_jobs"]["purge-idempotency"]["overdue"] is True  # never ran
    assert set(jobs["periodic_jobs"]) == {job.name for job in periodic_jobs(client.application)}


def test_readyz_shows_no_secrets(client, redis):
    text = client.get("/readyz").get_data(as_text=True)
    app = client.application
    for secret in (app.config["SECRET_KEY"], app.config["SQLALCHEMY_DATABASE_URI"], app.config["SOUK_REDIS_URL"]):
        assert secret not in text


@pytest.fixture
def unmigrated_app(redis_url: str) -> Iterator[Flask]:
    """An app on an empty database: what a web process sees before ``souk db upgrade`` has run."""
    name = f"souk_test_unmigrated_{os.getpid()}"  # two test runs on one machine never share it
    url = _create_database(name)
    app = create_app(
        {"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "SOUK_REDIS_URL": redis_url, "SECRET_KEY": "test"}
    )
    yield app
    from souk_platform.db import db

    with app.app_context():
        db.engine.dispose()
    _drop_database(name)


def test_readyz_is_503_until_the_database_is_migrated(unmigrated_app):
    r = unmigrated_app.test_client().get("/readyz")
    assert r.status_code == 503
    body = r.get_json()
    assert body["status"] == "unready"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["migrations"]["ok"] is False
    assert body["checks"]["migrations"]["database"] == []


def test_readyz_is_503_when_redis_is_down(app, monkeypatch):
    import redis as redis_lib

    monkeypatch.setitem(app.extensions, "souk.redis", redis_lib.Redis(port=1, socket_connect_timeout=1))
    r = app.test_client().get("/readyz")
    assert r.status_code == 503
    body = r.get_json()
    assert body["checks"]["redis"] == {"ok": False, "error": "ConnectionError"}
    assert body["checks"]["database"]["ok"] is True
    assert PG_BASE not in r.get_data(as_text=True)


@pytest.mark.embedded
def test_the_embedded_wiring_is_ready_without_redis(embedded_app):
    body = embedded_app.test_client().get("/readyz").get_json()
    assert body["status"] == "ready"
    assert body["checks"]["redis"] == {"ok": True, "configured": False}
    assert body["checks"]["migrations"]["ok"] is True
    assert body["jobs"] == {"mode": "inline"}
