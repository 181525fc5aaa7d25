"""`souk-plugin replay <log id>` fetches the export from a live Souk server over HTTP and replays it."""

from __future__ import annotations

import base64
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from factories import ShopFactory, token_for
from souk_platform.catalog.services import NewSku, create_product
from souk_platform.db import db
from souk_platform.plugins.models import PluginInvocation
from souk_platform.shops.models import Shop

SAMPLE = Path(__file__).resolve().parents[2] / "sample_plugins" / "tiered_discount"
CONFIG = {"tiers": [{"min_spend": 8000, "amount_off": 1000}]}


@dataclass(frozen=True)
class Live:
    url: str
    token: str
    log_id: str


@pytest.fixture(scope="module")
def live(isolated_app) -> Iterator[Live]:
    """A real HTTP server on the isolated app, with one logged call of the tiered discount sample."""
    with isolated_app.app_context():
        shop = ShopFactory()
        product = create_product(
            db.session,
            shop_id=shop.id,
            title="Longjing",
            status="active",
            skus=[NewSku(code="TEA", title="250g", price=5000, on_hand=10)],
        )
        db.session.commit()
        sku_id, headers = product.skus[0].id, token_for(shop)
    client = isolated_app.test_client()
    body = {
        "name": "Tiers",
        "point": "cart.discounts",
        "module_base64": base64.b64encode((SAMPLE / "plugin.wasm").read_bytes()).decode(),
        "config_schema": json.loads((SAMPLE / "config.schema.json").read_text()),
    }
    plugin_id = client.post("/api/v1/plugins", json=body, headers=headers).get_json()["id"]
    r = client.post("/api/v1/plugin-activations", json={"plugin_id": plugin_id, "config": CONFIG}, headers=headers)
    assert r.status_code == 201, r.get_json()
    cart = client.post("/api/v1/carts", json={"lines": [{"sku_id": sku_id, "quantity": 2}]}, headers=headers)
    order = client.post(f"/api/v1/carts/{cart.get_json()['id']}/checkout", json={}, headers=headers).get_json()
    assert order["discount_total"] == 1000
    log_id = client.get("/api/v1/plugin-invocations", headers=headers).get_json()["items"][0]["id"]

    server = make_server("127.0.0.1", 0, isolated_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="souk-live", daemon=True)
    thread.start()
    try:
        yield Live(f"http://127.0.0.1:{server.server_port}", headers["Authorization"].split(" ", 1)[1], log_id)
    finally:
        server.shutdown()
        thread.join(5)


def test_replay_by_log_id_fetches_the_export_and_reports_the_same_output(cli, live, monkeypatch):
    monkeypatch.setenv("SOUK_TOKEN", live.token)
    result = cli("replay", live.log_id, "--module", str(SAMPLE / "plugin.wasm"), "--api-url", live.url)
    assert result.code == 0, result.err
    assert f"fetching {live.log_id} from {live.url}" in result.out
    assert "cart.discounts (logged outcome: ok)" in result.out
    assert "满80减10" in result.out and "same output as logged" in result.out
    assert "warning" not in result.out  # the logged module is this very file


def test_replay_by_log_id_reads_the_url_and_token_from_the_environment(cli, live, monkeypatch):
    monkeypatch.setenv("SOUK_API_URL", live.url)
    monkeypatch.setenv("SOUK_TOKEN", live.token)
    result = cli("replay", live.log_id, "--wasm", str(SAMPLE / "plugin.wasm"))  # --wasm: the older spelling
    assert result.code == 0, result.err
    assert f"fetching {live.log_id} from {live.url}" in result.out and "same output as logged" in result.out


def test_clear_messages_for_a_bad_token_an_unknown_id_no_token_and_no_server(cli, live, monkeypatch):
    wasm = str(SAMPLE / "plugin.wasm")
    monkeypatch.delenv("SOUK_TOKEN", raising=False)
    monkeypatch.delenv("SOUK_API_URL", raising=False)

    result = cli("replay", live.log_id, "--module", wasm, "--api-url", live.url)
    assert result.code == 2 and "--token or set SOUK_TOKEN" in result.err

    result = cli("replay", live.log_id, "--module", wasm, "--api-url", live.url, "--token", "souk_at_wrong")
    assert result.code == 2 and "refused the token (401)" in result.err

    unknown = "pli_" + "0" * 26
    result = cli("replay", unknown, "--module", wasm, "--api-url", live.url, "--token", live.token)
    assert result.code == 2 and f"no invocation {unknown}" in result.err and "(404)" in result.err

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    result = cli("replay", live.log_id, "--module", wasm, "--api-url", closed, "--token", live.token)
    assert result.code == 2 and f"Cannot reach the Souk API at {closed}" in result.err


def test_a_token_without_read_plugins_is_told_which_scope_it_needs(cli, live, isolated_app):
    with isolated_app.app_context():
        shop = db.session.get(Shop, db.session.get(PluginInvocation, live.log_id).shop_id)
        token = token_for(shop, ["read_orders"])["Authorization"].split(" ", 1)[1]
    wasm = str(SAMPLE / "plugin.wasm")
    result = cli("replay", live.log_id, "--module", wasm, "--api-url", live.url, "--token", token)
    assert result.code == 2 and "(403)" in result.err and "read_plugins" in result.err
