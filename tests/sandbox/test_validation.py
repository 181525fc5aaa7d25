from __future__ import annotations

from collections.abc import Callable

import pytest
import wasmtime

from souk_sandbox import ABI_VERSION, InvalidModule, Runtime, validate


def test_a_good_module_is_accepted_with_its_metadata(wasm: Callable[[str], bytes]) -> None:
    module_bytes = wasm("echo")
    info = validate(module_bytes)
    assert info.abi_version == ABI_VERSION == 1
    assert info.size_bytes == len(module_bytes)
    assert len(info.sha256) == 64
    assert info.has_initialize
    assert {"memory", "alloc", "run", "_initialize"} <= set(info.exports)
    assert info.memory_min_bytes == 65536


def test_initialize_is_optional(wasm: Callable[[str], bytes]) -> None:
    assert not validate(wasm("constant")).has_initialize


def test_imports_are_refused_and_each_is_named(wasm: Callable[[str], bytes]) -> None:
    with pytest.raises(InvalidModule) as refused:
        validate(wasm("wasi_import"))
    assert refused.value.code == "has_imports"
    assert refused.value.details == ("wasi_snapshot_preview1.fd_write", "wasi_snapshot_preview1.proc_exit")
    assert "wasi_snapshot_preview1.fd_write" in refused.value.message
    assert "wasi_snapshot_preview1.proc_exit" in refused.value.message


def test_an_oversize_module_is_refused_before_compilation(oversize_module: bytes) -> None:
    module_bytes = oversize_module
    assert len(module_bytes) > 256 * 1024
    with pytest.raises(InvalidModule) as refused:
        validate(module_bytes)
    assert refused.value.code == "module_too_large"
    assert "262,144" in refused.value.message


@pytest.mark.parametrize(
    ("name", "code", "words"),
    [
        ("start_function", "start_function", "start function"),
        ("wrong_signature", "wrong_signature", "`run` must be (i32, i32) -> (i64); it is (i32, i32) -> (i32)"),
        ("huge_initial_memory", "memory_too_large", "initial memory"),
        ("two_tables", "too_many_tables", "2 tables"),
    ],
)
def test_abi_violations_are_refused_with_a_clear_message(
    wasm: Callable[[str], bytes], name: str, code: str, words: str
) -> None:
    with pytest.raises(InvalidModule) as refused:
        validate(wasm(name))
    assert refused.value.code == code
    assert words in refused.value.message


@pytest.mark.parametrize(
    ("wat", "code", "words"),
    [
        ('(module (func (export "alloc") (param i32) (result i32) (i32.const 0)))', "missing_export", "`memory`"),
        ('(module (memory (export "memory") 1))', "missing_export", "`alloc` (i32) -> (i32)"),
        (
            '(module (memory (export "memory") 1) (global (export "alloc") i32 (i32.const 0)))',
            "wrong_export_type",
            "`alloc` must be a function",
        ),
        (
            '(module (memory (export "memory") 1) (func (export "alloc") (param i32) (result i32) (i32.const 0))'
            ' (func (export "run") (param i32 i32) (result i64) (i64.const 0)) (func (export "_initialize")'
            " (param i32)))",
            "wrong_signature",
            "`_initialize` must be () -> ()",
        ),
        ('(module (memory (export "memory") i64 1))', "invalid_wasm", "memory64"),
    ],
)
def test_missing_or_mistyped_exports_and_disabled_proposals_are_refused(wat: str, code: str, words: str) -> None:
    with pytest.raises(InvalidModule) as refused:
        validate(wasmtime.wat2wasm(wat))
    assert refused.value.code == code
    assert words in refused.value.message


@pytest.mark.parametrize(
    ("module_bytes", "code"),
    [
        (b"", "not_wasm"),
        (b"#!/bin/sh\necho hi\n", "not_wasm"),
        (b"\0asm\x0d\0\x01\0", "not_core_module"),
        (b"\0asm\x01\0\0\0\x01\x05\x01", "invalid_wasm"),
    ],
)
def test_bytes_that_are_not_a_valid_core_module_are_refused(module_bytes: bytes, code: str) -> None:
    with pytest.raises(InvalidModule) as refused:
        validate(module_bytes)
    assert refused.value.code == code


def test_loading_runs_the_same_checks(runtime: Runtime, wasm: Callable[[str], bytes], oversize_module: bytes) -> None:
    with pytest.raises(InvalidModule) as refused:
        runtime.load(wasm("wasi_import"))
    assert refused.value.code == "has_imports"
    with pytest.raises(InvalidModule) as refused:
        runtime.load(oversize_module)
    assert refused.value.code == "module_too_large"
    with pytest.raises(InvalidModule) as refused:
        runtime.load(wasm("start_function"))
    assert refused.value.code == "start_function"
