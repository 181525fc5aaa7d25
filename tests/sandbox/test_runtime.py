from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import pytest

from souk_sandbox import Limits, Outcome, Runtime


def test_a_good_plugin_transforms_its_input(runtime: Runtime, wasm: Callable[[str], bytes]) -> None:
    payload = {"cart": {"lines": [{"sku": "茶", "qty": 3}]}, "config": {"rate": 5}}
    result = runtime.load(wasm("echo")).invoke(payload)
    assert result.ok, result.message
    assert result.outcome is Outcome.OK
    assert result.output == {"echo": payload}
    assert result.raw_output == '{"echo":{"cart":{"lines":[{"sku":"茶","qty":3}]},"config":{"rate":5}}}'.encode()
    assert result.output_bytes == len(result.raw_output)
    assert result.input_bytes == len(result.raw_output) - 9
    assert 0 < result.fuel_consumed < Limits().fuel
    assert result.memory_bytes == 65536
    assert result.elapsed_us >= 0
    assert result.message == ""
    assert result.limits == Limits()


def test_pre_encoded_json_is_passed_as_is(runtime: Runtime, wasm: Callable[[str], bytes]) -> None:
    result = runtime.load(wasm("echo")).invoke_json(b'{"b": 1,  "a": 2}')
    assert result.raw_output == b'{"echo":{"b": 1,  "a": 2}}'


def test_fuel_and_input_limits_apply_per_call(runtime: Runtime, wasm: Callable[[str], bytes]) -> None:
    echo = runtime.load(wasm("echo"))
    assert echo.invoke({"a": 1}, limits=Limits(fuel=20)).outcome is Outcome.FUEL_EXHAUSTED
    too_big = echo.invoke_json(b'"' + b"x" * 200 + b'"', limits=Limits(input_bytes=100))
    assert too_big.outcome is Outcome.INPUT_TOO_LARGE
    assert too_big.fuel_consumed == 0
    assert echo.invoke({"a": 1}).ok


def test_the_output_validator_turns_a_bad_shape_into_schema_invalid(
    runtime: Runtime, wasm: Callable[[str], bytes]
) -> None:
    def discounts_only(output: Any) -> Sequence[str]:
        return [] if "discounts" in output else ["'discounts' is a required property"]

    result = runtime.load(wasm("echo")).invoke({"x": 1}, output_validator=discounts_only)
    assert result.outcome is Outcome.SCHEMA_INVALID
    assert "'discounts' is a required property" in result.message
    assert result.output == {"echo": {"x": 1}}  # kept for the invocation log

    accepted = runtime.load(wasm("echo")).invoke({"x": 1}, output_validator=lambda output: [])
    assert accepted.ok


def test_a_failing_output_validator_is_a_host_error_not_a_crash(runtime: Runtime, wasm: Callable[[str], bytes]) -> None:
    def broken(output: Any) -> Sequence[str]:
        raise KeyError("schema")

    result = runtime.load(wasm("echo")).invoke({"x": 1}, output_validator=broken)
    assert result.outcome is Outcome.HOST_ERROR
    assert "KeyError" in result.message


def test_a_payload_that_is_not_json_is_the_callers_error(runtime: Runtime, wasm: Callable[[str], bytes]) -> None:
    echo = runtime.load(wasm("echo"))
    with pytest.raises(TypeError):
        echo.invoke({"when": object()})
    with pytest.raises(ValueError):
        echo.invoke({"price": float("nan")})


def test_loading_the_same_module_twice_returns_the_same_plugin(runtime: Runtime, wasm: Callable[[str], bytes]) -> None:
    assert runtime.load(wasm("echo")) is runtime.load(wasm("echo"))


def test_one_ticker_thread_per_runtime_stopped_by_close(wasm: Callable[[str], bytes]) -> None:
    def tickers() -> int:
        return sum(thread.name == "souk-sandbox-epoch" for thread in threading.enumerate())

    before = tickers()
    first, second = Runtime(max_concurrent_calls=2), Runtime(max_concurrent_calls=2)
    assert tickers() == before + 2
    plugin = first.load(wasm("echo"))
    first.close()
    second.close()
    assert tickers() == before
    with pytest.raises(RuntimeError, match="closed"):
        plugin.invoke({"a": 1})


def test_a_deadline_shorter_than_a_tick_still_gets_two_ticks(wasm: Callable[[str], bytes]) -> None:
    with Runtime(tick_ms=100, max_concurrent_calls=2) as runtime:
        echo = runtime.load(wasm("echo"))
        # 1 ms rounds up to one tick plus one: fast calls are never cut short by a tick landing mid-call.
        results = [echo.invoke({"n": n}, limits=Limits(deadline_ms=1)) for n in range(200)]
    assert all(result.ok for result in results)


def test_when_every_instance_slot_is_busy_the_call_fails_cleanly(wasm: Callable[[str], bytes]) -> None:
    with Runtime(max_concurrent_calls=1) as runtime:
        spin = runtime.load(wasm("infinite_loop"))
        echo = runtime.load(wasm("echo"))
        holder_outcomes: list[Outcome] = []

        def hold_the_only_slot() -> None:
            outcome = Outcome.INSTANTIATION_FAILED
            while outcome is Outcome.INSTANTIATION_FAILED:  # the main thread may hold the slot for a moment
                outcome = spin.invoke({}, limits=Limits(fuel=10**15, deadline_ms=500)).outcome
            holder_outcomes.append(outcome)

        holder = threading.Thread(target=hold_the_only_slot)
        holder.start()
        busy = echo.invoke({"a": 1})
        while busy.ok and holder.is_alive():
            time.sleep(0.005)
            busy = echo.invoke({"a": 1})
        holder.join()
        assert busy.outcome is Outcome.INSTANTIATION_FAILED, busy.message
        assert "concurrent" in busy.message
        assert holder_outcomes == [Outcome.TIMEOUT]
        assert echo.invoke({"a": 1}).ok


@pytest.mark.parametrize("bad", [b"NaN", b"Infinity", b"-Infinity"])
def test_non_standard_json_constants_in_the_output_are_invalid_json(
    runtime: Runtime, wasm: Callable[[str], bytes], bad: bytes
) -> None:
    result = runtime.load(wasm("echo")).invoke_json(bad)  # the echo plugin puts them in its output
    assert result.outcome is Outcome.INVALID_JSON
    assert result.output is None
    assert result.raw_output == b'{"echo":' + bad + b"}"
