"""Each hostile plugin ends with its own outcome, and the runtime keeps serving the next call."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from souk_sandbox import Limits, Outcome, Runtime

CART = {"lines": [{"sku": "tea", "qty": 2, "price": 1800}], "customer": {"level": "V2"}}


def assert_runtime_still_works(runtime: Runtime, wasm: Callable[[str], bytes]) -> None:
    result = runtime.load(wasm("echo")).invoke(CART)
    assert result.outcome is Outcome.OK, result.message
    assert result.output == {"echo": CART}


@pytest.mark.parametrize(
    ("name", "expected", "words"),
    [
        ("infinite_loop", Outcome.FUEL_EXHAUSTED, "all its fuel (11,000,000) in run"),
        ("deep_recursion", Outcome.TRAP, "call stack exhausted"),
        ("memory_grow_bomb", Outcome.MEMORY_LIMIT, "16,777,216-byte memory limit"),
        ("big_grow_then_trap", Outcome.MEMORY_LIMIT, "could not grow past the 16,777,216-byte memory limit"),
        ("table_growth", Outcome.TRAP, "unreachable"),
        ("huge_output", Outcome.OUTPUT_TOO_LARGE, "65,536 bytes; the limit is 20,480 bytes"),
        ("output_out_of_bounds", Outcome.BAD_OUTPUT_POINTER, "outside linear memory"),
        ("alloc_out_of_bounds", Outcome.BAD_INPUT_POINTER, "returned 65530"),
        ("invalid_utf8", Outcome.INVALID_UTF8, "not valid UTF-8"),
        ("invalid_json", Outcome.INVALID_JSON, "not valid JSON"),
        ("unreachable", Outcome.TRAP, "unreachable"),
        ("trapping_initialize", Outcome.TRAP, "in _initialize"),
    ],
)
def test_hostile_plugin_ends_with_its_own_outcome(
    runtime: Runtime, wasm: Callable[[str], bytes], name: str, expected: Outcome, words: str
) -> None:
    result = runtime.load(wasm(name)).invoke(CART)
    assert result.outcome is expected, result.message
    assert words in result.message
    assert result.output is None
    assert_runtime_still_works(runtime, wasm)


def test_an_infinite_loop_with_plenty_of_fuel_is_stopped_by_the_deadline(
    runtime: Runtime, wasm: Callable[[str], bytes]
) -> None:
    limits = Limits(fuel=10**15, deadline_ms=30)
    result = runtime.load(wasm("infinite_loop")).invoke(CART, limits=limits)
    assert result.outcome is Outcome.TIMEOUT, result.message
    assert "30 ms deadline" in result.message
    assert_runtime_still_works(runtime, wasm)


def test_fuel_of_a_failed_call_is_reported(runtime: Runtime, wasm: Callable[[str], bytes]) -> None:
    result = runtime.load(wasm("infinite_loop")).invoke(CART, limits=Limits(fuel=5_000))
    assert result.outcome is Outcome.FUEL_EXHAUSTED
    assert result.fuel_consumed == 5_000


def test_memory_bomb_reports_the_memory_it_reached(runtime: Runtime, wasm: Callable[[str], bytes]) -> None:
    result = runtime.load(wasm("memory_grow_bomb")).invoke(CART)
    assert result.outcome is Outcome.MEMORY_LIMIT
    assert result.memory_bytes == 16 * 1024 * 1024


def test_a_refused_grow_the_plugin_handles_is_not_a_failure(runtime: Runtime, wasm: Callable[[str], bytes]) -> None:
    result = runtime.load(wasm("grow_refused_handled")).invoke(CART)
    assert result.outcome is Outcome.OK, result.message
    assert result.output == {"big": False}
    assert result.memory_bytes == 65536


def test_a_trap_after_a_refused_grow_in_an_earlier_call_is_not_memory_limit(
    runtime: Runtime, wasm: Callable[[str], bytes]
) -> None:
    # Each call has a fresh instance, so the flag of a refused grow never leaks into the next call.
    assert runtime.load(wasm("big_grow_then_trap")).invoke(CART).outcome is Outcome.MEMORY_LIMIT
    assert runtime.load(wasm("unreachable")).invoke(CART).outcome is Outcome.TRAP


def test_huge_output_keeps_only_a_bounded_prefix(runtime: Runtime, wasm: Callable[[str], bytes]) -> None:
    result = runtime.load(wasm("huge_output")).invoke(CART)
    assert result.output_bytes == 65536
    assert result.raw_output == b" " * 20 * 1024


def test_state_in_globals_and_memory_does_not_survive_between_calls(
    runtime: Runtime, wasm: Callable[[str], bytes]
) -> None:
    plugin = runtime.load(wasm("global_state"))
    outputs = [plugin.invoke(CART).output for _ in range(5)]
    assert outputs == [{"calls": 1}] * 5


def test_a_plugin_importing_wasi_never_loads(runtime: Runtime, wasm: Callable[[str], bytes]) -> None:
    from souk_sandbox import InvalidModule

    with pytest.raises(InvalidModule, match=r"wasi_snapshot_preview1\.fd_write"):
        runtime.load(wasm("wasi_import"))
    assert_runtime_still_works(runtime, wasm)


def test_the_whole_corpus_in_a_row_leaves_the_runtime_healthy(runtime: Runtime, wasm: Callable[[str], bytes]) -> None:
    names = ["infinite_loop", "deep_recursion", "memory_grow_bomb", "table_growth", "huge_output", "unreachable"]
    for _ in range(3):
        for name in names:
            assert not runtime.load(wasm(name)).invoke(CART).ok
    # Pooled instance slots were all returned: more calls than slots still succeed.
    echo = runtime.load(wasm("echo"))
    assert all(echo.invoke({"n": n}).output == {"echo": {"n": n}} for n in range(50))


def test_a_clang_built_plugin_whose_allocation_is_refused_ends_as_memory_limit(
    runtime: Runtime, tmp_path: Path
) -> None:
    if shutil.which("clang") is None or shutil.which("wasm-ld") is None:
        pytest.skip("clang and wasm-ld are not installed (Debian: clang lld)")
    # The `souk-plugin new --lang c` allocator: grow what is missing at once, trap when refused.
    source = tmp_path / "plugin.c"
    source.write_text(
        """
        extern unsigned char __heap_base;
        static unsigned long top;
        __attribute__((export_name("alloc"))) unsigned char *alloc(int len) {
            if (top == 0) top = (unsigned long)&__heap_base;
            unsigned long start = top, end = top + (unsigned long)len;
            unsigned long have = __builtin_wasm_memory_size(0) * 65536u;
            if (end > have && __builtin_wasm_memory_grow(0, (end - have + 65535u) / 65536u) == (unsigned long)-1)
                __builtin_trap();
            top = end;
            return (unsigned char *)start;
        }
        __attribute__((export_name("run"))) unsigned long long run(const unsigned char *in, int len) {
            unsigned char *table = alloc(20 << 20); /* 20 MiB: over the 16 MiB limit */
            table[0] = in[0];
            return 0;
        }
        """
    )
    flags = ["--target=wasm32", "-O2", "-nostdlib", "-mbulk-memory", "-Wl,--no-entry", "-Wl,--strip-all"]
    subprocess.run(["clang", *flags, "-o", str(tmp_path / "p.wasm"), str(source)], check=True)
    result = runtime.load((tmp_path / "p.wasm").read_bytes()).invoke(CART)
    assert result.outcome is Outcome.MEMORY_LIMIT, result.message
    assert result.memory_bytes < 1024 * 1024  # far below the limit: only the refused grow tells
