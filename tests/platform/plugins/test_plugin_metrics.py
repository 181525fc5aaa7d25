"""Plugin invocations and checkouts, as counted on ``/metrics``."""

from __future__ import annotations

from plugin_modules import FIVE_OFF, TRAP
from scrape import sample


def _scrape(api) -> str:
    return api.client.get("/metrics").get_data(as_text=True)


def test_each_plugin_call_is_counted_by_point_and_outcome(api, shop):
    api.install(shop, FIVE_OFF, "cart.discounts", position=1)
    api.install(shop, TRAP, "cart.discounts", position=2)
    before = _scrape(api)

    for _ in range(3):
        assert api.checkout(shop).status_code == 201

    after = _scrape(api)
    name = "souk_plugin_invocations_total"
    ok = sample(after, name, point="cart.discounts", outcome="ok") - sample(
        before, name, point="cart.discounts", outcome="ok"
    )
    trap = sample(after, name, point="cart.discounts", outcome="trap") - sample(
        before, name, point="cart.discounts", outcome="trap"
    )
    assert (ok, trap) == (3, 3)


def test_checkouts_are_counted_by_outcome_with_their_latency(api, shop):
    before = _scrape(api)

    assert api.checkout(shop, quantity=1).status_code == 201
    assert api.checkout(shop, quantity=11).status_code == 409  # 10 on hand

    after = _scrape(api)

    def delta(name: str, **labels: str) -> float:
        return sample(after, name, **labels) - sample(before, name, **labels)

    assert delta("souk_checkouts_total", outcome="placed") == 1
    assert delta("souk_checkouts_total", outcome="out-of-stock") == 1
    assert delta("souk_checkout_seconds_count") == 2
