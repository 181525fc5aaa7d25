"""The dev kit and production judge a plugin alike: each `souk-plugin new` template, built with the real
toolchain, is `ok` in `souk-plugin run` AND through production's invocation path on its own input.json;
an output or input production refuses is refused by the dev kit too."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from plugin_modules import constant_plugin

from factories import ShopFactory
from souk_platform.extensions import EXTENSION_POINTS
from souk_platform.plugins.models import PluginInvocation
from souk_platform.plugins.services import active_plugins, create_activation, invoke_plugins, upload_plugin
from souk_sdk import dev_cli

Cli = Callable[..., Any]


def _toolchain_or_skip(language: str) -> None:
    if language == "c" and (shutil.which("clang") is None or shutil.which("wasm-ld") is None):
        pytest.skip("clang and wasm-ld are not installed (Debian: clang lld)")
    if language == "assemblyscript" and (shutil.which("npx") is None or shutil.which("asc") is None):
        pytest.skip("AssemblyScript is not installed (`npm install -g assemblyscript@0.28`, as the CI script does)")


def _in_production(app: Any, session: Any, clock: Any, point: str, module: bytes, document: dict[str, Any]) -> Any:
    """Upload, activate with the document's config and run `point` the way checkout does; the logged row."""
    shop = ShopFactory()
    plugin = upload_plugin(session, shop_id=shop.id, name="under test", point=point, module=module)
    payload = dict(document)
    create_activation(session, shop_id=shop.id, plugin_id=plugin.id, config=payload.pop("config"))
    spec = EXTENSION_POINTS[point]
    assert spec.input_problems(document) == []  # what production sends is what the dev kit ran
    invoke_plugins(
        session,
        app=app,
        shop_id=shop.id,
        point=spec,
        payload=payload,
        active=active_plugins(session, shop_id=shop.id, point=point),
        now=clock.now(),
    )
    return session.scalar(sa.select(PluginInvocation).where(PluginInvocation.shop_id == shop.id))


@pytest.mark.parametrize("language", ["c", "assemblyscript"])
def test_each_new_template_is_ok_in_the_dev_kit_and_in_production(
    language: str,
    cli: Cli,
    workdir: Path,
    printed_output: Callable[[str], Any],
    app: Any,
    session: Any,
    clock: Any,
) -> None:
    _toolchain_or_skip(language)
    assert cli("new", "tmpl", "--lang", language).code == 0
    project = workdir / "tmpl"
    if language == "assemblyscript":  # `npm install` needs the network: use the installed compiler
        (project / "node_modules" / ".bin").mkdir(parents=True)
        (project / "node_modules" / ".bin" / "asc").symlink_to(shutil.which("asc") or "asc")
    built = cli("build", "tmpl")
    assert built.code == 0, built.err + built.out

    dev = cli("run", "tmpl/plugin.wasm", "--point", "cart.validate", "--input", "tmpl/input.json")
    assert dev.code == 0, dev.err + dev.out
    assert "outcome   ok" in dev.out

    document = json.loads((project / "input.json").read_text())
    logged = _in_production(app, session, clock, "cart.validate", (project / "plugin.wasm").read_bytes(), document)
    assert (logged.outcome, logged.message) == ("ok", "")
    assert logged.output == printed_output(dev.out) == {"errors": []}

    # Over the limit, the template's refusal is valid output in both places.
    document["cart"]["lines"][0]["quantity"] = 500
    (project / "big.json").write_text(json.dumps(document))
    dev = cli("run", "tmpl/plugin.wasm", "--point", "cart.validate", "--input", "tmpl/big.json")
    assert dev.code == 0, dev.out
    logged = _in_production(app, session, clock, "cart.validate", (project / "plugin.wasm").read_bytes(), document)
    assert logged.outcome == "ok", logged.message
    assert logged.output == printed_output(dev.out)
    assert logged.output["errors"][0]["message"] == "At most 100 units per order; this cart has 501."


def test_an_output_production_refuses_is_schema_invalid_in_the_dev_kit(
    cli: Cli, workdir: Path, app: Any, session: Any, clock: Any
) -> None:
    # The old C template's output: "code" is not a property of cart.validate's errors.
    module = constant_plugin({"errors": [{"code": "too_many_units", "message": "Too many."}]})
    (workdir / "p.wasm").write_bytes(module)
    document = {"cart": {"lines": [{"sku_id": "s", "quantity": 1}]}, "customer": None, "config": {}}
    (workdir / "in.json").write_text(json.dumps(document))

    dev = cli("run", "p.wasm", "--point", "cart.validate", "--input", "in.json")
    logged = _in_production(app, session, clock, "cart.validate", module, document)
    assert dev.code == 1
    assert logged.outcome == "schema_invalid"
    assert f"outcome   schema_invalid: {logged.message}" in dev.out
    assert "'code' was unexpected" in logged.message


