from __future__ import annotations

import hashlib
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path

import pytest

import souk_sandbox.runtime
from souk_sandbox import InvalidModule, Runtime


def cached_files(directory: Path) -> list[Path]:
    return sorted(directory.glob("*.cwasm"))


def forbid_compilation(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(module_bytes: bytes) -> bytes:
        raise AssertionError("compiled although a valid cache entry exists")

    monkeypatch.setattr(souk_sandbox.runtime, "compile_in_child", refuse)


def test_a_compiled_module_is_stored_keyed_by_hash_version_and_config(
    tmp_path: Path, wasm: Callable[[str], bytes]
) -> None:
    module_bytes = wasm("echo")
    with Runtime(cache_dir=tmp_path, max_concurrent_calls=2) as runtime:
        assert runtime.load(module_bytes).invoke({"a": 1}).ok
    [entry] = cached_files(tmp_path)
    assert entry.name.startswith(hashlib.sha256(module_bytes).hexdigest())
    assert f"wasmtime{version('wasmtime')}" in entry.name


def test_a_new_runtime_loads_from_the_cache_without_compiling(
    tmp_path: Path, wasm: Callable[[str], bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    with Runtime(cache_dir=tmp_path, max_concurrent_calls=2) as runtime:
        runtime.load(wasm("echo"))
    forbid_compilation(monkeypatch)
    with Runtime(cache_dir=tmp_path, max_concurrent_calls=2) as runtime:
        assert runtime.load(wasm("echo")).invoke({"a": 1}).output == {"echo": {"a": 1}}


def test_an_entry_of_another_wasmtime_version_is_not_used(tmp_path: Path, wasm: Callable[[str], bytes]) -> None:
    with Runtime(cache_dir=tmp_path, max_concurrent_calls=2) as runtime:
        runtime.load(wasm("echo"))
    [entry] = cached_files(tmp_path)
    entry.rename(entry.with_name(entry.name.replace(f"wasmtime{version('wasmtime')}", "wasmtime0.0.1")))
    with Runtime(cache_dir=tmp_path, max_concurrent_calls=2) as runtime:
        assert runtime.load(wasm("echo")).invoke({"a": 1}).ok
    assert len(cached_files(tmp_path)) == 2


@pytest.mark.parametrize(
    "damage",
    [
        lambda blob: blob[: len(blob) // 2],  # truncated
        lambda blob: blob[:-100] + bytes(b ^ 0xFF for b in blob[-100:]),  # flipped bits
        lambda blob: b"",  # empty
        lambda blob: b"garbage" * 100,  # not ours at all
    ],
    ids=["truncated", "flipped", "empty", "garbage"],
)
def test_a_corrupt_cache_file_is_recompiled_and_rewritten(
    tmp_path: Path, wasm: Callable[[str], bytes], damage: Callable[[bytes], bytes]
) -> None:
    with Runtime(cache_dir=tmp_path, max_concurrent_calls=2) as runtime:
        runtime.load(wasm("echo"))
    [entry] = cached_files(tmp_path)
    good = entry.read_bytes()
    entry.write_bytes(damage(good))

    with Runtime(cache_dir=tmp_path, max_concurrent_calls=2) as runtime:
        assert runtime.load(wasm("echo")).invoke({"a": 1}).output == {"echo": {"a": 1}}
    assert entry.read_bytes() == good


def test_a_valid_looking_file_that_wasmtime_refuses_is_recompiled(tmp_path: Path, wasm: Callable[[str], bytes]) -> None:
    with Runtime(cache_dir=tmp_path, max_concurrent_calls=2) as runtime:
        runtime.load(wasm("echo"))
    [entry] = cached_files(tmp_path)
    good = entry.read_bytes()
    header = good.index(b"\n") + 1
    payload = b"\0" * 64  # checksum right, content not a serialized module
    entry.write_bytes(good[:header] + hashlib.sha256(payload).digest() + payload)

    with Runtime(cache_dir=tmp_path, max_concurrent_calls=2) as runtime:
        assert runtime.load(wasm("echo")).invoke({"a": 1}).ok
    assert entry.read_bytes() == good


def test_an_unwritable_cache_directory_only_costs_compilation(tmp_path: Path, wasm: Callable[[str], bytes]) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    with Runtime(cache_dir=blocker / "cache", max_concurrent_calls=2) as runtime:
        assert runtime.load(wasm("echo")).invoke({"a": 1}).ok


def test_a_rejected_module_is_not_cached(tmp_path: Path, wasm: Callable[[str], bytes]) -> None:
    with Runtime(cache_dir=tmp_path, max_concurrent_calls=2) as runtime, pytest.raises(InvalidModule):
        runtime.load(wasm("wasi_import"))
    assert cached_files(tmp_path) == []
