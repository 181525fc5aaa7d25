"""Collecting a charge from the shop's balance: one ledger transfer with a dedupe key."""

from __future__ import annotations

import datetime as dt
from typing import Any

from souk_marketplace.billing import errors
from souk_marketplace.billing.models import AppCharge, AppSubscription
from souk_marketplace.billing.services.accounts import _developer_account, _platform_account, _shop_balance
from souk_marketplace.billing.services.events import _emit, charge_payload
from souk_marketplace.billing.services.terms import HELD, BillingTerms
from souk_platform.apps.models import App, Installation
from souk_platform.core.errors import InsufficientFunds
from souk_platform.core.money import format_money, percent_of
from souk_platform.db import DbSession
from souk_platform.ledger.services import Leg, post_transfer


def _collect(
    session: DbSession, charge: AppCharge, *, terms: BillingTerms, now: dt.datetime, dedupe_key: str | None = None
) -> None:
    """Take ``charge.amount`` from the shop's balance for the developer (held) and the platform fee.

    Raises ``ShopBalanceTooLow`` (nothing moved) when the balance cannot cover it. Emits charge.succeeded.
    """
    charge.fee = percent_of(charge.amount, terms.fee_bps)
    developer_share = charge.amount - charge.fee
    session.flush()  # the charge has its id before the transfer names it
    if charge.amount > 0:
        legs = [
            Leg(_shop_balance(session, charge.shop_id, charge.currency), -charge.amount),
            Leg(_developer_account(session, charge.developer_id, HELD, charge.currency), developer_share),
            Leg(_platform_account(session, "platform.fees", charge.currency), charge.fee),
        ]
        try:
            post_transfer(
                session,
                shop_id=charge.shop_id,
                kind="app.charge",
                legs=legs,
                reference=charge.id,
                dedupe_key=dedupe_key or f"app-charge:{charge.id}",
                memo=charge.description,
            )
        except InsufficientFunds as exc:
            balance = int(exc.extra.get("balance", 0))
            raise errors.ShopBalanceTooLow(
                f"The shop's balance is {format_money(balance, charge.currency)}; this charge needs "
                f"{format_money(charge.amount, charge.currency)}. Nothing was charged.",
                balance=balance,
                needed=charge.amount,
                currency=charge.currency,
            ) from exc
    charge.status = "succeeded"
    charge.paid_at = now
    charge.held_amount = developer_share
    charge.held_until = now + dt.timedelta(days=terms.hold_days)
    charge.released_at = None if developer_share > 0 else now
    session.flush()
    _emit(
        session,
        shop_id=charge.shop_id,
        installation_id=charge.installation_id,
        type="charge.succeeded",
        payload=charge_payload(charge),
    )


def _new_charge(sub_or_installation: AppSubscription | Installation, app: App, **fields: Any) -> AppCharge:
    sub = sub_or_installation if isinstance(sub_or_installation, AppSubscription) else None
    return AppCharge(
        shop_id=sub_or_installation.shop_id,
        app_id=app.id,
        installation_id=sub.installation_id if sub else sub_or_installation.id,
        developer_id=app.developer_id,
        subscription_id=sub.id if sub else None,
        refunded=0,
        **fields,
    )
