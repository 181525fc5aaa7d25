from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest

from souk_sandbox import Limits, Outcome, Runtime


def test_base_limits_are_the_production_values() -> None:
    limits = Limits()
    assert (limits.module_bytes, limits.input_bytes, limits.output_bytes) == (256 * 1024, 128 * 1024, 20 * 1024)
    assert limits.memory_bytes == 16 * 1024 * 1024
    assert (limits.instances, limits.tables, limits.memories) == (1, 1, 1)
    assert limits.fuel == 11_000_000
    assert limits.deadline_ms == 100


def test_limits_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        Limits().fuel = 1  # type: ignore[misc]


@pytest.mark.parametrize("lines", [0, 1, 200])
def test_carts_up_to_200_lines_get_the_base_values(lines: int) -> None:
    assert Limits.for_lines(lines) == Limits()


def test_larger_carts_scale_fuel_input_output_and_deadline_but_not_memory() -> None:
    base, large = Limits(), Limits.for_lines(1000)
    assert large.fuel == base.fuel * 5
    assert large.input_bytes == base.input_bytes * 5
    assert large.output_bytes == base.output_bytes * 5
    assert large.deadline_ms == base.deadline_ms * 5
    assert large.memory_bytes == base.memory_bytes
    assert large.module_bytes == base.module_bytes


def test_the_scaled_deadline_stops_at_the_pipeline_budget() -> None:
    assert Limits.for_lines(100_000).deadline_ms == 2000
    assert Limits.for_lines(100_000).fuel == 11_000_000 * 500


def test_scaling_rounds_up() -> None:
    assert Limits.for_lines(201).fuel == -(-11_000_000 * 201 // 200)
    assert Limits.for_lines(201).fuel > Limits().fuel


def test_non_positive_limits_are_refused() -> None:
    with pytest.raises(ValueError, match="fuel"):
        Limits(fuel=0)


def test_a_large_cart_that_fails_under_base_limits_passes_under_scaled_ones(
    runtime: Runtime, wasm: Callable[[str], bytes]
) -> None:
    checksum = runtime.load(wasm("checksum"))
    cart = {"lines": [{"sku": f"sku-{i:05d}", "qty": 1, "price": 1999, "note": "x" * 300} for i in range(600)]}

    refused = checksum.invoke(cart)
    assert refused.outcome is Outcome.INPUT_TOO_LARGE
    assert "131,072" in refused.message

    accepted = checksum.invoke(cart, limits=Limits.for_lines(len(cart["lines"])))
    assert accepted.outcome is Outcome.OK, accepted.message
    assert accepted.output == {"ok": True}
    assert accepted.fuel_consumed > 0
