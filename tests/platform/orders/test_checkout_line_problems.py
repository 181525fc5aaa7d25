"""Checkout and the cart preview decide on a line's problem code, never on the words shown for it.

The old pipeline branched on the message itself (``"Priced in" in problem``, ``problem.startswith("Only")``),
so rewording or translating a message changed which orders went through.
"""

from __future__ import annotations

import pytest

from souk_platform.catalog.models import Sku
from souk_platform.checkout import services as checkout_services
from souk_platform.checkout.services import LineProblem


def _price_in_usd(session, sku_id):
    session.get(Sku, sku_id).currency = "USD"
    session.commit()


def test_a_line_priced_in_another_currency_is_refused_with_the_line_named(flow, world, session):
    cart_id = flow.cart([(world.tea, 1), (world.cup, 1)])
    _price_in_usd(session, world.cup)
    preview = flow.get(f"/carts/{cart_id}").get_json()["preview"]
    assert preview["purchasable"] is False and preview["subtotal"] == 5000  # the USD line is left out
    assert preview["lines"][1]["problem"] == "Priced in USD, not the shop's CNY."
    before = flow.snapshot()
    r = flow.checkout(cart_id)
    assert r.status_code == 422 and r.get_json()["errors"] == {"lines.1.sku_id": ["Priced in USD, not the shop's CNY."]}
    assert flow.snapshot() == before


@pytest.fixture
def swapped_wording(monkeypatch):
    """Reworded messages, each carrying the phrase the other problem's old check looked for."""
    monkeypatch.setitem(
        checkout_services.LINE_PROBLEM_WORDING, LineProblem.SHORT_OF_STOCK, "Priced in stock: {available} left."
    )
    monkeypatch.setitem(
        checkout_services.LINE_PROBLEM_WORDING, LineProblem.WRONG_CURRENCY, "Only sold in {sku_currency}."
    )


def test_reworded_short_stock_line_is_still_out_of_stock_at_checkout(flow, world, swapped_wording):
    cart_id = flow.cart([(world.tea, 1), (world.cup, 6)])  # 5 cups on hand
    preview = flow.get(f"/carts/{cart_id}").get_json()["preview"]
    # The short line still counts in the preview's subtotal (5000 + 6 × 2000), under its new words.
    assert preview["subtotal"] == 17000 and preview["lines"][1]["problem"] == "Priced in stock: 5 left."
    r = flow.checkout(cart_id)
    assert r.status_code == 409 and r.get_json()["type"].endswith("/out-of-stock")


def test_reworded_currency_line_is_still_refused_and_left_out_of_the_preview(flow, world, session, swapped_wording):
    cart_id = flow.cart([(world.tea, 1), (world.cup, 1)])
    _price_in_usd(session, world.cup)
    preview = flow.get(f"/carts/{cart_id}").get_json()["preview"]
    assert preview["subtotal"] == 5000 and preview["lines"][1]["problem"] == "Only sold in USD."
    before = flow.snapshot()
    r = flow.checkout(cart_id)
    assert r.status_code == 422 and r.get_json()["errors"] == {"lines.1.sku_id": ["Only sold in USD."]}
    assert flow.snapshot() == before
