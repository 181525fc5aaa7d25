"""Billing timers (in souk_marketplace.jobs.PERIODIC_JOBS). Each commits per item, so one failure loses no other."""

from __future__ import annotations

from flask import current_app

from souk_marketplace.billing import services
from souk_marketplace.billing.errors import PayoutBelowMinimum
from souk_platform.core.clock import app_now
from souk_platform.db import db


def bill_subscriptions() -> dict[str, int]:
    """Charge every subscription whose period or trial ended (a failed renewal freezes it; retried daily)."""
    terms, now = services.terms_from_config(current_app.config), app_now()
    outcomes: dict[str, int] = {}
    for subscription_id in services.due_subscription_ids(db.session, now=now):
        outcome = services.renew_subscription(db.session, subscription_id=subscription_id, terms=terms, now=now)
        db.session.commit()
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes


def release_earnings() -> int:
    """Move earnings whose hold period is over from held to available; return how many charges."""
    now = app_now()
    released = 0
    for charge_id in services.releasable_charge_ids(db.session, now=now):
        services.release_charge_earnings(db.session, charge_id=charge_id, now=now)
        db.session.commit()
        released += 1
    return released


def pay_out_developers() -> list[str]:
    """Weekly payouts: each developer with at least the minimum available is paid it all; return payout ids."""
    terms, now = services.terms_from_config(current_app.config), app_now()
    paid = []
    for developer_id, currency in services.due_payouts(db.session, minimum=terms.payout_minimum, now=now):
        try:
            payout = services.pay_out(
                db.session,
                developer_id=developer_id,
                currency=currency,
                trigger="schedule",
                minimum=terms.payout_minimum,
                now=now,
            )
        except PayoutBelowMinimum:  # the developer asked for a payout meanwhile
            db.session.rollback()
            continue
        db.session.commit()
        paid.append(payout.id)
    return paid


def issue_invoices() -> list[str]:
    """Issue last month's invoice for each shop billed lately (months in the shop's timezone)."""
    invoices = services.issue_due_invoices(db.session, now=app_now())
    db.session.commit()
    return [invoice.id for invoice in invoices]
