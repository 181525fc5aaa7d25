"""Wasm plugins at the extension points: uploads, activations, real checkouts, the log and health."""

from __future__ import annotations

import base64
import datetime as dt

import sqlalchemy as sa
import wasmtime
from plugin_modules import DENY, FIVE_OFF, HUGE_OFF, TEN_PERCENT, TRAP, WITH_IMPORT

from souk_platform.db import db
from souk_platform.events.models import OutboxEvent
from souk_platform.orders.models import Order
from souk_platform.plugins.models import Plugin, PluginInvocation
from souk_platform.plugins.services import FAILING_THRESHOLD, purge_invocations
from souk_platform.shops.services import update_shop


def _count(model, shop_id):
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(model.shop_id == shop_id))


def test_discount_plugin_applies_at_checkout_and_is_logged(api, shop, other_shop):
    plugin_id, _ = api.install(shop, FIVE_OFF, "cart.discounts")
    r = api.checkout(shop)
    order = r.get_json()
    assert r.status_code == 201, order
    assert (order["subtotal"], order["discount_total"], order["total"]) == (5000, 500, 4500)

    # another shop is unaffected
    r = api.checkout(other_shop)
    assert r.status_code == 201 and r.get_json()["discount_total"] == 0

    log = api.get(shop, "/plugin-invocations", plugin_id=plugin_id).get_json()["items"]
    assert [(e["point"], e["outcome"]) for e in log] == [("cart.discounts", "ok")]
    assert log[0]["output"] == {"discounts": [{"label": "Plugin 5 off", "amount": 500}]}
    assert log[0]["fuel"] > 0
    assert api.get(other_shop, "/plugin-invocations").get_json()["items"] == []

    export = api.get(shop, f"/plugin-invocations/{log[0]['id']}/export").get_json()
    assert export["point"] == "cart.discounts" and export["outcome"] == "ok"
    assert export["input"]["subtotal"] == 5000 and export["input"]["config"] == {}
    assert export["module_sha256"] == db.session.get(Plugin, plugin_id).sha256
    # another shop's token sees neither the log entry nor the plugin
    assert api.get(other_shop, f"/plugin-invocations/{log[0]['id']}").status_code == 404
    assert api.get(other_shop, f"/plugins/{plugin_id}/health").status_code == 404


def test_discounts_stack_or_best_of_and_never_go_below_zero(api, shop, session):
    api.install(shop, FIVE_OFF, "cart.discounts", position=1)
    api.install(shop, TEN_PERCENT, "cart.discounts", position=2)
    order = api.checkout(shop, quantity=2).get_json()  # 10000 fen
    assert (order["discount_total"], order["total"]) == (1500, 8500)  # stacked: 500 + 10 %
    assert [d["label"] for d in order["discounts"]] == ["Plugin 5 off", "Plugin 10%"]

    update_shop(session, shop_id=shop.id, changes={"settings": {"discount_merge": "best_of"}}, expected_version=None)
    session.commit()
    order = api.checkout(shop, quantity=2).get_json()
    assert (order["discount_total"], order["total"]) == (1000, 9000)  # the best one only

    api.install(shop, HUGE_OFF, "cart.discounts", position=3)
    order = api.checkout(shop, quantity=1).get_json()
    assert (order["discount_total"], order["total"]) == (5000, 0)


def test_failing_continue_plugin_leaves_builtin_result_and_counts_in_health(api, shop, session):
    plugin_id, _ = api.install(shop, TRAP, "cart.discounts")
    for _ in range(FAILING_THRESHOLD + 1):
        r = api.checkout(shop)
        assert r.status_code == 201, r.get_json()
        assert r.get_json()["discount_total"] == 0

    health = api.get(shop, f"/plugins/{plugin_id}/health").get_json()
    assert health["calls"] == health["failures"] == FAILING_THRESHOLD + 1
    assert health["failure_rate"] == 1.0 and health["by_outcome"] == {"trap": FAILING_THRESHOLD + 1}
    assert health["failing"] is True
    failing = session.scalars(
        sa.select(OutboxEvent).where(OutboxEvent.shop_id == shop.id, OutboxEvent.type == "plugin.failing")
    ).all()
    assert len(failing) == 1  # once per window, not once per failure
    assert failing[0].subject_id == plugin_id and failing[0].payload["failures"] == FAILING_THRESHOLD


def test_order_validate_deny_rejects_the_order_and_writes_nothing(api, shop):
    api.install(shop, DENY, "order.validate")
    orders_before = _count(Order, shop.id)
    r = api.checkout(shop)
    assert r.status_code == 422
    assert r.get_json()["type"].endswith("/order-rejected")
    assert "blocked by the test guard" in r.get_json()["detail"]
    assert _count(Order, shop.id) == orders_before


def test_order_validate_abort_on_failure_is_configurable(api, shop):
    _, activation_id = api.install(shop, TRAP, "order.validate")
    r = api.checkout(shop)
    assert r.status_code == 201  # default: continue

    r = api.client.patch(
        f"/api/v1/plugin-activations/{activation_id}", json={"on_failure": "abort"}, headers=shop.headers
    )
    assert r.status_code == 200 and r.get_json()["on_failure"] == "abort"
    r = api.checkout(shop)
    assert r.status_code == 422 and "fail closed" in r.get_json()["detail"]

    r = api.client.patch(f"/api/v1/plugin-activations/{activation_id}", json={"enabled": False}, headers=shop.headers)
    assert r.status_code == 200
    assert api.checkout(shop).status_code == 201


