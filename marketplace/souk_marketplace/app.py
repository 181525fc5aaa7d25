"""Registers the marketplace on a platform app: its scopes, ledger kinds, events, migrations, models, API and page
blueprints, templates and translations (docs/architecture.md §3).

Order matters: scopes are registered before the API modules are imported, because ``requires(scope)`` checks
the registry when a route is declared.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path

from flask import Blueprint, Flask
from flask_smorest import Api

from souk_marketplace.demo import DEMO_STEPS
from souk_marketplace.events import EVENT_SCOPES
from souk_marketplace.events import event_types as marketplace_event_types
from souk_marketplace.jobs import PERIODIC_JOBS
from souk_marketplace.ledger import ACCOUNT_KINDS
from souk_marketplace.models import load_all
from souk_marketplace.routes import API_MODULES, LINKS, WEB_MODULES
from souk_marketplace.scopes import SCOPE_DOMAINS
from souk_marketplace.settings import settings_from_env
from souk_platform.auth.scopes import register_domain
from souk_platform.demo import add_demo_step
from souk_platform.jobs.runner import add_periodic_job
from souk_platform.ledger.services import register_account_kind
from souk_platform.migrations import add_version_location
from souk_platform.web.links import add_link
from souk_platform.webhooks.catalogue import openapi_webhooks, register_event_types
from souk_platform.webhooks.services import register_event_scope

PACKAGE_DIR = Path(__file__).resolve().parent
# The marketplace's Alembic branch (label "marketplace"), next to its models.
MIGRATIONS_DIR = PACKAGE_DIR / "migrations" / "versions"


def register(app: Flask, api: Api) -> None:
    """Called by ``souk_platform.app.create_app`` through the ``souk.extensions`` entry point."""
    for domain, (read, write) in SCOPE_DOMAINS.items():
        register_domain(domain, read, write)
    for kind, may_go_negative in ACCOUNT_KINDS.items():
        register_account_kind(kind, may_go_negative=may_go_negative)
    register_event_types(marketplace_event_types())
    for domain, scope in EVENT_SCOPES.items():
        register_event_scope(domain, scope)
    add_version_location(app, MIGRATIONS_DIR)
    load_all()
    # The marketplace's SOUK_* settings (fee, payout hold and minimum, vote window): read once; a config
    # given to create_app wins (tests set their own).
    for name, value in settings_from_env(os.environ).items():
        app.config.setdefault(name, value)
    csrf = app.extensions["csrf"]
    for module in API_MODULES:
        blp = importlib.import_module(module).blp
        csrf.exempt(blp)
        api.register_blueprint(blp, url_prefix="/api/v1" + blp.url_prefix)
    for module in WEB_MODULES:
        app.register_blueprint(importlib.import_module(module).bp)
    # Templates under souk_marketplace/templates and the stylesheet additions under /market-static.
    app.register_blueprint(
        Blueprint(
            "market_assets",
            __name__,
            template_folder="templates",
            static_folder="static",
            static_url_path="/market-static",
        )
    )
    app.extensions["babel"].translation_directories.append(str(PACKAGE_DIR / "translations"))
    # The platform wrote the OpenAPI ``webhooks`` section before extensions registered: add ours.
    api.spec.options.setdefault("webhooks", {}).update(openapi_webhooks())
    for label, step in DEMO_STEPS:
        add_demo_step(app, label, step)
    for job in PERIODIC_JOBS:
        add_periodic_job(app, job)
    for area, endpoint, label in LINKS:
        add_link(app, area, endpoint, label)