def test_an_input_production_never_sends_is_refused_with_the_schemas_words(cli: Cli, workdir: Path) -> None:
    (workdir / "p.wasm").write_bytes(constant_plugin({"errors": []}))
    # The old template's input.json: a level name where production sends a number, and no config.
    old = {"cart": {"lines": [{"sku_id": "s", "quantity": 1}]}, "customer": {"id": "c", "level": "V2"}}
    (workdir / "in.json").write_text(json.dumps(old))
    refused = cli("run", "p.wasm", "--point", "cart.validate", "--input", "in.json")
    assert refused.code == 2
    assert "does not match the cart.validate input schema" in refused.err
    assert "- (root): 'config' is a required property" in refused.err
    assert "- customer/level: 'V2' is not of type 'integer'" in refused.err
    assert "outcome" not in refused.out


@pytest.mark.parametrize("control", ["\u202e", "\u2066", "\u200f"])
def test_a_label_with_a_bidi_control_is_schema_invalid_in_both(
    control: str, cli: Cli, workdir: Path, app: Any, session: Any, clock: Any
) -> None:
    module = constant_plugin({"discounts": [{"label": f"{control}01 ffo", "amount": 100}]})
    (workdir / "p.wasm").write_bytes(module)
    document = {"lines": [{"sku_id": "s", "quantity": 1, "unit_price": 5000}], "customer": None, "subtotal": 5000}
    document["config"] = {}
    (workdir / "in.json").write_text(json.dumps(document))

    dev = cli("run", "p.wasm", "--point", "cart.discounts", "--input", "in.json")
    logged = _in_production(app, session, clock, "cart.discounts", module, document)
    assert dev.code == 1 and "outcome   schema_invalid" in dev.out
    assert logged.outcome == "schema_invalid"
    assert "discounts/0/label" in logged.message


def test_discounts_that_take_the_order_to_zero_warn_in_the_log_and_the_dev_kit(
    cli: Cli, workdir: Path, app: Any, session: Any, clock: Any
) -> None:
    document = {"lines": [{"sku_id": "s", "quantity": 2, "unit_price": 2500}], "customer": None, "subtotal": 5000}
    document["config"] = {}
    (workdir / "in.json").write_text(json.dumps(document))
    everything = constant_plugin({"discounts": [{"label": "All free", "percent": 100}]})
    (workdir / "all.wasm").write_bytes(everything)

    dev = cli("run", "all.wasm", "--point", "cart.discounts", "--input", "in.json")
    logged = _in_production(app, session, clock, "cart.discounts", everything, document)
    assert dev.code == 0  # a warning, not a failure
    assert logged.outcome == "ok"
    assert logged.message.startswith("warning: The discounts (5,000 fen) take the order to zero (subtotal 5,000 fen)")
    assert "warning   The discounts (5,000 fen) take the order to zero" in dev.out

    some = constant_plugin({"discounts": [{"label": "5 off", "amount": 500}]})
    logged = _in_production(app, session, clock, "cart.discounts", some, document)
    assert (logged.outcome, logged.message) == ("ok", "")


def test_the_app_templates_discount_plugin_is_ok_in_the_dev_kit_and_in_production(
    cli: Cli,
    workdir: Path,
    capsys: pytest.CaptureFixture[str],
    printed_output: Callable[[str], Any],
    app: Any,
    session: Any,
    clock: Any,
) -> None:
    _toolchain_or_skip("c")
    assert dev_cli.main(["app", "init", str(workdir / "deals"), "--name", "Deals"]) == 0, capsys.readouterr().err
    plugin_dir = workdir / "deals" / "plugins" / "discount"
    assert cli("build", str(plugin_dir)).code == 0
    dev = cli(
        "run", str(plugin_dir / "plugin.wasm"), "--point", "cart.discounts", "--input", str(plugin_dir / "input.json")
    )
    assert dev.code == 0, dev.err + dev.out
    document = json.loads((plugin_dir / "input.json").read_text())
    module = (plugin_dir / "plugin.wasm").read_bytes()
    logged = _in_production(app, session, clock, "cart.discounts", module, document)
    assert logged.outcome == "ok", logged.message
    assert (
        logged.output
        == printed_output(dev.out)
        == {"discounts": [{"label": "5 off orders of 100 or more", "target": "order", "amount": 500}]}
    )
