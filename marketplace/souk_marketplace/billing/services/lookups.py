"""Looking billing objects up, tenant-scoped, and the statements the list endpoints page through."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

from souk_marketplace.billing import errors
from souk_marketplace.billing.models import AppCharge, AppSubscription, BillingExemption, ChargeRefund, Invoice
from souk_marketplace.billing.services.states import LIVE
from souk_platform.apps.models import App, AppVersion, Installation
from souk_platform.db import DbSession


def _installation(session: DbSession, *, shop_id: str, installation_id: str) -> tuple[Installation, App]:
    installation = session.get(Installation, installation_id)
    if installation is None or installation.shop_id != shop_id or installation.status != "active":
        raise errors.InstallationTokenRequired("The app is not installed on this shop.")
    app = session.get(App, installation.app_id)
    assert app is not None
    return installation, app


def plans_of(session: DbSession, installation: Installation) -> list[dict[str, Any]]:
    """The pricing plans of the app version the shop installed."""
    version = session.get(AppVersion, installation.app_version_id)
    return list((version.manifest or {}).get("pricing", [])) if version else []


def _exemption(session: DbSession, *, app_id: str, shop_id: str) -> BillingExemption | None:
    return session.scalar(
        sa.select(BillingExemption).where(BillingExemption.app_id == app_id, BillingExemption.shop_id == shop_id)
    )


def get_subscription(
    session: DbSession,
    *,
    shop_id: str,
    subscription_id: str,
    app_id: str | None = None,
    lock: bool = False,
) -> AppSubscription:
    """One of the shop's subscriptions (of ``app_id`` when given); anything else is a 404."""
    stmt = sa.select(AppSubscription).where(AppSubscription.id == subscription_id, AppSubscription.shop_id == shop_id)
    if app_id:
        stmt = stmt.where(AppSubscription.app_id == app_id)
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    sub = session.scalar(stmt)
    if sub is None:
        raise errors.SubscriptionNotFound(f"No app subscription {subscription_id} in this shop.")
    return sub


def get_charge(
    session: DbSession,
    *,
    charge_id: str,
    shop_id: str | None = None,
    app_id: str | None = None,
    lock: bool = False,
) -> AppCharge:
    """A charge of the shop (or of the app, for developer calls); anything else is a 404."""
    stmt = sa.select(AppCharge).where(AppCharge.id == charge_id)
    if shop_id:
        stmt = stmt.where(AppCharge.shop_id == shop_id)
    if app_id:
        stmt = stmt.where(AppCharge.app_id == app_id)
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    charge = session.scalar(stmt)
    if charge is None:
        raise errors.ChargeNotFound(f"No app charge {charge_id} here.")
    return charge


def find_billing_object(
    session: DbSession, *, shop_id: str, object_id: str, lock: bool = False
) -> AppSubscription | AppCharge:
    """The subscription or charge ``object_id`` names, in this shop (the approval page's subject)."""
    if object_id.startswith("asub_"):
        return get_subscription(session, shop_id=shop_id, subscription_id=object_id, lock=lock)
    return get_charge(session, shop_id=shop_id, charge_id=object_id, lock=lock)


def current_subscription(
    session: DbSession, *, installation_id: str
) -> tuple[str, AppSubscription | None, AppSubscription | None]:
    """(status, the subscription it describes, a plan request awaiting approval) for the app on this shop.

    A live subscription (trial, active, frozen) wins; otherwise the latest request speaks (pending,
    declined, cancelled); ``none`` when the app never asked.
    """
    subs = list(
        session.scalars(
            sa.select(AppSubscription)
            .where(AppSubscription.installation_id == installation_id)
            .order_by(AppSubscription.id.desc())
        )
    )
    pending = next((s for s in subs if s.status == "pending"), None)
    live = next((s for s in subs if s.status in LIVE), None)
    if live is not None:
        return live.status, live, pending
    latest = next((s for s in subs if s.status != "replaced"), None)
    if latest is None:
        return "none", None, None
    return latest.status, latest, pending


def _live_subscription(session: DbSession, installation_id: str, *, lock: bool = False) -> AppSubscription | None:
    stmt = sa.select(AppSubscription).where(
        AppSubscription.installation_id == installation_id, AppSubscription.status.in_(LIVE)
    )
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return session.scalar(stmt.order_by(AppSubscription.id.desc()).limit(1))


def subscriptions_stmt(shop_id: str, *, app_id: str | None = None, status: str | None = None) -> sa.Select[Any]:
    stmt = sa.select(AppSubscription).where(AppSubscription.shop_id == shop_id)
    if app_id:
        stmt = stmt.where(AppSubscription.app_id == app_id)
    if status:
        stmt = stmt.where(AppSubscription.status == status)
    return stmt


def charges_stmt(
    shop_id: str, *, app_id: str | None = None, kind: str | None = None, status: str | None = None
) -> sa.Select[Any]:
    stmt = sa.select(AppCharge).where(AppCharge.shop_id == shop_id)
    if app_id:
        stmt = stmt.where(AppCharge.app_id == app_id)
    if kind:
        stmt = stmt.where(AppCharge.kind == kind)
    if status:
        stmt = stmt.where(AppCharge.status == status)
    return stmt


def invoices_stmt(shop_id: str) -> sa.Select[Any]:
    return sa.select(Invoice).where(Invoice.shop_id == shop_id)


def refunds_of(session: DbSession, charge_ids: Iterable[str]) -> dict[str, list[ChargeRefund]]:
    """Refunds per charge, oldest first."""
    ids = list(charge_ids)
    found: dict[str, list[ChargeRefund]] = {charge_id: [] for charge_id in ids}
    if ids:
        stmt = sa.select(ChargeRefund).where(ChargeRefund.charge_id.in_(ids)).order_by(ChargeRefund.id)
        for refund in session.scalars(stmt):
            found[refund.charge_id].append(refund)
    return found


def get_invoice(session: DbSession, *, shop_id: str, invoice_id: str) -> Invoice:
    invoice = session.scalar(sa.select(Invoice).where(Invoice.id == invoice_id, Invoice.shop_id == shop_id))
    if invoice is None:
        raise errors.InvoiceNotFound(f"No invoice {invoice_id} in this shop.")
    return invoice


def app_names(session: DbSession, app_ids: Iterable[str]) -> dict[str, str]:
    ids = set(app_ids)
    if not ids:
        return {}
    return {app_id: name for app_id, name in session.execute(sa.select(App.id, App.name).where(App.id.in_(ids)))}
