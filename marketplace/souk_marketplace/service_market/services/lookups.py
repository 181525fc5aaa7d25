"""Finding service orders, their timeline, files and pending extension, tenant- and party-scoped."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from souk_marketplace.service_market.errors import ServiceOrderNotFound
from souk_marketplace.service_market.models import ServiceExtension, ServiceFile, ServiceOrder, ServiceOrderEvent
from souk_marketplace.service_market.services.parties import Party
from souk_marketplace.service_market.states import ADMIN, BUYER, DISPUTE_STATES, PROVIDER, SYSTEM
from souk_platform.core.versions import check_version
from souk_platform.db import DbSession
from souk_platform.ledger.services import balance_of


def get_order(
    session: DbSession, order_id: str, party: Party, *, lock: bool = False, expected_version: int | None = None
) -> ServiceOrder:
    """The order if ``party`` is one of its parties (admins see every order); 404 otherwise.

    With ``lock`` the row is locked for the rest of the transaction: every change takes it first, so
    two parties acting at once are applied one after the other.
    """
    stmt = sa.select(ServiceOrder).where(ServiceOrder.id == order_id)
    if party.role == BUYER:
        stmt = stmt.where(ServiceOrder.shop_id == party.shop_id)
    elif party.role == PROVIDER:
        stmt = stmt.where(ServiceOrder.provider_user_id == party.user_id)
    elif party.role not in (ADMIN, SYSTEM):
        raise ValueError(f"unknown party {party.role!r}")
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    order = session.scalar(stmt)
    if order is None:
        raise ServiceOrderNotFound(f"No service order {order_id} here.")
    check_version(order.version, expected_version)
    return order


def orders_stmt(
    *, shop_id: str | None = None, provider_user_id: str | None = None, state: str | None = None
) -> sa.Select[Any]:
    stmt = sa.select(ServiceOrder)
    if shop_id is not None:
        stmt = stmt.where(ServiceOrder.shop_id == shop_id)
    if provider_user_id is not None:
        stmt = stmt.where(ServiceOrder.provider_user_id == provider_user_id)
    if state:
        stmt = stmt.where(ServiceOrder.state == state)
    return stmt


def disputes_stmt() -> sa.Select[Any]:
    """Orders in a dispute, oldest first: the admin's queue."""
    return sa.select(ServiceOrder).where(ServiceOrder.state.in_(sorted(DISPUTE_STATES))).order_by(ServiceOrder.id.asc())


def timeline_stmt(order_id: str) -> sa.Select[Any]:
    return sa.select(ServiceOrderEvent).where(ServiceOrderEvent.order_id == order_id)


def timeline(session: DbSession, order: ServiceOrder) -> list[ServiceOrderEvent]:
    return list(session.scalars(timeline_stmt(order.id).order_by(ServiceOrderEvent.id.asc())))


def files_of(session: DbSession, order: ServiceOrder) -> list[ServiceFile]:
    return list(
        session.scalars(sa.select(ServiceFile).where(ServiceFile.order_id == order.id).order_by(ServiceFile.id.asc()))
    )


def pending_extension(session: DbSession, order: ServiceOrder) -> ServiceExtension | None:
    return session.scalar(
        sa.select(ServiceExtension).where(ServiceExtension.order_id == order.id, ServiceExtension.state == "pending")
    )


def escrow_balance(session: DbSession, order: ServiceOrder) -> int:
    """What the ledger holds for the order (equal to ``order.held``)."""
    return balance_of(
        session, shop_id=order.shop_id, kind="escrow.service_order", owner_id=order.id, unit=order.currency
    )
