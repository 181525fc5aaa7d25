"""App factories for WSGI servers other than gunicorn (which tunes the collector in ``gunicorn_conf``)."""

from __future__ import annotations

from flask import Flask

from souk_platform.app import create_app
from souk_platform.gc_tuning import tune_garbage_collector


def granian_app() -> Flask:
    """``granian --interface wsgi --factory souk_platform.serving:granian_app``: the app, collector tuned."""
    app = create_app()
    tune_garbage_collector()
    return app
