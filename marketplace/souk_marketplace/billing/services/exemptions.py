"""Free access for the shops that crowdfunded an app."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from souk_marketplace.billing.models import AppCharge, AppSubscription, BillingExemption
from souk_marketplace.billing.services.collecting import _collect
from souk_marketplace.billing.services.events import _emit, subscription_payload
from souk_marketplace.billing.services.lookups import _exemption
from souk_marketplace.billing.services.states import LIVE
from souk_marketplace.billing.services.subscriptions import _activate
from souk_marketplace.billing.services.terms import BillingTerms
from souk_platform.apps.models import App
from souk_platform.db import DbSession, utcnow


def exempt_shops(
    session: DbSession,
    *,
    app_id: str,
    shop_ids: Sequence[str],
    reason: str,
    now: dt.datetime | None = None,
) -> list[BillingExemption]:
    """Let ``shop_ids`` use ``app_id`` for free ("free for backers"); safe to call again.

    Their pending subscriptions and one-time charges for the app are approved at price 0 at once, live
    subscriptions cost 0 from their next period, and every later request is approved at 0 automatically.
    """
    now = now or utcnow()
    reason = reason.strip()[:200] or "free for backers"
    app = session.get(App, app_id)
    if app is None:
        raise ValueError(f"no app {app_id}")
    exemptions = []
    for shop_id in sorted(set(shop_ids)):
        exemption = _exemption(session, app_id=app_id, shop_id=shop_id)
        if exemption is None:
            exemption = BillingExemption(app_id=app_id, shop_id=shop_id, reason=reason, created_at=now)
            try:
                with session.begin_nested():
                    session.add(exemption)
            except IntegrityError:  # a concurrent call made it
                exemption = _exemption(session, app_id=app_id, shop_id=shop_id)
                assert exemption is not None
        exemptions.append(exemption)
        _make_free(session, app=app, shop_id=shop_id, reason=exemption.reason, now=now)
    return exemptions


def _make_free(session: DbSession, *, app: App, shop_id: str, reason: str, now: dt.datetime) -> None:
    terms = BillingTerms()  # only zero amounts move here: the fee and hold settings do not matter
    # Pending requests first: approving a plan change still credits the unused part of the paid plan.
    for status in (("pending",), LIVE):
        subs = session.scalars(
            sa.select(AppSubscription)
            .where(
                AppSubscription.app_id == app.id,
                AppSubscription.shop_id == shop_id,
                AppSubscription.status.in_(status),
                AppSubscription.free_reason.is_(None),
            )
            .order_by(AppSubscription.id)
            .with_for_update()
        )
        for sub in list(subs):
            if sub.status not in status:
                continue  # replaced by a plan change approved just above
            sub.price, sub.free_reason = 0, reason
            if sub.status == "pending":
                sub.decided_at = now
                _activate(session, sub, app=app, terms=terms, now=now)
                continue
            session.flush()
            _emit(
                session,
                shop_id=shop_id,
                installation_id=sub.installation_id,
                type="app.subscription.updated",
                payload=subscription_payload(sub),
            )
    charges = session.scalars(
        sa.select(AppCharge)
        .where(
            AppCharge.app_id == app.id,
            AppCharge.shop_id == shop_id,
            AppCharge.status == "pending",
            AppCharge.kind == "one_time",
        )
        .with_for_update()
    )
    for charge in list(charges):
        charge.amount, charge.free_reason, charge.decided_at = 0, reason, now
        _collect(session, charge, terms=terms, now=now)
