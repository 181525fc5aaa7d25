"""A module is compiled once, at upload, within stated bounds; a checkout never compiles."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import wasmtime
from plugin_modules import FIVE_OFF, constant_plugin

import souk_sandbox.runtime
from souk_platform.db import db
from souk_platform.plugins.models import Plugin, PluginInvocation
from souk_platform.plugins.runtime import PluginRuntime
from souk_platform.plugins.services import pipeline
from souk_platform.plugins.tasks import compile_plugin


def _empty_functions(count: int) -> bytes:
    padding = "\n".join("(func)" for _ in range(count))
    return bytes(
        wasmtime.wat2wasm(
            f"""(module (memory (export "memory") 1)
              (func (export "alloc") (param i32) (result i32) (i32.const 1024))
              (func (export "run") (param i32 i32) (result i64) (i64.const 0))
              {padding})"""
        )
    )


def _fresh_process(app: Any, monkeypatch: pytest.MonkeyPatch, cache_dir: Path) -> None:
    """What a new worker (or another host) has: no loaded module, an empty disk cache."""
    monkeypatch.setitem(app.extensions, "souk.plugins", PluginRuntime(str(cache_dir)))


def _forbid_compiling(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(module_bytes: bytes) -> bytes:
        raise AssertionError("a checkout compiled a module")

    monkeypatch.setattr(souk_sandbox.runtime, "compile_in_child", refuse)


def _calls_of(session: Any, plugin_id: str) -> list[PluginInvocation]:
    session.expire_all()
    rows = session.scalars(
        sa.select(PluginInvocation).where(PluginInvocation.plugin_id == plugin_id).order_by(PluginInvocation.id)
    )
    return list(rows)


def test_a_module_too_costly_to_compile_is_a_422_that_states_the_limits(api, shop, session):
    r = api.upload(shop, _empty_functions(62_000), "cart.discounts")
    body = r.get_json()
    assert r.status_code == 422 and body["module_error"] == "compile_limit"
    assert "must compile within 2 s of CPU and 256 MiB of memory" in body["detail"]
    assert session.scalar(sa.select(sa.func.count()).select_from(Plugin).where(Plugin.shop_id == shop.id)) == 0


def test_a_fresh_process_runs_the_code_compiled_at_upload(api, shop, app, monkeypatch, tmp_path):
    api.install(shop, FIVE_OFF, "cart.discounts")
    _fresh_process(app, monkeypatch, tmp_path)
    _forbid_compiling(monkeypatch)
    r = api.checkout(shop)
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["discount_total"] == 500


def test_without_usable_compiled_code_the_plugin_fails_per_policy_until_the_job_compiles_it(
    api, shop, app, session, monkeypatch, tmp_path
):
    plugin_id, _ = api.install(shop, FIVE_OFF, "cart.discounts")
    # As after a wasmtime upgrade: the stored code is for another engine.
    session.execute(sa.update(Plugin).where(Plugin.id == plugin_id).values(compiled_key="wasmtime0-old"))
    session.commit()
    _fresh_process(app, monkeypatch, tmp_path / "a")
    with monkeypatch.context() as during_checkout:
        _forbid_compiling(during_checkout)
        r = api.checkout(shop)
    assert r.status_code == 201, r.get_json()  # cart.discounts continues without the plugin
    assert r.get_json()["discount_total"] == 0
    [call] = _calls_of(session, plugin_id)
    assert call.outcome == "not_compiled"
    assert "being compiled in the background" in call.message

    assert compile_plugin(plugin_id) is True  # the queued job, bounded like an upload
    assert compile_plugin(plugin_id) is False  # nothing left to do
    _fresh_process(app, monkeypatch, tmp_path / "b")
    _forbid_compiling(monkeypatch)
    r = api.checkout(shop)
    assert r.get_json()["discount_total"] == 500
    assert [c.outcome for c in _calls_of(session, plugin_id)] == ["not_compiled", "ok"]


def test_a_fail_closed_plugin_without_compiled_code_denies_the_order(api, shop, session, app, monkeypatch, tmp_path):
    allow = constant_plugin({"allow": True})
    plugin_id, _ = api.install(shop, allow, "order.validate", on_failure="abort")
    session.execute(sa.update(Plugin).where(Plugin.id == plugin_id).values(compiled=None, compiled_key=None))
    session.commit()
    _fresh_process(app, monkeypatch, tmp_path)
    _forbid_compiling(monkeypatch)
    r = api.checkout(shop)
    assert r.status_code == 422 and "not ready to run and is set to fail closed" in r.get_json()["detail"]
    assert [c.outcome for c in _calls_of(session, plugin_id)] == ["not_compiled"]


def test_the_compile_job_holds_no_transaction_while_it_compiles(api, shop, session, monkeypatch):
    # On SQLite an open transaction holds the write lock: every request would wait behind a compile.
    plugin_id, _ = api.install(shop, FIVE_OFF, "cart.discounts")
    session.execute(sa.update(Plugin).where(Plugin.id == plugin_id).values(compiled_key="wasmtime0-old"))
    session.commit()
    real_compile = pipeline.compile_checked
    seen: list[bool] = []

    def compile_and_look(module: bytes) -> Any:
        seen.append(db.session().in_transaction())
        return real_compile(module)

    monkeypatch.setattr(pipeline, "compile_checked", compile_and_look)
    assert compile_plugin(plugin_id) is True
    assert seen == [False]
    assert session.get(Plugin, plugin_id).compiled_key != "wasmtime0-old"
