"""One-time charges and usage records against a subscription's cap."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from souk_marketplace.billing import errors
from souk_marketplace.billing.models import AppCharge
from souk_marketplace.billing.services.collecting import _collect, _new_charge
from souk_marketplace.billing.services.lookups import _exemption, _installation, _live_subscription
from souk_marketplace.billing.services.terms import MAX_AMOUNT, BillingTerms, _check_currency, check_return_url
from souk_platform.core.money import format_money
from souk_platform.db import DbSession
from souk_platform.shops.models import Shop


def create_one_time_charge(
    session: DbSession,
    *,
    shop_id: str,
    installation_id: str,
    name: str,
    amount: int,
    currency: str,
    return_url: str,
    terms: BillingTerms,
    now: dt.datetime,
) -> AppCharge:
    """The app asks for a one-time payment; it waits for the merchant (approved at 0 for an exempt shop)."""
    installation, app = _installation(session, shop_id=shop_id, installation_id=installation_id)
    check_return_url(return_url)
    if not 1 <= amount <= MAX_AMOUNT:
        raise errors.InvalidBillingRequest("The amount must be at least 1.", errors={"amount": ["At least 1."]})
    shop = session.get(Shop, shop_id)
    assert shop is not None
    _check_currency(shop, currency, field="currency")
    exemption = _exemption(session, app_id=app.id, shop_id=shop_id)
    charge = _new_charge(
        installation,
        app,
        kind="one_time",
        description=name,
        amount=0 if exemption else amount,
        list_price=amount,
        currency=currency,
        status="pending",
        free_reason=exemption.reason if exemption else None,
        return_url=return_url,
        created_at=now,
    )
    session.add(charge)
    session.flush()
    if exemption is not None:
        charge.decided_at = now
        _collect(session, charge, terms=terms, now=now)
    return charge


def record_usage(
    session: DbSession,
    *,
    shop_id: str,
    installation_id: str,
    description: str,
    amount: int,
    idempotency: str,
    terms: BillingTerms,
    now: dt.datetime,
) -> tuple[AppCharge, bool]:
    """Charge ``amount`` of usage against the live usage subscription's cap; return (charge, created).

    The same ``idempotency`` key returns the first charge (created False) and moves nothing; with another
    amount or description it is 422. Over the cap approved for the period is ``UsageCapExceeded`` (409).
    """
    installation, app = _installation(session, shop_id=shop_id, installation_id=installation_id)
    sub = _live_subscription(session, installation.id, lock=True)  # serialises usage against one cap
    if sub is None or sub.kind != "usage" or sub.status not in ("trial", "active"):
        state = f"is {sub.status}" if sub is not None and sub.kind == "usage" else "has no usage-based plan"
        raise errors.NoUsageSubscription(f"The app {state} on this shop; usage cannot be charged.")
    existing = session.scalar(
        sa.select(AppCharge).where(AppCharge.subscription_id == sub.id, AppCharge.idempotency_key == idempotency)
    )
    if existing is not None:
        if (existing.list_price, existing.description) != (amount, description):
            raise errors.IdempotencyConflict(
                f"The idempotency key {idempotency!r} was used for another usage charge; use a new key.",
                errors={"idempotency": ["Already used for a different usage charge."]},
            )
        return existing, False
    cap = int(sub.usage_cap or 0)
    left = cap - sub.usage_used
    if amount > left:
        raise errors.UsageCapExceeded(
            f"The merchant approved usage up to {format_money(cap, sub.currency)} per period; "
            f"{format_money(sub.usage_used, sub.currency)} is used and {format_money(max(left, 0), sub.currency)} "
            f"is left, less than {format_money(amount, sub.currency)}.",
            cap=cap,
            used=sub.usage_used,
            remaining=max(left, 0),
        )
    charge = _new_charge(
        sub,
        app,
        kind="usage",
        description=description,
        amount=0 if sub.free_reason else amount,
        list_price=amount,
        currency=sub.currency,
        status="pending",
        free_reason=sub.free_reason,
        idempotency_key=idempotency,
        period_start=sub.current_period_start,
        period_end=sub.current_period_end,
        created_at=now,
    )
    session.add(charge)
    _collect(session, charge, terms=terms, now=now)
    sub.usage_used += amount
    session.flush()
    return charge, True
