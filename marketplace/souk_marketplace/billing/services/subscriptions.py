"""Subscriptions: creating one, the merchant's approval or decline, activation, plan changes, cancelling."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from souk_marketplace.billing import errors
from souk_marketplace.billing.models import AppCharge, AppSubscription
from souk_marketplace.billing.services.collecting import _collect, _new_charge
from souk_marketplace.billing.services.events import _emit, subscription_payload
from souk_marketplace.billing.services.lookups import (
    _exemption,
    _installation,
    _live_subscription,
    find_billing_object,
    get_subscription,
    plans_of,
)
from souk_marketplace.billing.services.refunds import refund_charge
from souk_marketplace.billing.services.states import LIVE, _transition
from souk_marketplace.billing.services.terms import (
    BillingTerms,
    _check_currency,
    add_interval,
    check_return_url,
    prorate,
)
from souk_platform.apps.models import App, Installation
from souk_platform.db import DbSession
from souk_platform.shops.models import Shop


def create_subscription(
    session: DbSession,
    *,
    shop_id: str,
    installation_id: str,
    plan_id: str,
    return_url: str,
    terms: BillingTerms,
    now: dt.datetime,
) -> AppSubscription:
    """The app asks the merchant for a plan of its installed version; the result awaits approval.

    A free plan, or a shop exempt from paying for the app, is approved at once. Asking while another
    plan is live is a plan change (prorated when approved); an older unanswered request is replaced.
    """
    installation, app = _installation(session, shop_id=shop_id, installation_id=installation_id)
    check_return_url(return_url)
    plans = plans_of(session, installation)
    plan = next((p for p in plans if p.get("id") == plan_id), None)
    if plan is None:
        offered = ", ".join(p["id"] for p in plans if p.get("kind") != "one_time") or "none"
        detail = f"The installed version of {app.name} has no plan {plan_id!r}; its plans: {offered}."
        raise errors.UnknownPlan(detail, errors={"plan_id": [detail]})
    if plan["kind"] == "one_time":
        detail = f"{plan_id!r} is a one-time plan: create a one-time charge for it instead."
        raise errors.InvalidBillingRequest(detail, errors={"plan_id": [detail]})
    shop = session.get(Shop, shop_id)
    assert shop is not None
    currency = plan.get("currency", shop.currency)
    _check_currency(shop, currency, field="plan_id")
    # One request at a time per installation: concurrent requests queue on the installation's row.
    session.execute(sa.select(Installation.id).where(Installation.id == installation.id).with_for_update())
    live = _live_subscription(session, installation.id)
    if live is not None and live.plan_id == plan_id and live.status in ("trial", "active"):
        raise errors.AlreadyOnPlan(f"The shop is already on the plan {plan_id!r} ({live.status}).")
    for older in session.scalars(
        sa.select(AppSubscription).where(
            AppSubscription.installation_id == installation.id, AppSubscription.status == "pending"
        )
    ):
        _transition(session, older, "replaced", now=now)
    exemption = _exemption(session, app_id=app.id, shop_id=shop_id)
    price = int(plan.get("price", 0))
    sub = AppSubscription(
        shop_id=shop_id,
        app_id=app.id,
        installation_id=installation.id,
        developer_id=app.developer_id,
        plan_id=plan_id,
        kind=plan["kind"],
        price=0 if exemption else price,
        list_price=price,
        currency=currency,
        interval=plan.get("interval", "month"),
        trial_days=int(plan.get("trial_days", 0)),
        usage_cap=plan.get("usage_cap"),
        usage_used=0,
        return_url=return_url,
        status="pending",
        free_reason=exemption.reason if exemption else None,
        replaces_id=live.id if live else None,
        failed_attempts=0,
        created_at=now,
    )
    session.add(sub)
    session.flush()
    _emit(
        session,
        shop_id=shop_id,
        installation_id=installation.id,
        type="app.subscription.created",
        payload=subscription_payload(sub),
    )
    if exemption is not None or sub.kind == "free":
        sub.decided_at = now
        _activate(session, sub, app=app, terms=terms, now=now)
    return sub


def _ever_started(session: DbSession, sub: AppSubscription) -> bool:
    """Has the shop had a trial or a paid period of this app before (a trial is given once)?"""
    stmt = sa.select(sa.func.count()).where(
        AppSubscription.app_id == sub.app_id,
        AppSubscription.shop_id == sub.shop_id,
        AppSubscription.id != sub.id,
        sa.or_(AppSubscription.trial_ends_at.is_not(None), AppSubscription.billing_anchor.is_not(None)),
    )
    return bool(session.scalar(stmt))


def _activate(session: DbSession, sub: AppSubscription, *, app: App, terms: BillingTerms, now: dt.datetime) -> None:
    """Start an approved subscription: its trial, or its first period charged now, replacing the plan it changes."""
    old = session.get(AppSubscription, sub.replaces_id) if sub.replaces_id else None
    if old is not None:
        session.refresh(old, with_for_update=True)
        if old.status not in LIVE:
            old = None  # the old plan ended meanwhile: this is a fresh start
    if old is not None and old.status == "trial":
        trial_end: dt.datetime | None = old.trial_ends_at
    elif old is None and sub.trial_days and sub.price > 0 and not _ever_started(session, sub):
        trial_end = now + dt.timedelta(days=sub.trial_days)
    else:
        trial_end = None

    same_period = (
        old is not None
        and old.status == "active"
        and old.interval == sub.interval
        and old.current_period_start is not None
        and old.current_period_end is not None
        and old.current_period_end > now
    )
    if trial_end is not None and trial_end > now:
        if old is not None:
            _transition(session, old, "replaced", now=now)
        sub.trial_ends_at = trial_end
        sub.usage_used = old.usage_used if old is not None else 0
        _transition(session, sub, "trial", now=now)
        return

    if same_period:
        assert old is not None and old.current_period_start and old.current_period_end
        start, end, anchor = old.current_period_start, old.current_period_end, old.billing_anchor or now
        amount = prorate(sub.price, end - now, end - start)
        sub.usage_used = old.usage_used
        kind, description = "proration", f"Plan {sub.plan_id} for the rest of the period (plan change)"
    else:
        start, anchor = now, now
        end = add_interval(anchor, sub.interval, 1)
        amount, kind, description = sub.price, "recurring", f"Plan {sub.plan_id}"
    sub.billing_anchor, sub.current_period_start, sub.current_period_end = anchor, start, end
    _transition(session, sub, "active", now=now)
    if amount > 0 or sub.free_reason:
        charge = _new_charge(
            sub,
            app,
            kind=kind,
            description=f"{description}: {start:%Y-%m-%d} – {end:%Y-%m-%d}",
            amount=amount,
            list_price=amount if not sub.free_reason else prorate(sub.list_price, end - now, end - start),
            currency=sub.currency,
            status="pending",
            free_reason=sub.free_reason,
            period_start=start,
            period_end=end,
            decided_by=sub.decided_by,
            decided_at=now,
            created_at=now,
        )
        session.add(charge)
        _collect(session, charge, terms=terms, now=now)
    if old is not None:
        if old.status == "active":
            _credit_unused(session, old, now=now)
        _transition(session, old, "replaced", now=now)


def _credit_unused(session: DbSession, old: AppSubscription, *, now: dt.datetime) -> None:
    """Give the shop back the unused part of ``old``'s current period (a plan change), from its period charges."""
    if old.price <= 0 or old.current_period_start is None or old.current_period_end is None:
        return
    credit = prorate(old.price, old.current_period_end - now, old.current_period_end - old.current_period_start)
    paid = session.scalars(
        sa.select(AppCharge)
        .where(
            AppCharge.subscription_id == old.id,
            AppCharge.kind.in_(("recurring", "proration")),
            AppCharge.status == "succeeded",
            AppCharge.period_end == old.current_period_end,
        )
        .order_by(AppCharge.id.desc())
    )
    for charge in list(paid):
        take = min(credit, charge.amount - charge.refunded)
        if take > 0:
            refund_charge(
                session,
                charge=charge,
                amount=take,
                reason=f"Unused part of plan {old.plan_id} after a plan change",
                kind="proration_credit",
                created_by="platform",
                now=now,
            )
            credit -= take
        if credit <= 0:
            break


