"""Compiling is bounded (CPU time, memory) and happens once: a runtime can refuse to compile at all."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import wasmtime

import souk_sandbox.runtime
from souk_sandbox import (
    COMPILE_CPU_SECONDS,
    COMPILE_MEMORY_BYTES,
    InvalidModule,
    ModuleNotCompiled,
    Runtime,
    artifact_key,
    compile_checked,
    validate,
)


def empty_functions(count: int) -> bytes:
    """A valid ABI v1 module padded with `count` empty functions (62,000 of them: ~248 KB, under 256 KiB)."""
    padding = "\n".join("(func)" for _ in range(count))
    return bytes(
        wasmtime.wat2wasm(
            f"""(module (memory (export "memory") 1)
              (func (export "alloc") (param i32) (result i32) (i32.const 1024))
              (func (export "run") (param i32 i32) (result i64) (i64.const 0))
              {padding})"""
        )
    )


def test_a_module_too_costly_to_compile_is_refused_naming_the_limits() -> None:
    bomb = empty_functions(62_000)
    assert len(bomb) < 256 * 1024  # passes the size check: only compiling shows what it costs
    with pytest.raises(InvalidModule) as refused:
        validate(bomb)
    assert refused.value.code == "compile_limit"
    assert COMPILE_CPU_SECONDS == 2 and COMPILE_MEMORY_BYTES == 256 * 1024 * 1024
    assert "must compile within 2 s of CPU and 256 MiB of memory" in refused.value.message


def test_the_compile_bounds_leave_room_for_a_real_plugin() -> None:
    info = validate(empty_functions(2_000))  # ~8 KB of functions: many times a sample plugin's count
    assert info.size_bytes > 8_000


def test_a_runtime_told_not_to_compile_refuses_a_module_it_has_no_code_for(
    tmp_path: Path, wasm: Callable[[str], bytes]
) -> None:
    with Runtime(cache_dir=tmp_path, max_concurrent_calls=2) as runtime, pytest.raises(ModuleNotCompiled):
        runtime.load(wasm("echo"), compile=False)


def test_stored_compiled_code_runs_in_a_fresh_runtime_without_compiling(
    tmp_path: Path, wasm: Callable[[str], bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    compiled = compile_checked(wasm("echo"))
    assert compiled.artifact_key == artifact_key()

    def refuse(module_bytes: bytes) -> bytes:
        raise AssertionError("compiled although stored compiled code was given")

    monkeypatch.setattr(souk_sandbox.runtime, "compile_in_child", refuse)
    with Runtime(cache_dir=tmp_path / "empty", max_concurrent_calls=2) as fresh:
        assert fresh.artifact_key == compiled.artifact_key
        result = fresh.load(wasm("echo"), artifact=compiled.artifact, compile=False).invoke({"a": 1})
    assert result.ok and result.output == {"echo": {"a": 1}}


def test_damaged_stored_code_is_not_run(tmp_path: Path, wasm: Callable[[str], bytes]) -> None:
    compiled = compile_checked(wasm("echo"))
    with Runtime(cache_dir=tmp_path, max_concurrent_calls=2) as fresh, pytest.raises(ModuleNotCompiled):
        fresh.load(wasm("echo"), artifact=compiled.artifact[:-100], compile=False)
