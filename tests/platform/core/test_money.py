"""Money as people read and type it: formatting minor units, parsing typed amounts."""

from __future__ import annotations

from decimal import Decimal

import pytest

from souk_platform.core.money import format_money, to_minor_units


@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [(12345, "CNY", "¥123.45"), (-5, "USD", "-$0.05"), (0, "EUR", "€0.00"), (100_000_000, "JPY", "1,000,000.00 JPY")],
)
def test_minor_units_are_shown_with_the_currency(amount, currency, shown):
    assert format_money(amount, currency) == shown


@pytest.mark.parametrize(("typed", "fen"), [("12.5", 1250), (" 1,500 ", 150_000), ("0", 0), (Decimal("0.01"), 1)])
def test_typed_amounts_become_minor_units(typed, fen):
    assert to_minor_units(typed) == fen


@pytest.mark.parametrize("typed", ["", "abc", "1.005", "-1", "NaN", "Infinity", "1e400x", Decimal("-0.5")])
def test_anything_else_is_refused(typed):
    with pytest.raises(ValueError):
        to_minor_units(typed)
