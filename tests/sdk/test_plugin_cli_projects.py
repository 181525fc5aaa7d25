"""`souk-plugin new` and `build`: the templates compile with the real toolchains and the result runs."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

HAS_CLANG = shutil.which("clang") is not None and shutil.which("wasm-ld") is not None
needs_clang = pytest.mark.skipif(not HAS_CLANG, reason="clang and wasm-ld are not installed (Debian: clang lld)")


def _cart(*quantities: int) -> dict[str, Any]:
    lines = [{"id": f"line_{i}", "sku_id": f"sku_{i}", "quantity": q} for i, q in enumerate(quantities)]
    return {"cart": {"id": "cart_1", "lines": lines}, "customer": {"id": "cus_1"}, "config": {}}


@needs_clang
def test_a_new_c_project_builds_passes_check_and_runs(
    cli: Callable[..., Any],
    workdir: Path,
    json_file: Callable[[str, Any], Path],
    printed_output: Callable[[str], Any],
) -> None:
    created = cli("new", "tea-limit", "--lang", "c")
    assert created.code == 0, created.err
    project = workdir / "tea-limit"
    assert sorted(p.name for p in project.iterdir()) == [
        ".gitignore",
        "Makefile",
        "README.md",
        "input.json",
        "plugin.c",
    ]
    assert "souk-plugin build tea-limit" in created.out

    built = cli("build", "tea-limit")
    assert built.code == 0, built.err
    assert "-mbulk-memory" in built.out and "-Wl,--export=run" in built.out
    assert "tea-limit/plugin.wasm: OK (ABI v1)" in built.out
    assert "of 262,144" in built.out
    assert "run (i32, i32) -> (i64)" in built.out

    sample = cli("run", "tea-limit/plugin.wasm", "--point", "cart.validate", "--input", "tea-limit/input.json")
    assert sample.code == 0, sample.err
    assert "outcome   ok" in sample.out
    assert printed_output(sample.out) == {"errors": []}

    big = json_file("big.json", _cart(60, 70, 1))
    refused = cli("run", "tea-limit/plugin.wasm", "--point", "cart.validate", "--input", str(big))
    assert refused.code == 0
    assert printed_output(refused.out) == {
        "errors": [{"field": "lines", "message": "At most 100 units per order; this cart has 131."}]
    }


@needs_clang
def test_the_generated_makefile_builds_the_same_module(cli: Callable[..., Any], workdir: Path) -> None:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    assert cli("new", "p", "--lang", "c").code == 0
    assert cli("build", "p").code == 0
    by_cli = (workdir / "p" / "plugin.wasm").read_bytes()
    (workdir / "p" / "plugin.wasm").unlink()
    assert os.system(f"make -s -C {workdir / 'p'} >/dev/null") == 0
    assert (workdir / "p" / "plugin.wasm").read_bytes() == by_cli


@needs_clang
def test_a_compile_error_fails_the_build_with_the_compilers_message(cli: Callable[..., Any], workdir: Path) -> None:
    cli("new", "broken", "--lang", "c")
    (workdir / "broken" / "plugin.c").write_text("int run( {\n")
    result = cli("build", "broken")
    assert result.code == 1
    assert "The build failed" in result.err
    assert "plugin.c:1" in result.err


@needs_clang
def test_a_plugin_that_imports_libc_builds_but_fails_check(cli: Callable[..., Any], workdir: Path) -> None:
    cli("new", "leaky", "--lang", "c")
    source = workdir / "leaky" / "plugin.c"
    # A host function the sandbox does not provide (like printf's WASI calls): the link succeeds.
    declaration = '__attribute__((import_module("env"), import_name("host_log"))) void host_log(int);\n'
    body = source.read_text().replace("unsigned long units = ", "host_log(len);\n    unsigned long units = ")
    source.write_text(declaration + body)
    result = cli("build", "leaky")
    assert result.code == 1
    assert "REJECTED" in result.out
    assert "[has_imports]" in result.out
    assert "env.host_log" in result.out


def test_build_without_clang_names_the_debian_packages(
    cli: Callable[..., Any], workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli("new", "p", "--lang", "c")
    monkeypatch.setenv("PATH", str(workdir / "empty-bin"))
    result = cli("build", "p")
    assert result.code == 2
    assert "clang was not found" in result.err
    assert "`clang` and `lld`" in result.err
    assert not (workdir / "p" / "plugin.wasm").exists()


def test_build_of_a_folder_without_a_plugin_says_what_it_expected(cli: Callable[..., Any], workdir: Path) -> None:
    (workdir / "empty").mkdir()
    result = cli("build", "empty")
    assert result.code == 2
    assert "No plugin source in empty" in result.err
    assert "souk-plugin new" in result.err
    missing = cli("build", "nowhere")
    assert missing.code == 2
    assert "nowhere is not a directory" in missing.err


def test_new_refuses_bad_names_and_existing_folders(cli: Callable[..., Any], workdir: Path) -> None:
    bad = cli("new", "../escape", "--lang", "c")
    assert bad.code == 2
    assert "not a valid project name" in bad.err
    assert not (workdir.parent / "escape").exists()

    (workdir / "taken").mkdir()
    (workdir / "taken" / "notes.txt").write_text("mine")
    taken = cli("new", "taken", "--lang", "c")
    assert taken.code == 2
    assert "already exists" in taken.err
    assert sorted(p.name for p in (workdir / "taken").iterdir()) == ["notes.txt"]

    unknown_language = cli("new", "p", "--lang", "rust")
    assert unknown_language.code == 2
    assert "invalid choice: 'rust'" in unknown_language.err


def test_a_new_assemblyscript_project_has_the_zero_import_build(cli: Callable[..., Any], workdir: Path) -> None:
    created = cli("new", "as-plugin", "--lang", "assemblyscript")
    assert created.code == 0, created.err
    project = workdir / "as-plugin"
    assert sorted(p.name for p in project.iterdir()) == [
        ".gitignore",
        "README.md",
        "input.json",
        "package.json",
        "plugin.ts",
    ]
    package = json.loads((project / "package.json").read_text())
    assert (
        package["scripts"]["build"]
        == "asc plugin.ts -O3 --noAssert --runtime stub --use abort= --exportStart _initialize -o plugin.wasm"
    )
    assert "assemblyscript" in package["devDependencies"]
    source = (project / "plugin.ts").read_text()
    assert "export function alloc(len: i32): i32" in source
    assert "export function run(ptr: i32, len: i32): i64" in source
    assert "cd as-plugin && npm install" in created.out

    if shutil.which("npx") is not None:
        not_installed = cli("build", "as-plugin")
        assert not_installed.code == 2
        assert "run `npm install` there" in not_installed.err
        assert "`assemblyscript`" in not_installed.err


def test_the_assemblyscript_template_builds_and_runs(cli: Callable[..., Any], workdir: Path) -> None:
    asc = shutil.which("asc")
    if shutil.which("npx") is None or asc is None:
        pytest.skip(
            "AssemblyScript is not available offline here (no `asc` on PATH); the CI script can "
            "`npm install -g assemblyscript@0.28` to run this test"
        )
    cli("new", "as-plugin", "--lang", "assemblyscript")
    bin_dir = workdir / "as-plugin" / "node_modules" / ".bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "asc").symlink_to(asc)
    built = cli("build", "as-plugin")
    assert built.code == 0, built.err
    assert "OK (ABI v1)" in built.out
    ran = cli("run", "as-plugin/plugin.wasm", "--point", "cart.validate", "--input", "as-plugin/input.json")
    assert ran.code == 0
    assert '"errors": []' in ran.out
