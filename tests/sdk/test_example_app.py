"""The SDK's example app (sdk/examples/discount_app) against a real Souk served over HTTP on loopback.

The example runs in its own Flask test client; the merchant's browser is an httpx client logged in
to Souk. Nothing is mocked: the example's SDK calls go over the network to the isolated Souk app.
"""

from __future__ import annotations

import datetime as dt
import html
import importlib.util
import json
import logging
import re
import shutil
import subprocess
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import sqlalchemy as sa
from flask import Flask
from werkzeug.serving import make_server

from souk_marketplace.billing.models import AppSubscription
from souk_marketplace.listings import checks
from souk_platform.apps.manifest import parse_manifest
from souk_platform.apps.models import Installation
from souk_platform.apps.services import register_app
from souk_platform.auth.services import create_user
from souk_platform.db import db
from souk_platform.shops.services import create_shop
from souk_platform.webhooks.models import WebhookSubscription
from souk_platform.webhooks.services import message_body
from souk_platform.webhooks.signing import new_secret, webhook_headers
from souk_sandbox import Runtime

EXAMPLE = Path(__file__).resolve().parents[2] / "sdk" / "examples" / "discount_app"
APP_URL = "http://127.0.0.1:8000"  # the redirect URI manifest.yaml registers; nothing listens there
PASSWORD = "correct horse battery"


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"discount_app_{name}", EXAMPLE / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


example = _load("app")
deploy = _load("deploy")


@dataclass(frozen=True)
class Souk:
    url: str
    owner_email: str
    shop_id: str
    app_id: str
    client_id: str
    client_secret: str


