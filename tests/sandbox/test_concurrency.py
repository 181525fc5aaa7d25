"""Two shops' plugins run at the same time in threads: neither sees the other's input."""

from __future__ import annotations

import threading
from collections.abc import Callable

from souk_sandbox import Limits, Outcome, Runtime

CALLS_PER_SHOP = 300


def test_two_shops_running_concurrently_never_see_each_others_input(
    runtime: Runtime, wasm: Callable[[str], bytes]
) -> None:
    # Two separately loaded plugins (shop_b's copy carries an extra custom section, so another sha256).
    plugins = {"shop_a": runtime.load(wasm("echo")), "shop_b": runtime.load(wasm("echo") + b"\0\x06\x05shopb")}
    errors: list[str] = []
    barrier = threading.Barrier(3)

    def shop(shop_id: str) -> None:
        plugin = plugins[shop_id]
        barrier.wait()
        for n in range(CALLS_PER_SHOP):
            payload = {"shop": shop_id, "n": n, "secret": f"{shop_id}-{n}" * 50}
            result = plugin.invoke(payload)
            if result.output != {"echo": payload}:
                errors.append(f"{shop_id} call {n}: {result.outcome} {result.message} {result.raw_output[:80]!r}")

    def noisy_neighbour() -> None:
        spin = runtime.load(wasm("infinite_loop"))
        barrier.wait()
        for _ in range(20):
            if spin.invoke({}, limits=Limits(fuel=2_000_000)).outcome is not Outcome.FUEL_EXHAUSTED:
                errors.append("the hostile neighbour was not stopped by fuel")

    threads = [threading.Thread(target=shop, args=(s,)) for s in plugins] + [threading.Thread(target=noisy_neighbour)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert plugins["shop_a"] is not plugins["shop_b"]
