"""Fixtures of the sandbox tests: WAT sources compiled on the fly and a shared runtime."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import wasmtime

from souk_sandbox import Runtime

HERE = Path(__file__).parent


def wasm_of(name: str) -> bytes:
    """The binary of `plugins/<name>.wat` or `hostile/<name>.wat`."""
    for folder in ("plugins", "hostile"):
        source = HERE / folder / f"{name}.wat"
        if source.exists():
            return bytes(wasmtime.wat2wasm(source.read_text()))
    raise FileNotFoundError(name)


@pytest.fixture(scope="session")
def oversize_module() -> bytes:
    """`hostile/oversize.wat` with a 300 KiB data segment (too large to keep as a file)."""
    template = (HERE / "hostile" / "oversize.wat").read_text()
    return bytes(wasmtime.wat2wasm(template.replace('"PADDING"', '"' + "A" * (300 * 1024) + '"')))


@pytest.fixture(scope="module")
def runtime() -> Iterator[Runtime]:
    with Runtime(max_concurrent_calls=16) as shared:
        yield shared


@pytest.fixture
def wasm() -> Callable[[str], bytes]:
    return wasm_of
