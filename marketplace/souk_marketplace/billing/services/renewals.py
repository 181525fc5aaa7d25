"""Renewing subscriptions at the end of each period (frozen when the shop cannot pay)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from souk_marketplace.billing import errors
from souk_marketplace.billing.models import AppSubscription
from souk_marketplace.billing.services.collecting import _collect, _new_charge
from souk_marketplace.billing.services.events import _emit, subscription_payload
from souk_marketplace.billing.services.states import _transition
from souk_marketplace.billing.services.terms import RENEWAL_RETRY, BillingTerms, _period_end_after, add_interval
from souk_platform.apps.models import App, Installation
from souk_platform.db import DbSession


def due_subscription_ids(session: DbSession, *, now: dt.datetime, limit: int = 500) -> list[str]:
    """Subscriptions whose period ended, whose trial ended, or whose frozen renewal is due for a retry."""
    stmt = (
        sa.select(AppSubscription.id)
        .where(
            sa.or_(
                sa.and_(AppSubscription.status == "active", AppSubscription.current_period_end <= now),
                sa.and_(AppSubscription.status == "trial", AppSubscription.trial_ends_at <= now),
                sa.and_(AppSubscription.status == "frozen", AppSubscription.retry_at <= now),
            )
        )
        .order_by(AppSubscription.id)
        .limit(limit)
    )
    return list(session.scalars(stmt))


def renew_subscription(session: DbSession, *, subscription_id: str, terms: BillingTerms, now: dt.datetime) -> str:
    """Bill the next period of one due subscription; return what happened.

    ``renewed``; ``frozen`` when the shop's balance cannot pay (the app sees "frozen"; retried after
    ``RENEWAL_RETRY``); ``cancelled`` when the app was uninstalled; ``skipped`` when nothing is due.
    """
    sub = session.scalar(
        sa.select(AppSubscription)
        .where(AppSubscription.id == subscription_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if sub is None or not _is_due(sub, now):
        return "skipped"
    installation = session.get(Installation, sub.installation_id)
    if installation is None or installation.status != "active":
        _transition(session, sub, "cancelled", now=now)
        return "cancelled"
    app = session.get(App, sub.app_id)
    assert app is not None
    if sub.status == "active" and sub.current_period_end is not None:
        start, anchor = sub.current_period_end, sub.billing_anchor or sub.current_period_end
        if add_interval(start, sub.interval, 1) <= now:
            start, anchor = now, now  # missed whole periods (the platform was down): start afresh, bill once
    elif sub.status == "trial" and sub.trial_ends_at is not None:
        start, anchor = sub.trial_ends_at, sub.trial_ends_at
    else:
        start, anchor = now, now  # a frozen subscription starts a new cycle the day it is paid
    end = _period_end_after(anchor, sub.interval, start)
    if sub.price > 0:
        charge = _new_charge(
            sub,
            app,
            kind="recurring",
            description=f"Plan {sub.plan_id}: {start:%Y-%m-%d} – {end:%Y-%m-%d}",
            amount=sub.price,
            list_price=sub.price,
            currency=sub.currency,
            status="pending",
            period_start=start,
            period_end=end,
            created_at=now,
        )
        try:
            with session.begin_nested():
                session.add(charge)
                _collect(session, charge, terms=terms, now=now, dedupe_key=f"app-period:{sub.id}:{start.isoformat()}")
        except errors.ShopBalanceTooLow:
            sub.failed_attempts += 1
            sub.retry_at = now + RENEWAL_RETRY
            if sub.status != "frozen":
                _transition(session, sub, "frozen", now=now)
            return "frozen"
    sub.billing_anchor, sub.current_period_start, sub.current_period_end = anchor, start, end
    sub.usage_used, sub.retry_at, sub.failed_attempts = 0, None, 0
    if sub.status != "active":
        _transition(session, sub, "active", now=now)
    else:
        session.flush()
        _emit(
            session,
            shop_id=sub.shop_id,
            installation_id=sub.installation_id,
            type="app.subscription.updated",
            payload=subscription_payload(sub),
        )
    return "renewed"


def _is_due(sub: AppSubscription, now: dt.datetime) -> bool:
    """Is ``sub`` (freshly locked) still due? A second runner of the same renewal then does nothing."""
    return (
        (sub.status == "active" and sub.current_period_end is not None and sub.current_period_end <= now)
        or (sub.status == "trial" and sub.trial_ends_at is not None and sub.trial_ends_at <= now)
        or (sub.status == "frozen" and sub.retry_at is not None and sub.retry_at <= now)
    )
