"""The payment-provider adapter: a ``PaymentProvider`` Protocol and the one implementation we ship,
``TestPaymentProvider``, which talks to no one. A real PSP adapter would implement the same two
calls (start a payment; turn a verified callback into an outcome) behind the same services.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, Protocol

Outcome = Literal["succeeded", "failed"]


class PaymentProvider(Protocol):
    name: str

    def start(self, *, payment_id: str, amount: int, currency: str) -> str:
        """Ask the provider to collect ``amount``; return the provider's reference for the payment."""
        ...

    def outcome_of(self, callback: Mapping[str, Any]) -> Outcome:
        """The outcome a (verified) provider callback reports."""
        ...


class TestPaymentProvider:
    """A stand-in PSP for tests and the demo: nothing leaves the process, and the outcome of each
    payment is whatever the caller posts to ``POST /payments/{id}/callback``."""

    name = "test"

    def start(self, *, payment_id: str, amount: int, currency: str) -> str:
        return f"test_{payment_id}"

    def outcome_of(self, callback: Mapping[str, Any]) -> Outcome:
        outcome = callback["outcome"]
        if outcome not in ("succeeded", "failed"):
            raise ValueError(f"unknown test payment outcome {outcome!r}")
        return "succeeded" if outcome == "succeeded" else "failed"


PROVIDERS: dict[str, PaymentProvider] = {"test": TestPaymentProvider()}
