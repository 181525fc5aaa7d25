"""`souk-plugin check`, `run` and `replay` on modules built from the sandbox's WAT corpus."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from plugin_modules import constant_plugin

from souk_platform.extensions.services import EXTENSION_POINTS as PLATFORM_POINTS
from souk_sdk._json_diff import json_diff
from souk_sdk.points import EXTENSION_POINTS

Cli = Callable[..., Any]


def _table_row(out: str, label: str) -> list[str]:
    """The cells of one row of the limits table, e.g. ['fuel', '1,234', '11,000,000', '0.0', '%']."""
    return next(line.split() for line in out.splitlines() if line.split()[:1] == [label])


# --- check ------------------------------------------------------------------------------------------------


def test_check_accepts_a_good_module_and_shows_size_and_exports(cli: Cli, wat_file: Callable[[str], Path]) -> None:
    module = wat_file("echo")
    result = cli("check", str(module))
    assert result.code == 0
    assert f"{module}: OK (ABI v1)" in result.out
    assert f"size     {module.stat().st_size:,} bytes of 262,144" in result.out
    assert "exports  memory (memory), _initialize () -> (), alloc (i32) -> (i32), run (i32, i32) -> (i64)" in result.out
    assert hashlib.sha256(module.read_bytes()).hexdigest() in result.out


def test_check_rejects_imports_naming_each_one(cli: Cli, wat_file: Callable[[str], Path]) -> None:
    result = cli("check", str(wat_file("wasi_import")))
    assert result.code == 1
    assert "REJECTED" in result.out
    assert "imports  wasi_snapshot_preview1.fd_write, wasi_snapshot_preview1.proc_exit" in result.out
    assert "problem  [has_imports] Plugins may not import anything" in result.out
    assert "- wasi_snapshot_preview1.proc_exit" in result.out


def test_check_explains_a_wrong_signature(cli: Cli, wat_file: Callable[[str], Path]) -> None:
    result = cli("check", str(wat_file("wrong_signature")))
    assert result.code == 1
    assert "[wrong_signature] The export `run` must be (i32, i32) -> (i64); it is (i32, i32) -> (i32)." in result.out


def test_check_on_a_file_that_is_not_wasm_or_missing(cli: Cli, workdir: Path) -> None:
    (workdir / "notes.wasm").write_text("hello")
    not_wasm = cli("check", "notes.wasm")
    assert not_wasm.code == 1
    assert "[not_wasm]" in not_wasm.out
    assert "exports" not in not_wasm.out

    missing = cli("check", "nothing.wasm")
    assert missing.code == 2
    assert missing.err == "error: The module file nothing.wasm does not exist.\n"


# --- run --------------------------------------------------------------------------------------------------


def test_run_prints_the_output_and_each_cost_against_its_limit(
    cli: Cli,
    wat_file: Callable[[str], Path],
    json_file: Callable[[str, Any], Path],
    printed_output: Callable[[str], Any],
) -> None:
    document = {"lines": [{"sku_id": "茶", "quantity": 3}], "customer": None, "subtotal": 0, "config": {}}
    result = cli(
        "run", str(wat_file("echo")), "--point", "cart.discounts", "--input", str(json_file("in.json", document))
    )
    # Production judges {"echo": ...} against the cart.discounts output schema: so does the dev kit.
    assert result.code == 1
    assert "point     cart.discounts" in result.out
    assert "limits    production, for 1 line (counted in the input)" in result.out
    assert "outcome   schema_invalid: The output does not match the schema: " in result.out
    assert "'echo' was unexpected" in result.out
    assert '"echo":{"lines":[{"sku_id":"茶"' in result.out  # the raw output is shown
    fuel = _table_row(result.out, "fuel")
    assert fuel[2] == "11,000,000"
    assert 0 < int(fuel[1].replace(",", "")) < 11_000_000
    assert _table_row(result.out, "memory")[1:5] == ["65,536", "B", "16,777,216", "B"]
    input_size = len(json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode())
    assert _table_row(result.out, "input")[1:5] == [f"{input_size}", "B", "131,072", "B"]
    assert _table_row(result.out, "output")[1:5] == [f"{input_size + 9}", "B", "20,480", "B"]
    assert _table_row(result.out, "time")[3:5] == ["100,000", "µs"]


def test_run_scales_the_limits_with_the_lines_like_production(
    cli: Cli, wat_file: Callable[[str], Path], json_file: Callable[[str, Any], Path]
) -> None:
    document = {"lines": [{"sku_id": "s", "quantity": 1}] * 500, "customer": None, "subtotal": 0, "config": {}}
    module, source = str(wat_file("echo")), str(json_file("in.json", document))
    counted = cli("run", module, "--point", "cart.discounts", "--input", source)
    assert "for 500 lines (counted in the input)" in counted.out
    assert _table_row(counted.out, "fuel")[2] == "27,500,000"
    assert _table_row(counted.out, "input")[3] == "327,680"
    assert _table_row(counted.out, "output")[3] == "51,200"
    assert _table_row(counted.out, "time")[3] == "250,000"

    chosen = cli("run", module, "--point", "cart.discounts", "--input", source, "--lines", "10")
    assert "for 10 lines (--lines)" in chosen.out
    assert _table_row(chosen.out, "fuel")[2] == "11,000,000"


def test_a_failing_plugin_prints_its_outcome_and_exits_1(
    cli: Cli, wat_file: Callable[[str], Path], json_file: Callable[[str, Any], Path]
) -> None:
    source = str(json_file("in.json", {"cart": {"lines": []}, "customer": None, "config": {}}))
    looping = cli("run", str(wat_file("infinite_loop")), "--point", "cart.validate", "--input", source)
    assert looping.code == 1
    assert "outcome   fuel_exhausted: " in looping.out
    assert _table_row(looping.out, "fuel")[1:3] == ["11,000,000", "11,000,000"]

    garbage = cli("run", str(wat_file("invalid_json")), "--point", "cart.validate", "--input", source)
    assert garbage.code == 1
    assert "outcome   invalid_json: " in garbage.out
    assert "raw output (" in garbage.out

    rejected = cli("run", str(wat_file("wasi_import")), "--point", "cart.validate", "--input", source)
    assert rejected.code == 1
    assert "The module is not a valid plugin [has_imports]" in rejected.err


def test_run_refuses_bad_arguments_with_a_clear_message(
    cli: Cli, wat_file: Callable[[str], Path], workdir: Path, json_file: Callable[[str, Any], Path]
) -> None:
    module, good = str(wat_file("echo")), str(json_file("in.json", {}))
    unknown = cli("run", module, "--point", "cart.discount", "--input", good)
    assert unknown.code == 2
    assert "Unknown extension point 'cart.discount'; the points are: cart.validate, cart.discounts" in unknown.err

    (workdir / "bad.json").write_text('{"cart": {"lines": [1, 2,]}}')
    bad = cli("run", module, "--point", "cart.validate", "--input", "bad.json")
    assert bad.code == 2
    assert bad.err == "error: The input file bad.json is not valid JSON: Expecting value at line 1, column 26.\n"

    (workdir / "nan.json").write_text('{"price": NaN}')
    nan = cli("run", module, "--point", "cart.validate", "--input", "nan.json")
    assert nan.code == 2
    assert "NaN is not allowed in JSON" in nan.err

    missing_input = cli("run", module, "--point", "cart.validate", "--input", "nope.json")
    assert missing_input.code == 2
    assert "The input file nope.json does not exist." in missing_input.err

    missing_module = cli("run", "nope.wasm", "--point", "cart.validate", "--input", good)
    assert missing_module.code == 2
    assert "The module file nope.wasm does not exist." in missing_module.err

    negative = cli("run", module, "--point", "cart.validate", "--input", good, "--lines", "-1")
    assert negative.code == 2
    assert "--lines must be 0 or more" in negative.err

    no_point = cli("run", module, "--input", good)
    assert no_point.code == 2
    assert "the following arguments are required: --point" in no_point.err


def test_the_points_are_the_platforms_points() -> None:
    assert set(EXTENSION_POINTS) == set(PLATFORM_POINTS)


# --- replay -----------------------------------------------------------------------------------------------


_DISCOUNTS_INPUT = {"lines": [{"sku_id": "sku_1", "quantity": 2}], "customer": None, "subtotal": 0, "config": {}}


def _export(module: Path, output: Any, **changes: Any) -> dict[str, Any]:
    return {
        "point": "cart.discounts",
        "input": _DISCOUNTS_INPUT,
        "output": output,
        "outcome": "ok",
        "module_sha256": hashlib.sha256(module.read_bytes()).hexdigest(),
        **changes,
    }


def _no_discounts(workdir: Path) -> Path:
    module = workdir / "none.wasm"
    module.write_bytes(constant_plugin({"discounts": []}))
    return module


def test_replay_of_an_unchanged_call_reports_the_same_output(
    cli: Cli, workdir: Path, json_file: Callable[[str, Any], Path]
) -> None:
    module = _no_discounts(workdir)
    logged = _export(module, {"discounts": []})
    result = cli("replay", str(json_file("log.json", logged)), "--wasm", str(module))
    assert result.code == 0, result.err
    assert "point     cart.discounts (logged outcome: ok)" in result.out
    assert "same output as logged" in result.out
    assert "warning" not in result.out


def test_replay_shows_a_readable_diff_and_warns_about_another_module(
    cli: Cli, workdir: Path, json_file: Callable[[str, Any], Path]
) -> None:
    module = _no_discounts(workdir)
    logged = _export(module, {"discounts": [{"label": "5 off", "amount": 500}]}, module_sha256="0" * 64)
    result = cli("replay", str(json_file("log.json", logged)), "--wasm", str(module))
    assert result.code == 1
    assert f"warning: {module} is not the module that was logged (logged sha256 {'0' * 64}" in result.out
    assert "output differs from the logged one" in result.out
    assert '  - $.discounts[0]: {"label":"5 off","amount":500}' in result.out


def test_replay_of_a_logged_failure_that_now_succeeds(
    cli: Cli, workdir: Path, json_file: Callable[[str, Any], Path]
) -> None:
    module = _no_discounts(workdir)
    logged = _export(module, None, outcome="timeout", fuel=123_456, id="inv_1", created_at="2025-01-01T00:00:00+00:00")
    result = cli("replay", str(json_file("log.json", logged)), "--wasm", str(module))
    assert result.code == 1
    assert "fuel      logged 123,456, now " in result.out
    assert "outcome changed: timeout -> ok" in result.out
    assert '  ~ $: null -> {"discounts":[]}' in result.out


def test_replay_refuses_what_is_not_an_export(
    cli: Cli, wat_file: Callable[[str], Path], json_file: Callable[[str, Any], Path]
) -> None:
    module = wat_file("echo")
    incomplete = cli("replay", str(json_file("a.json", {"point": "cart.validate", "input": {}})), "--wasm", str(module))
    assert incomplete.code == 2
    assert "missing output, outcome, module_sha256" in incomplete.err

    listing = cli("replay", str(json_file("b.json", [1, 2])), "--wasm", str(module))
    assert listing.code == 2
    assert "expected a JSON object" in listing.err

    unknown = cli(
        "replay", str(json_file("c.json", _export(module, {}, point="order.teleport"))), "--wasm", str(module)
    )
    assert unknown.code == 2
    assert "Unknown extension point 'order.teleport'" in unknown.err


# --- the pieces -------------------------------------------------------------------------------------------


def test_json_diff_lists_each_changed_path() -> None:
    old = {"a": 1, "b": [1, 2, 3], "c": {"x": True}, "gone": "y", "with space": 1}
    new = {"a": 1.0, "b": [1, 5], "c": {"x": True, "y": None}, "with space": 2}
    assert json_diff(old, new) == [
        "~ $.a: 1 -> 1.0",
        "~ $.b[1]: 2 -> 5",
        "- $.b[2]: 3",
        "+ $.c.y: null",
        '- $.gone: "y"',
        '~ $["with space"]: 1 -> 2',
    ]
    assert json_diff({"same": [1, {"k": "v"}]}, {"same": [1, {"k": "v"}]}) == []
    assert json_diff(1, True) == ["~ $: 1 -> true"]


def test_the_command_runs_as_a_module_with_its_exit_code(workdir: Path) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "souk_sdk.plugin_cli", "check", "missing.wasm"], capture_output=True, text=True
    )
    assert completed.returncode == 2
    assert completed.stderr == "error: The module file missing.wasm does not exist.\n"