def approve(
    session: DbSession, *, shop_id: str, object_id: str, user_id: str, terms: BillingTerms, now: dt.datetime
) -> AppSubscription | AppCharge:
    """The shop owner approves a pending subscription or one-time charge: money moves (or the trial starts).

    Raises ``NotPending`` (409) when it was already decided, ``ShopBalanceTooLow`` (409, nothing moved)
    when the shop's balance cannot pay.
    """
    target = find_billing_object(session, shop_id=shop_id, object_id=object_id, lock=True)
    if target.status != "pending":
        raise errors.NotPending(f"{target.id} is already {target.status}.", status_now=target.status)
    installation = session.get(Installation, target.installation_id)
    if installation is None or installation.status != "active":
        raise errors.NotPending("The app was uninstalled; there is nothing to approve.", status_now=target.status)
    app = session.get(App, target.app_id)
    assert app is not None
    target.decided_by, target.decided_at = user_id, now
    if isinstance(target, AppSubscription):
        _activate(session, target, app=app, terms=terms, now=now)
    else:
        _collect(session, target, terms=terms, now=now)
    return target


def decline(session: DbSession, *, shop_id: str, object_id: str, user_id: str, now: dt.datetime) -> Any:
    """The shop owner declines: nothing is charged and the app stays limited (it can query the status)."""
    target = find_billing_object(session, shop_id=shop_id, object_id=object_id, lock=True)
    if target.status != "pending":
        raise errors.NotPending(f"{target.id} is already {target.status}.", status_now=target.status)
    target.decided_by, target.decided_at = user_id, now
    if isinstance(target, AppSubscription):
        _transition(session, target, "declined", now=now)
    else:
        target.status = "declined"
        session.flush()
    return target


def cancel_subscription(
    session: DbSession, *, shop_id: str, subscription_id: str, app_id: str | None, now: dt.datetime
) -> AppSubscription:
    """End a subscription now (by the app, or the merchant). Nothing is refunded automatically."""
    sub = get_subscription(session, shop_id=shop_id, subscription_id=subscription_id, app_id=app_id, lock=True)
    if sub.status not in ("pending", *LIVE):
        raise errors.SubscriptionNotChangeable(
            f"The subscription {sub.id} is already {sub.status}.", status_now=sub.status
        )
    _transition(session, sub, "cancelled", now=now)
    return sub
