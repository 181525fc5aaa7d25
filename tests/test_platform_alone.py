"""The platform builds and migrates without the marketplace, and then knows nothing of it.

The marketplace registers its own scopes, ledger kinds, event types, routes and Alembic branch
(docs/architecture.md §3). The platform-alone app is built in a fresh interpreter: the registries are
per process, and this one has already registered the marketplace (the suite's ``app``).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from typing import Any

import pytest
import sqlalchemy as sa

from souk_marketplace.events import event_types as marketplace_event_types
from souk_marketplace.ledger import ACCOUNT_KINDS as MARKETPLACE_ACCOUNT_KINDS
from souk_marketplace.scopes import SCOPE_DOMAINS as MARKETPLACE_SCOPE_DOMAINS
from souk_platform.auth.scopes import all_scopes
from souk_platform.db import db
from souk_platform.ledger.services import ACCOUNT_KINDS
from souk_platform.webhooks.catalogue import CATALOGUE

pytestmark = pytest.mark.embedded

DESCRIBE_APP = """
import json, sys
import sqlalchemy as sa
from flask_migrate import upgrade
from souk_platform import create_app
from souk_platform.auth.scopes import all_scopes
from souk_platform.db import db
from souk_platform.ledger.services import ACCOUNT_KINDS
from souk_platform.webhooks.catalogue import CATALOGUE

app = create_app(
    {"SQLALCHEMY_DATABASE_URI": "sqlite:///" + sys.argv[1], "SOUK_REDIS_URL": None, "SOUK_JOBS": "inline"},
    extensions=(),
)
with app.app_context():
    upgrade(revision="heads")
    with db.engine.connect() as connection:
        tables = sa.inspect(connection).get_table_names()
        heads = list(connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalars())
    page = app.test_client().get("/api/v1/openapi.json")
spec = app.extensions["souk.api"].spec.to_dict()
print(json.dumps({
    "openapi_status": page.status_code,
    "paths": sorted(spec["paths"]),
    "operation_scopes": sorted({
        scope
        for operations in spec["paths"].values()
        for operation in operations.values() if isinstance(operation, dict)
        for requirement in operation.get("security", [])
        for scope in requirement.get("bearerAuth", [])
    }),
    "webhooks": sorted(spec.get("webhooks", {})),
    "rules": sorted(rule.rule for rule in app.url_map.iter_rules()),
    "scopes": list(all_scopes()),
    "scopes_supported": app.test_client().get("/.well-known/oauth-authorization-server").get_json()["scopes_supported"],
    "events": sorted(CATALOGUE),
    "ledger_kinds": sorted(ACCOUNT_KINDS),
    "tables": sorted(tables),
    "heads": heads,
    "marketplace_imported": sorted(name for name in sys.modules if name.startswith("souk_marketplace")),
}))
app.extensions["souk.jobs"].stop()
"""


@pytest.fixture(scope="module")
def platform_alone(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("platform_alone")
    env = {**os.environ, "SOUK_INSTANCE_PATH": str(folder)}
    result = subprocess.run(
        [sys.executable, "-c", DESCRIBE_APP, str(folder / "souk.sqlite3")],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    described: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return described


@pytest.fixture(scope="module")
def marketplace_parts(embedded_app: Any) -> dict[str, set[str]]:
    """What the marketplace adds, read from the full app this process built (so the test cannot pass vacuously)."""
    rules = {
        rule.rule
        for rule in embedded_app.url_map.iter_rules()
        if embedded_app.view_functions[rule.endpoint].__module__.startswith("souk_marketplace")
    }
    with embedded_app.app_context():
        tables = {table.name for table in db.metadata.sorted_tables if _is_marketplace_table(table)}
    parts = {
        "scopes": {f"{verb}_{domain}" for domain in MARKETPLACE_SCOPE_DOMAINS for verb in ("read", "write")},
        "ledger_kinds": set(MARKETPLACE_ACCOUNT_KINDS),
        "events": {entry.name for entry in marketplace_event_types()},
        "rules": rules,
        "paths": {re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule) for rule in rules if rule.startswith("/api/")},
        "tables": tables,
    }
    # The full app has them all: each check below compares against something real.
    assert parts["scopes"] <= set(all_scopes())
    assert parts["ledger_kinds"] <= set(ACCOUNT_KINDS)
    assert parts["events"] <= set(CATALOGUE)
    assert {"app.subscription.created", "charge.succeeded"} <= parts["events"]
    assert {"developer.earnings", "escrow.pledge", "escrow.service_order"} <= parts["ledger_kinds"]
    assert {"read_billing", "write_requirements", "read_services"} <= parts["scopes"]
    assert {"/api/v1/billing/charges", "/api/v1/market/apps"} <= parts["paths"]
    assert {"listings", "billing_charges", "requirements", "service_orders"} <= parts["tables"]
    with embedded_app.app_context(), db.engine.connect() as connection:
        assert parts["tables"] <= set(sa.inspect(connection).get_table_names())
    return parts


def _is_marketplace_table(table: sa.Table) -> bool:
    return any(
        mapper.class_.__module__.startswith("souk_marketplace")
        for mapper in db.Model.registry.mappers
        if table in mapper.tables
    )


def test_platform_alone_serves_its_openapi_without_marketplace_routes_or_scopes(platform_alone, marketplace_parts):
    assert platform_alone["openapi_status"] == 200
    assert "/api/v1/orders" in platform_alone["paths"]
    assert set(platform_alone["paths"]) & marketplace_parts["paths"] == set()
    assert set(platform_alone["rules"]) & marketplace_parts["rules"] == set()
    assert set(platform_alone["operation_scopes"]) & marketplace_parts["scopes"] == set()
    assert set(platform_alone["webhooks"]) & marketplace_parts["events"] == set()


def test_platform_alone_registers_none_of_the_marketplace_scopes_events_or_ledger_kinds(
    platform_alone, marketplace_parts
):
    assert "read_orders" in platform_alone["scopes"]
    assert set(platform_alone["scopes"]) & marketplace_parts["scopes"] == set()
    assert platform_alone["scopes_supported"] == platform_alone["scopes"]
    assert "order.paid" in platform_alone["events"]
    assert set(platform_alone["events"]) & marketplace_parts["events"] == set()
    assert "shop.balance" in platform_alone["ledger_kinds"]
    assert set(platform_alone["ledger_kinds"]) & marketplace_parts["ledger_kinds"] == set()
    assert platform_alone["marketplace_imported"] == []


def test_platform_alone_migrates_without_the_marketplace_branch(platform_alone, marketplace_parts):
    assert len(platform_alone["heads"]) == 1  # the platform's own head; the marketplace branch is not there
    assert "0026_boundaries" not in platform_alone["heads"]
    assert "orders" in platform_alone["tables"]
    assert set(platform_alone["tables"]) & marketplace_parts["tables"] == set()
