"""Money as integer minor units (fen) with a currency. Never floats."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

CURRENCIES = frozenset({"CNY", "USD", "EUR", "HKD"})
POINTS = "PTS"  # the ledger unit for loyalty points


@dataclass(frozen=True, slots=True)
class Money:
    amount: int
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.amount, int) or isinstance(self.amount, bool):
            raise TypeError("Money.amount must be an int in minor units")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def _same(self, other: Money) -> None:
        if other.currency != self.currency:
            raise ValueError(f"cannot mix {self.currency} and {other.currency}")


def to_minor_units(amount: str | Decimal) -> int:
    """A major-unit amount as people type it (``"12.5"``, ``"1,500"``) → minor units (1250, 150000).

    Raises ``ValueError`` unless it is a finite, non-negative number with at most two decimals.
    """
    try:
        value = amount if isinstance(amount, Decimal) else Decimal(amount.strip().replace(",", ""))
    except InvalidOperation as exc:
        raise ValueError(f"{amount!r} is not an amount") from exc
    if not value.is_finite() or value < 0 or value != value.quantize(Decimal("0.01")):
        raise ValueError(f"{amount!r} is not a non-negative amount with at most two decimals")
    return int(value * 100)


SYMBOLS = {"CNY": "¥", "USD": "$", "EUR": "€", "HKD": "HK$"}


def format_money(amount: int, currency: str) -> str:
    """``12345, "CNY"`` → ``"¥123.45"`` (minor units with two decimals; unknown currencies keep their code)."""
    sign = "-" if amount < 0 else ""
    units, cents = divmod(abs(amount), 100)
    symbol = SYMBOLS.get(currency)
    number = f"{units:,}.{cents:02d}"
    return f"{sign}{symbol}{number}" if symbol else f"{sign}{number} {currency}"


def percent_of(amount: int, basis_points: int) -> int:
    """``amount`` × ``basis_points``/10000, rounded half up, in integers (100 bp = 1 %)."""
    return (amount * basis_points + 5000) // 10000