def test_abort_is_refused_outside_allow_deny_points(api, shop):
    r = api.upload(shop, FIVE_OFF, "cart.discounts")
    r = api.client.post(
        "/api/v1/plugin-activations",
        json={"plugin_id": r.get_json()["id"], "on_failure": "abort"},
        headers=shop.headers,
    )
    assert r.status_code == 422 and "on_failure" in r.get_json()["errors"]


def test_bad_uploads_are_clear_422s_and_store_nothing(api, shop):
    r = api.upload(shop, bytes(wasmtime.wat2wasm(WITH_IMPORT)), "cart.discounts")
    body = r.get_json()
    assert r.status_code == 422 and body["type"].endswith("/plugin-module-invalid")
    assert body["module_error"] == "has_imports"
    assert "wasi_snapshot_preview1.fd_write" in body["details"]

    r = api.client.post(
        "/api/v1/plugins",
        json={"name": "x", "point": "cart.discounts", "module_base64": "not base64!!"},
        headers=shop.headers,
    )
    assert r.status_code == 422 and "module_base64" in r.get_json()["errors"]

    oversize = b"\0asm\x01\0\0\0" + b"\0" * (256 * 1024)
    r = api.upload(shop, oversize, "cart.discounts")
    assert r.status_code == 422 and "256" in str(r.get_json())

    r = api.upload(shop, FIVE_OFF, "no.such.point")
    assert r.status_code == 422 and "point" in r.get_json()["errors"]

    r = api.upload(shop, FIVE_OFF, "cart.discounts", config_schema={"type": "no-such-type"})
    assert r.status_code == 422 and "config_schema" in r.get_json()["errors"]

    assert _count(Plugin, shop.id) == 0


def test_activation_config_is_validated_against_the_plugin_schema(api, shop):
    schema = {"type": "object", "properties": {"rate": {"type": "integer", "maximum": 100}}, "required": ["rate"]}
    r = api.upload(shop, FIVE_OFF, "cart.discounts", config_schema=schema)
    plugin_id = r.get_json()["id"]
    r = api.client.post(
        "/api/v1/plugin-activations", json={"plugin_id": plugin_id, "config": {"rate": 500}}, headers=shop.headers
    )
    assert r.status_code == 422 and r.get_json()["type"].endswith("/plugin-config-invalid")
    r = api.client.post(
        "/api/v1/plugin-activations",
        json={"plugin_id": plugin_id, "config": {"rate": 5, "pad": "x" * 70_000}},
        headers=shop.headers,
    )
    assert r.status_code == 422 and "64 KiB" in r.get_json()["detail"]
    assert api.get(shop, "/plugin-activations").get_json()["items"] == []

    r = api.client.post(
        "/api/v1/plugin-activations", json={"plugin_id": plugin_id, "config": {"rate": 5}}, headers=shop.headers
    )
    assert r.status_code == 201
    api.checkout(shop)
    entry = api.get(shop, "/plugin-invocations").get_json()["items"][0]
    detail = api.get(shop, f"/plugin-invocations/{entry['id']}").get_json()
    assert '"config":{"rate":5}' in detail["input"]


def test_another_shop_cannot_activate_or_see_a_plugin(api, shop, other_shop):
    plugin_id = api.upload(shop, FIVE_OFF, "cart.discounts").get_json()["id"]
    r = api.client.post("/api/v1/plugin-activations", json={"plugin_id": plugin_id}, headers=other_shop.headers)
    assert r.status_code == 404
    assert api.get(other_shop, f"/plugins/{plugin_id}").status_code == 404
    assert api.get(other_shop, "/plugins").get_json()["items"] == []


def test_budget_spent_skips_remaining_plugins_and_logs_them(api, shop, app):
    plugin_id, _ = api.install(shop, FIVE_OFF, "cart.discounts")
    app.config["SOUK_PLUGIN_BUDGET_MS"] = 0
    try:
        order = api.checkout(shop).get_json()
    finally:
        app.config.pop("SOUK_PLUGIN_BUDGET_MS")
    assert order["discount_total"] == 0
    log = api.get(shop, "/plugin-invocations", plugin_id=plugin_id).get_json()["items"]
    assert [e["outcome"] for e in log] == ["budget_exhausted"]
    assert api.get(shop, f"/plugins/{plugin_id}/health").get_json()["failures"] == 0


def test_purge_drops_inputs_after_retention(api, shop, session, clock):
    api.install(shop, FIVE_OFF, "cart.discounts")
    api.checkout(shop)
    entry = api.get(shop, "/plugin-invocations").get_json()["items"][0]
    purge_invocations(session, now=clock.now() + dt.timedelta(days=8))
    session.commit()
    assert session.get(PluginInvocation, entry["id"]).input is None
    r = api.get(shop, f"/plugin-invocations/{entry['id']}/export")
    assert r.status_code == 422 and "purged" in r.get_json()["detail"]
    assert purge_invocations(session, now=clock.now() + dt.timedelta(days=31)) == (0, 1)


def test_scopes_are_required(api, shop, client):
    r = client.post(
        "/api/v1/plugins",
        json={"name": "x", "point": "cart.discounts", "module_base64": base64.b64encode(FIVE_OFF).decode()},
    )
    assert r.status_code == 401
