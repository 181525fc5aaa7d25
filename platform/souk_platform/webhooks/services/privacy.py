"""Privacy webhooks: ``customers.data_request``, ``customers.redact`` and ``shop.redact``."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from souk_platform.apps.models import Installation
from souk_platform.core.clock import Clock
from souk_platform.core.ids import new_id
from souk_platform.customers.models import CustomerIdentity
from souk_platform.customers.services import get_customer
from souk_platform.db import DbSession
from souk_platform.events.models import OutboxEvent
from souk_platform.events.services import emit
from souk_platform.orders.models import Order
from souk_platform.webhooks.services.dispatch import _rfc3339

SHOP_REDACT_AFTER = dt.timedelta(hours=48)
PRIVACY_REQUEST_KINDS = {"data_request": "customers.data_request", "redact": "customers.redact"}


def request_customer_privacy(
    session: DbSession, *, shop_id: str, customer_id: str, kind: str, clock: Clock
) -> dict[str, Any]:
    """Tell every app installed on the shop that a customer asks for their data (``kind="data_request"``)
    or for its erasure (``kind="redact"``). Returns the request as sent in ``data``.

    Souk only relays the request: each app answers or erases in its own systems.
    """
    customer = get_customer(session, shop_id=shop_id, customer_id=customer_id)
    orders = session.scalars(
        sa.select(Order.id).where(Order.shop_id == shop_id, Order.customer_id == customer.id).order_by(Order.id)
    )
    identities = session.execute(
        sa.select(CustomerIdentity.provider, CustomerIdentity.external_id)
        .where(CustomerIdentity.shop_id == shop_id, CustomerIdentity.customer_id == customer.id)
        .order_by(CustomerIdentity.id)
    )
    request = {
        "id": new_id("pvr"),
        "customer": {
            "id": customer.id,
            "email": customer.email,
            "phone": customer.phone,
            # An app may know the customer only by one of these (docs/architecture.md §5.6).
            "identities": [{"provider": p, "external_id": e} for p, e in identities],
        },
        "orders_requested": list(orders),
        "requested_at": _rfc3339(clock.now()),
        "version": 1,
    }
    emit(
        session,
        shop_id=shop_id,
        type=PRIVACY_REQUEST_KINDS[kind],
        subject_type="customer",
        subject_id=customer.id,
        payload=request,
    )
    return request


def send_due_shop_redactions(session: DbSession, *, now: dt.datetime, limit: int = 500) -> list[str]:
    """Emit ``shop.redact`` for each installation uninstalled at least 48 h ago that has not had one
    since it was uninstalled; return the installation ids. Safe to run any number of times."""
    already = sa.exists().where(
        OutboxEvent.type == "shop.redact",
        OutboxEvent.subject_id == Installation.id,
        OutboxEvent.created_at >= Installation.uninstalled_at,
    )
    due = list(
        session.scalars(
            sa.select(Installation)
            .where(
                Installation.status == "uninstalled",
                Installation.uninstalled_at <= now - SHOP_REDACT_AFTER,
                ~already,
            )
            .order_by(Installation.uninstalled_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
    for installation in due:
        emit(
            session,
            shop_id=installation.shop_id,
            type="shop.redact",
            subject_type="installation",
            subject_id=installation.id,
            payload={
                "id": new_id("pvr"),
                "shop_id": installation.shop_id,
                "installation_id": installation.id,
                "uninstalled_at": _rfc3339(installation.uninstalled_at or now),
                "version": 1,
            },
        )
    session.flush()
    return [i.id for i in due]
