"""Browser tests: a live Souk (its own PostgreSQL database, in-process jobs, CSRF on) driven by Playwright.

The browser is Debian's chromium (``/usr/bin/chromium``); Playwright never downloads one. Screenshots
of every page a test visits are saved under ``SOUK_E2E_ARTIFACTS`` (default ``tests/e2e/artifacts``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import _create_database, _drop_database
from e2e.harness import ARTIFACTS, CHROMIUM, CHROMIUM_FLAGS, LiveServer, Shots, serve

from souk_platform import create_app
from souk_platform.db import db

if not Path(CHROMIUM).exists():  # .ci/run installs it; say so instead of failing obscurely
    pytest.exit("Debian's chromium is not installed at /usr/bin/chromium: run `bash .ci/run` once", returncode=1)


@pytest.fixture(scope="module")
def souk_options() -> dict[str, Any]:
    """What a module's live Souk is built with: ``config`` (extra settings, e.g. ``SOUK_SMTP_PORT``) and
    ``clock``. A test module overrides this fixture to point the app at its own SMTP server or clock."""
    return {}


@pytest.fixture(scope="module")
def souk(souk_options: dict[str, Any]) -> Iterator[LiveServer]:
    """A live Souk on a fresh, migrated PostgreSQL database with the demo seeded; CSRF is on."""
    from flask_migrate import upgrade

    from souk_platform.demo import seed_demo

    name = f"souk_test_{os.getpid()}_e2e"
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": _create_database(name),
            "SOUK_REDIS_URL": None,
            "SOUK_JOBS": "inline",
            "SECRET_KEY": "e2e-secret",
            "SOUK_LOG_FORMAT": "console",
            "SOUK_WEBHOOKS_ALLOW_LOOPBACK": True,
            **souk_options.get("config", {}),
        },
        clock=souk_options.get("clock"),
    )
    with app.app_context():
        upgrade(revision="heads")
        seed_demo(db.session, echo=lambda _line: None)
    live = serve(app)
    app.config["SOUK_PUBLIC_URL"] = live.url
    yield live
    live.server.shutdown()
    app.extensions["souk.jobs"].stop()
    with app.app_context():
        db.engine.dispose()
    _drop_database(name)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture
def shots(request: pytest.FixtureRequest) -> Shots:
    return Shots(ARTIFACTS / request.node.name)