@pytest.fixture(scope="module")
def souk(isolated_app: Flask) -> Iterator[Souk]:
    """Souk on a loopback port, with a shop and the example app registered from its manifest.yaml."""
    tag = uuid.uuid4().hex[:8]
    with isolated_app.app_context():
        owner = create_user(db.session, email=f"owner-{tag}@example.com", name="Olive Owner", password=PASSWORD)
        shop = create_shop(db.session, name=f"Tea Corner {tag}", owner=owner)
        developer = create_user(db.session, email=f"dev-{tag}@example.com", name="Dana Dev", password=PASSWORD)
        registered, _, secret = register_app(
            db.session, developer=developer, manifest_text=(EXAMPLE / "manifest.yaml").read_text(encoding="utf-8")
        )
        db.session.commit()
        ids = (owner.email, shop.id, registered.id, registered.client_id)
    assert secret is not None
    # Migrating the isolated app ran Alembic's fileConfig, which disables every logger that existed
    # before it, the example's included (it was imported at collection).
    logging.getLogger("discount_app").disabled = False
    server = make_server("127.0.0.1", 0, isolated_app, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    public_url = isolated_app.config["SOUK_PUBLIC_URL"]
    isolated_app.config["SOUK_PUBLIC_URL"] = url  # the OAuth metadata and confirmation URLs name it
    # The example subscribes its webhook URL on 127.0.0.1, as in development (the README's demo setting).
    allow_loopback = isolated_app.config.get("SOUK_WEBHOOKS_ALLOW_LOOPBACK", False)
    isolated_app.config["SOUK_WEBHOOKS_ALLOW_LOOPBACK"] = True
    thread = threading.Thread(target=server.serve_forever, name="souk-live", daemon=True)
    thread.start()
    try:
        yield Souk(url, ids[0], ids[1], ids[2], ids[3], secret)
    finally:
        server.shutdown()
        thread.join(5)
        isolated_app.config["SOUK_PUBLIC_URL"] = public_url
        isolated_app.config["SOUK_WEBHOOKS_ALLOW_LOOPBACK"] = allow_loopback


def _example(souk: Souk, tmp_path: Path, **config: Any) -> Flask:
    settings = {
        "TESTING": True,
        "SOUK_API_URL": souk.url,
        "SOUK_CLIENT_ID": souk.client_id,
        "SOUK_CLIENT_SECRET": souk.client_secret,
        "SOUK_WEBHOOK_SECRET": "",
        "APP_URL": APP_URL,
    }
    app: Flask = example.create_app(settings | config, instance_path=str(tmp_path / "instance"))
    return app


def _approve(souk: Souk, authorize_url: str, decision: str = "approve") -> str:
    """The shop owner logs in to Souk, reads the consent page and decides; returns where Souk sends them."""
    with httpx.Client(base_url=souk.url) as browser:
        assert browser.post("/login", data={"email": souk.owner_email, "password": PASSWORD}).status_code == 302
        page = browser.get(authorize_url)
        assert page.status_code == 200, page.text
        found = re.search(r'<form method="post" action="([^"]+)" class="consent">', page.text)
        assert found is not None
        hidden = dict(re.findall(r'<input[^>]*type="hidden"[^>]*name="([^"]+)"[^>]*value="([^"]*)"', page.text))
        answer = browser.post(html.unescape(found.group(1)), data={**hidden, "decision": decision})
        assert answer.status_code == 302, answer.text
        return answer.headers["Location"]


def _path_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def _signed(secret: str, event_type: str, data: dict[str, Any], shop_id: str) -> tuple[bytes, dict[str, str]]:
    """A delivery exactly as Souk's webhook sender builds and signs it."""
    now = dt.datetime.now(dt.UTC)
    body = message_body(event_type=event_type, created_at=now, shop_id=shop_id, data=data).encode()
    headers = webhook_headers([secret], msg_id=f"msg_{uuid.uuid4().hex}", at=now, body=body)
    return body, headers | {"Content-Type": "application/json"}


ORDER = {"id": "ord_example1", "status": "paid", "total": 12_345, "currency": "CNY", "version": 3}


def test_installing_through_oauth_asks_for_the_plan_and_subscribes_to_order_paid(souk, isolated_app, tmp_path, caplog):
    app = _example(souk, tmp_path)
    merchant = app.test_client()

    start = merchant.get(f"/install?shop_id={souk.shop_id}")
    assert start.status_code == 302
    authorize = start.headers["Location"]
    params = {key: values[0] for key, values in parse_qs(urlsplit(authorize).query).items()}
    assert authorize.startswith(f"{souk.url}/oauth/authorize?")
    assert params["client_id"] == souk.client_id and params["code_challenge_method"] == "S256"
    assert params["redirect_uri"] == f"{APP_URL}/oauth/callback"
    assert set(params["scope"].split()) == set(example.SCOPES)

    callback = _approve(souk, authorize)
    assert callback.startswith(f"{APP_URL}/oauth/callback?")
    with caplog.at_level(logging.INFO, logger="discount_app"):
        finished = merchant.get(_path_of(callback))
    assert finished.status_code == 302, finished.get_data(as_text=True)
    confirmation = finished.headers["Location"]
    assert confirmation.startswith(f"{souk.url}/shops/{souk.shop_id}/")  # Souk's approval page, not the app's

    with isolated_app.app_context():
        installation = db.session.scalars(
            sa.select(Installation).where(Installation.app_id == souk.app_id, Installation.shop_id == souk.shop_id)
        ).one()
        plan = db.session.scalars(
            sa.select(AppSubscription).where(AppSubscription.installation_id == installation.id)
        ).one()
        hook = db.session.scalars(
            sa.select(WebhookSubscription).where(WebhookSubscription.installation_id == installation.id)
        ).one()
        assert sorted(installation.granted_scopes) == sorted(example.SCOPES)
        assert (plan.plan_id, plan.status, plan.price, plan.currency) == ("standard", "pending", 1900, "CNY")
        assert hook.url == f"{APP_URL}/webhooks" and hook.topics == ["order.paid"]
    assert plan.id in confirmation
    assert f"installed on {souk.shop_id}" in caplog.text

    # The merchant follows the confirmation URL: it is a real page of Souk's showing the price.
    with httpx.Client(base_url=souk.url) as browser:
        browser.post("/login", data={"email": souk.owner_email, "password": PASSWORD})
        page = browser.get(confirmation)
    assert page.status_code == 200 and "19.00" in page.text

    # What the app kept: the installation's tokens and the webhook secret Souk showed once.
    saved = json.loads((Path(app.instance_path) / "installations.json").read_text())
    entry = saved[installation.id]
    assert entry["shop_id"] == souk.shop_id and entry["refresh_token"] and entry["webhook_secret"].startswith("whsec_")
    assert merchant.get("/").get_data(as_text=True).count("Tea Corner") == 1

    # Its status page calls Souk with the stored token: the plan awaits the merchant.
    status = merchant.get(f"/installations/{installation.id}")
    assert status.status_code == 200 and "<h1>pending</h1>" in status.get_data(as_text=True)

    # A delivery signed with that installation's secret is accepted and logged as order.paid.
    body, headers = _signed(entry["webhook_secret"], "order.paid", ORDER, souk.shop_id)
    with caplog.at_level(logging.INFO, logger="discount_app"):
        received = merchant.post("/webhooks", data=body, headers=headers)
    assert received.status_code == 204
    assert f"order.paid ord_example1 total 12345 CNY (shop {souk.shop_id})" in caplog.text


def test_a_callback_the_app_did_not_start_or_the_merchant_denied_installs_nothing(souk, tmp_path):
    app = _example(souk, tmp_path)
    merchant = app.test_client()

    stray = merchant.get("/oauth/callback?code=abc&state=xyz")
    assert stray.status_code == 400 and "start again at /install" in stray.get_data(as_text=True)

    merchant.get("/install")
    forged = merchant.get("/oauth/callback?code=abc&state=not-the-one-sent")
    assert forged.status_code == 400 and "invalid_state" in forged.get_data(as_text=True)

    denied_at = _approve(souk, merchant.get("/install").headers["Location"], decision="deny")
    denied = merchant.get(_path_of(denied_at))
    assert denied.status_code == 400 and "access_denied" in denied.get_data(as_text=True)
    assert not (Path(app.instance_path) / "installations.json").exists()


def test_webhooks_accept_either_configured_secret_and_refuse_a_tampered_body(souk, tmp_path, caplog):
    old, new = new_secret(), new_secret()
    merchant = _example(souk, tmp_path, SOUK_WEBHOOK_SECRET=f"{old}, {new}").test_client()

    with caplog.at_level(logging.INFO, logger="discount_app"):
        for secret in (old, new):  # during a rotation both are valid
            body, headers = _signed(secret, "order.paid", ORDER, souk.shop_id)
            assert merchant.post("/webhooks", data=body, headers=headers).status_code == 204
    assert caplog.text.count("order.paid ord_example1 total 12345 CNY") == 2

    caplog.clear()
    body, headers = _signed(new, "order.paid", ORDER, souk.shop_id)
    tampered = body.replace(b"12345", b"1")
    with caplog.at_level(logging.INFO, logger="discount_app"):
        refused = merchant.post("/webhooks", data=tampered, headers=headers)
        unsigned = merchant.post("/webhooks", data=body, headers={"Content-Type": "application/json"})
        foreign = merchant.post("/webhooks", data=body, headers=_signed(new_secret(), "order.paid", ORDER, "x")[1])
    assert refused.status_code == 400 and "signature-mismatch" in refused.get_data(as_text=True)
    assert unsigned.status_code == 400 and "missing-header" in unsigned.get_data(as_text=True)
    assert foreign.status_code == 400
    assert "order.paid ord_example1" not in caplog.text

    unconfigured = _example(souk, tmp_path / "fresh").test_client()  # no secret yet: Souk retries later
    assert unconfigured.post("/webhooks", data=body, headers=headers).status_code == 503

    other, headers = _signed(old, "customer.created", {"id": "cus_1", "version": 1}, souk.shop_id)
    assert merchant.post("/webhooks", data=other, headers=headers).status_code == 204  # acknowledged, not logged


def test_the_manifest_parses_and_its_plugin_passes_the_listing_check(souk):
    manifest = parse_manifest((EXAMPLE / "manifest.yaml").read_text(encoding="utf-8"))
    assert set(example.SCOPES) <= set(manifest["scopes"])
    assert example.PLAN_ID in {plan["id"] for plan in manifest["pricing"]}
    [plugin] = manifest["plugins"]
    assert plugin["point"] == "cart.discounts" and plugin["module"] == "plugins/tiered.wasm"

    wasm = (EXAMPLE / plugin["module"]).read_bytes()
    module = checks.UploadedModule(plugin["point"], plugin["module"], wasm, plugin["tests"])
    with httpx.Client() as http:  # the plugin check makes no request; the context needs one
        context = checks.CheckContext(
            load_module=Runtime().load, http=http, allow_loopback=True, now=dt.datetime.now(dt.UTC)
        )
        result = checks.check_plugin(module, context)
    assert result.passed, result.message
    assert "2 of 2 test(s) passed" in result.message


def test_deploy_publishes_the_manifest_and_uploads_the_plugin_with_the_app_token(souk, capsys):
    version = deploy.deploy(souk.url, souk.client_id, souk.client_secret)
    assert version["missing_modules"] == []
    assert [module["module"] for module in version["modules"]] == ["plugins/tiered.wasm"]
    assert version["number"] == 1  # registering the app made version 1 from this very manifest
    out = capsys.readouterr().out
    assert "version 1 " in out and "uploaded plugins/tiered.wasm (4,357 bytes)" in out

    again = deploy.deploy(souk.url, souk.client_id, souk.client_secret)  # nothing changed: nothing to do
    assert again["id"] == version["id"] and "uploaded" not in capsys.readouterr().out


def test_deploy_reports_a_wrong_secret_without_a_traceback(souk, monkeypatch, capsys):
    monkeypatch.setenv("SOUK_API_URL", souk.url)
    monkeypatch.setenv("SOUK_CLIENT_ID", souk.client_id)
    monkeypatch.setenv("SOUK_CLIENT_SECRET", "not-the-secret")
    assert deploy.main() == 1
    assert "error: Souk refused" in capsys.readouterr().err
    monkeypatch.delenv("SOUK_CLIENT_SECRET")
    assert deploy.main() == 2
    assert "set SOUK_CLIENT_SECRET" in capsys.readouterr().err


@pytest.mark.skipif(shutil.which("clang") is None or shutil.which("wasm-ld") is None, reason="needs clang and lld")
def test_the_build_script_rebuilds_the_shipped_module_byte_for_byte(tmp_path):
    copy = tmp_path / "discount_app"
    shutil.copytree(EXAMPLE, copy, ignore=shutil.ignore_patterns("instance", "__pycache__"))
    (copy / "plugins" / "tiered.wasm").unlink()
    kit = Path(shutil.which("souk-plugin") or Path(__file__).resolve().parents[2] / ".venv" / "bin" / "souk-plugin")
    ran = subprocess.run(
        [str(copy / "build_plugin.sh")], env={"PATH": "/usr/bin:/bin", "SOUK_PLUGIN": str(kit)}, capture_output=True
    )
    assert ran.returncode == 0, ran.stderr.decode() + ran.stdout.decode()
    assert (copy / "plugins" / "tiered.wasm").read_bytes() == (EXAMPLE / "plugins" / "tiered.wasm").read_bytes()


def test_the_examples_plugin_source_is_the_sample_plugins_own():
    """The example carries a copy so it can leave the repository; the copy must not drift from the sample."""
    samples = EXAMPLE.parents[2] / "sample_plugins"
    copied = EXAMPLE / "plugins" / "tiered"
    assert (copied / "souk_plugin.h").read_text() == (samples / "include" / "souk_plugin.h").read_text()
    sample_c = (samples / "tiered_discount" / "plugin.c").read_text()
    assert (copied / "plugin.c").read_text() == sample_c.replace('"../include/souk_plugin.h"', '"souk_plugin.h"')
