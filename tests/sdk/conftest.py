"""Fixtures of the dev kit tests: run `souk-plugin` in a scratch folder and capture what it prints."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import wasmtime

from souk_sdk.plugin_cli import main

SANDBOX_WAT = Path(__file__).parents[1] / "sandbox"


@dataclass
class Ran:
    code: int
    out: str
    err: str


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def cli(workdir: Path, capsys: pytest.CaptureFixture[str]) -> Callable[..., Ran]:
    """`cli("run", "x.wasm", ...)` runs the command in `workdir` and returns its exit code and output."""

    def run(*argv: str) -> Ran:
        capsys.readouterr()
        code = main(list(argv))
        captured = capsys.readouterr()
        return Ran(code, captured.out, captured.err)

    return run


@pytest.fixture
def wat_file(workdir: Path) -> Callable[[str], Path]:
    """Compile `tests/sandbox/{plugins,hostile}/<name>.wat` (the sandbox's corpus) into `workdir/<name>.wasm`."""

    def build(name: str) -> Path:
        for folder in ("plugins", "hostile"):
            source = SANDBOX_WAT / folder / f"{name}.wat"
            if source.exists():
                target = workdir / f"{name}.wasm"
                target.write_bytes(bytes(wasmtime.wat2wasm(source.read_text())))
                return target
        raise FileNotFoundError(name)

    return build


@pytest.fixture
def json_file(workdir: Path) -> Callable[[str, Any], Path]:
    def write(name: str, document: Any) -> Path:
        path = workdir / name
        path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
        return path

    return write


@pytest.fixture
def printed_output() -> Callable[[str], Any]:
    """The plugin output JSON that `run`/`replay` print between `outcome   ok` and the limits table."""

    def parse(out: str) -> Any:
        lines = out.splitlines()
        start = lines.index("outcome   ok") + 1
        end = next(i for i in range(start, len(lines)) if lines[i].split() == ["used", "limit", "share"])
        return json.loads("\n".join(lines[start:end]))

    return parse
