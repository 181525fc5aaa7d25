"""A provider's figures: earnings per currency and orders per state."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from souk_marketplace.service_market.models import ServiceOrder
from souk_platform.db import DbSession


@dataclass(frozen=True, slots=True)
class ProviderEarnings:
    currency: str
    earned: int  # released to the provider, after fees
    fees: int
    held: int  # still in escrow on open orders


def provider_earnings(session: DbSession, provider_user_id: str) -> list[ProviderEarnings]:
    """Per currency: what the provider's orders paid out (net of fees) and what they still hold."""
    rows = session.execute(
        sa.select(
            ServiceOrder.currency,
            sa.func.sum(ServiceOrder.released_total),
            sa.func.sum(ServiceOrder.fee_total),
            sa.func.sum(ServiceOrder.amount - ServiceOrder.released_total - ServiceOrder.refunded_total),
        )
        .where(ServiceOrder.provider_user_id == provider_user_id)
        .group_by(ServiceOrder.currency)
        .order_by(ServiceOrder.currency)
    )
    return [
        ProviderEarnings(currency, int(released or 0) - int(fees or 0), int(fees or 0), int(held or 0))
        for currency, released, fees, held in rows
    ]


def state_counts(session: DbSession, provider_user_id: str) -> dict[str, int]:
    rows = session.execute(
        sa.select(ServiceOrder.state, sa.func.count())
        .where(ServiceOrder.provider_user_id == provider_user_id)
        .group_by(ServiceOrder.state)
    )
    return {state: int(count) for state, count in rows}
