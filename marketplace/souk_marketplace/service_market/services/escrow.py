"""The order's escrow account: releasing to the provider (less the platform fee) and refunding the shop."""

from __future__ import annotations

from souk_marketplace.service_market.models import ServiceOrder
from souk_platform.core.money import percent_of
from souk_platform.db import DbSession
from souk_platform.ledger.models import LedgerAccount
from souk_platform.ledger.services import PLATFORM, Leg, get_account, post_transfer


def _account(session: DbSession, order: ServiceOrder, kind: str) -> LedgerAccount:
    if kind == "escrow.service_order":
        return get_account(session, shop_id=order.shop_id, kind=kind, owner_id=order.id, unit=order.currency)
    if kind == "shop.balance":
        return get_account(session, shop_id=order.shop_id, kind=kind, owner_id=order.shop_id, unit=order.currency)
    if kind == "developer.earnings":
        return get_account(session, shop_id=PLATFORM, kind=kind, owner_id=order.provider_user_id, unit=order.currency)
    return get_account(session, shop_id=PLATFORM, kind=kind, owner_id=PLATFORM, unit=order.currency)


def _release(session: DbSession, order: ServiceOrder, amount: int, *, key: str) -> int:
    """Pay ``amount`` of escrow to the provider less the platform fee (rounded half up); return the fee."""
    if amount <= 0:
        return 0
    fee = percent_of(amount, order.fee_bps)
    post_transfer(
        session,
        shop_id=order.shop_id,
        kind="service_order.release",
        legs=[
            Leg(_account(session, order, "escrow.service_order"), -amount),
            Leg(_account(session, order, "developer.earnings"), amount - fee),
            Leg(_account(session, order, "platform.fees"), fee),
        ],
        reference=order.id,
        dedupe_key=f"service_order:{order.id}:{key}",
    )
    order.released_total += amount
    order.fee_total += fee
    return fee


def _refund(session: DbSession, order: ServiceOrder, amount: int, *, key: str) -> None:
    """Give ``amount`` of escrow back to the buyer's shop balance."""
    if amount <= 0:
        return
    post_transfer(
        session,
        shop_id=order.shop_id,
        kind="service_order.refund",
        legs=[
            Leg(_account(session, order, "escrow.service_order"), -amount),
            Leg(_account(session, order, "shop.balance"), amount),
        ],
        reference=order.id,
        dedupe_key=f"service_order:{order.id}:{key}",
    )
    order.refunded_total += amount
