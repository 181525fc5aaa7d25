"""App billing rules: subscriptions and charges the merchant approves, usage, refunds, proration,
renewals, invoices, the payout hold and payouts. Plain functions: session, explicit arguments and ``now``.

Money rules (every movement is one ledger transfer with a dedupe key, so a retry never moves it twice):

- A charge of ``A`` moves shop.balance −A → developer.earnings_held +(A − fee) and platform.fees +fee, where
  ``fee = A × fee_bps / 10000`` rounded half up to the fen; the developer gets the rest, so the parts
  always sum to ``A`` exactly.
- A refund of ``R`` gives the shop +R back. The fee part reversed is cumulative and proportional:
  ``fee_share(refunded_after) − fee_share(refunded_before)`` with ``fee_share(x) = fee × x / A`` rounded
  half up, so refunding a charge in full returns exactly its fee. The developer's part comes out of the
  charge's own held earnings first, then the developer's other held earnings (newest first), then the
  available earnings.
- Proration on a plan change, measured in whole seconds of the current period: the unused part of the old
  plan, ``old price × remaining / period`` (half up), is credited back to the shop as a refund of the old
  plan's charges for the period; the new plan's part, ``new price × remaining / period`` (half up), is
  charged now when both plans have the same interval (the period stays); with a different interval the
  new plan starts a full period now at its full price. A trial in progress carries over to the new plan.
- Held earnings move to the developer's available earnings ``hold_days`` after the charge was paid.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from souk_marketplace.billing import errors
from souk_marketplace.billing.models import AppCharge, AppSubscription, BillingExemption, ChargeRefund, Invoice, Payout
from souk_platform.apps.models import App, AppVersion, Installation
from souk_platform.core.errors import InsufficientFunds
from souk_platform.core.ids import new_id
from souk_platform.core.money import CURRENCIES, format_money, percent_of
from souk_platform.core.states import Move, StateMachine
from souk_platform.db import DbSession, utcnow
from souk_platform.events.services import emit
from souk_platform.ledger.models import LedgerAccount
from souk_platform.ledger.services import PLATFORM, Leg, get_account, post_transfer
from souk_platform.shops.models import Shop

HELD, AVAILABLE = "developer.earnings_held", "developer.earnings"
RENEWAL_RETRY = dt.timedelta(days=1)  # a frozen subscription's renewal is tried again after this
PAYOUT_EVERY = dt.timedelta(days=7)  # the payout job pays each developer at most this often
MAX_AMOUNT = 10**12

# Subscription states and the moves between them (``SUBSCRIPTION_STATES``); every move goes through ``_transition``.
LIVE = ("trial", "active", "frozen")
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "pending": ("trial", "active", "declined", "replaced", "cancelled"),
    "trial": ("active", "frozen", "cancelled", "replaced"),
    "active": ("frozen", "cancelled", "replaced"),
    "frozen": ("active", "cancelled", "replaced"),
    "declined": (),
    "cancelled": (),
    "replaced": (),
}
APP_STATUSES = ("none", "pending", "trial", "active", "declined", "cancelled", "frozen")
CHARGE_KINDS = ("one_time", "recurring", "usage", "proration")
CHARGE_STATUSES = ("pending", "succeeded", "declined", "replaced")


# -- settings -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BillingTerms:
    """The platform's billing settings, read once from ``SOUK_*`` variables when the marketplace registers."""

    fee_bps: int = 2000  # the platform fee in basis points (2000 = 20 %)
    hold_days: int = 7  # earnings stay held this long after a charge is paid
    payout_minimum: int = 10_000  # minor units: payouts start at this much available


def terms_from_config(config: Mapping[str, Any]) -> BillingTerms:
    return BillingTerms(
        fee_bps=int(config.get("SOUK_MARKETPLACE_FEE_BPS", 2000)),
        hold_days=int(config.get("SOUK_PAYOUT_HOLD_DAYS", 7)),
        payout_minimum=int(config.get("SOUK_PAYOUT_MINIMUM", 10_000)),
    )


# -- small rules ----------------------------------------------------------------------------------


def add_interval(anchor: dt.datetime, interval: str, count: int) -> dt.datetime:
    """``anchor`` plus ``count`` months (or years), the day clamped to the month's end (Jan 31 → Feb 28)."""
    months = count * (12 if interval == "year" else 1)
    years, month_index = divmod(anchor.month - 1 + months, 12)
    year, month = anchor.year + years, month_index + 1
    return anchor.replace(year=year, month=month, day=min(anchor.day, calendar.monthrange(year, month)[1]))


def _period_end_after(anchor: dt.datetime, interval: str, start: dt.datetime) -> dt.datetime:
    """The first whole interval from ``anchor`` that ends after ``start``: periods never drift."""
    count = 1
    while (end := add_interval(anchor, interval, count)) <= start:
        count += 1
    return end


def prorate(price: int, remaining: dt.timedelta, period: dt.timedelta) -> int:
    """``price × remaining / period`` in whole seconds, rounded half up to the fen."""
    total = max(int(period.total_seconds()), 1)
    left = min(max(int(remaining.total_seconds()), 0), total)
    return (2 * price * left + total) // (2 * total)


def _fee_share(charge: AppCharge, refunded: int) -> int:
    """The part of the charge's fee that ``refunded`` minor units of it carry, rounded half up."""
    if charge.amount <= 0:
        return 0
    return (2 * charge.fee * refunded + charge.amount) // (2 * charge.amount)


def check_return_url(url: str, *, field: str = "return_url") -> str:
    """An absolute http(s) URL with a host: where the merchant goes after deciding (never ``javascript:``)."""
    problem = None
    if not url or len(url) > 2000 or any(ch.isspace() or ord(ch) < 32 for ch in url):
        problem = "Give an absolute http(s) URL of at most 2000 characters, without spaces."
    else:
        try:
            parts = urlsplit(url)
            parts.port  # noqa: B018 - raises ValueError on a bad port
        except ValueError:
            parts = None
        if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
            problem = "The return URL must be an absolute http:// or https:// URL."
        elif parts.username is not None or parts.password is not None:
            problem = "The return URL cannot contain a user name or password."
    if problem:
        raise errors.InvalidBillingRequest(problem, errors={field: [problem]})
    return url


def return_url_with(url: str, **params: str) -> str | None:
    """``url`` with ``params`` added to its query, or None when it is not a safe http(s) URL."""
    try:
        check_return_url(url)
    except errors.InvalidBillingRequest:
        return None
    parts = urlsplit(url)
    query = urlencode([*parse_qsl(parts.query, keep_blank_values=True), *params.items()])
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def _check_currency(shop: Shop, currency: str, *, field: str) -> None:
    if currency not in CURRENCIES or currency != shop.currency:
        detail = f"This shop pays in {shop.currency}; a charge in {currency} cannot be paid from its balance."
        raise errors.InvalidBillingRequest(detail, errors={field: [detail]})


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


# -- ledger accounts -----------------------------------------------------------------------------


def _shop_balance(session: DbSession, shop_id: str, currency: str) -> LedgerAccount:
    return get_account(session, shop_id=shop_id, kind="shop.balance", owner_id=shop_id, unit=currency)


def _developer_account(session: DbSession, developer_id: str, kind: str, currency: str) -> LedgerAccount:
    return get_account(session, shop_id=PLATFORM, kind=kind, owner_id=developer_id, unit=currency)


def _platform_account(session: DbSession, kind: str, currency: str) -> LedgerAccount:
    return get_account(session, shop_id=PLATFORM, kind=kind, owner_id=PLATFORM, unit=currency)


# -- events ---------------------------------------------------------------------------------------

_SUBSCRIPTION_FIELDS = (
    "id", "shop_id", "app_id", "installation_id", "plan_id", "kind", "status", "price", "list_price", "currency",
    "interval", "trial_days", "usage_cap", "usage_used", "free_reason", "replaces_id", "version",
)  # fmt: skip
_CHARGE_FIELDS = (
    "id", "shop_id", "app_id", "installation_id", "subscription_id", "kind", "description", "amount", "list_price",
    "currency", "status", "refunded", "free_reason", "version",
)  # fmt: skip


def subscription_payload(sub: AppSubscription) -> dict[str, Any]:
    """The subscription as webhooks carry it (with ``version``, RFC 3339 times)."""
    payload = {name: getattr(sub, name) for name in _SUBSCRIPTION_FIELDS}
    for name in ("trial_ends_at", "current_period_start", "current_period_end", "cancelled_at", "created_at"):
        payload[name] = _iso(getattr(sub, name))
    return payload


def charge_payload(charge: AppCharge) -> dict[str, Any]:
    payload = {name: getattr(charge, name) for name in _CHARGE_FIELDS}
    for name in ("period_start", "period_end", "paid_at", "created_at"):
        payload[name] = _iso(getattr(charge, name))
    return payload


def _emit(session: DbSession, *, shop_id: str, installation_id: str, type: str, payload: dict[str, Any]) -> None:
    # Addressed to the installation: the router hands it to that app's own webhook subscriptions only
    # (and to the shop's own), never to another app on the shop.
    emit(
        session,
        shop_id=shop_id,
        type=type,
        subject_type="installation",
        subject_id=installation_id,
        payload=payload,
    )


def _illegal(sub: AppSubscription, to: str, allowed: tuple[str, ...]) -> errors.SubscriptionNotChangeable:
    return errors.SubscriptionNotChangeable(
        f"The subscription {sub.id} is {sub.status}; it cannot become {to}.", status_now=sub.status
    )


def _record_move(session: DbSession, sub: AppSubscription, move: Move, *, now: dt.datetime) -> None:
    """Stamp a cancellation and emit app.subscription.updated (or .cancelled)."""
    to = move.to
    if to == "cancelled":
        sub.cancelled_at = now
    session.flush()
    event = "app.subscription.cancelled" if to == "cancelled" else "app.subscription.updated"
    _emit(
        session,
        shop_id=sub.shop_id,
        installation_id=sub.installation_id,
        type=event,
        payload=subscription_payload(sub),
    )


SUBSCRIPTION_STATES: StateMachine[AppSubscription] = StateMachine(
    TRANSITIONS, field="status", illegal=_illegal, record=_record_move
)


def _transition(session: DbSession, sub: AppSubscription, to: str, *, now: dt.datetime) -> None:
    """Move ``sub`` to ``to`` if the table allows it, and emit app.subscription.updated (or .cancelled)."""
    SUBSCRIPTION_STATES.transition(session, sub, to, now=now)


# -- looking things up --------------------------------------------------------------------------


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


# -- collecting money -----------------------------------------------------------------------------


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


# -- subscriptions ---------------------------------------------------------------------------------


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


# -- one-time charges and usage ----------------------------------------------------------------------


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


# -- refunds ----------------------------------------------------------------------------------------


def refund_charge(
    session: DbSession,
    *,
    charge: AppCharge,
    amount: int | None,
    reason: str,
    created_by: str,
    now: dt.datetime,
    kind: str = "refund",
    idempotency_key: str | None = None,
) -> ChargeRefund:
    """Give ``amount`` (default: all that is left) of a paid charge back to the shop; emits charge.refunded.

    The developer's part comes from the charge's held earnings, then other held earnings, then the available
    ones (``DeveloperBalanceTooLow`` when even those fall short); the fee part from the platform's fees.
    More than is left is ``OverRefund`` (422). A repeated ``idempotency_key`` returns the first refund.
    """
    session.refresh(charge, with_for_update=True)
    if idempotency_key:
        existing = session.scalar(
            sa.select(ChargeRefund).where(
                ChargeRefund.charge_id == charge.id, ChargeRefund.idempotency_key == idempotency_key
            )
        )
        if existing is not None:
            if amount is not None and existing.amount != amount:
                raise errors.IdempotencyConflict(f"The key {idempotency_key!r} was used for another refund.")
            return existing
    if charge.status != "succeeded":
        raise errors.ChargeNotRefundable(f"The charge {charge.id} is {charge.status}; there is nothing to refund.")
    left = charge.amount - charge.refunded
    amount = left if amount is None else amount
    if amount <= 0 or amount > left:
        detail = f"{format_money(left, charge.currency)} of this charge is left to refund."
        raise errors.OverRefund(detail, errors={"amount": [detail]}, refundable=left)
    fee_back = _fee_share(charge, charge.refunded + amount) - _fee_share(charge, charge.refunded)
    developer_back = amount - fee_back
    from_own_held = min(developer_back, charge.held_amount)
    from_other_held, taken_from = _take_other_held(session, charge, developer_back - from_own_held)
    from_available = developer_back - from_own_held - from_other_held
    refund = ChargeRefund(
        id=new_id("crf"),
        shop_id=charge.shop_id,
        charge_id=charge.id,
        app_id=charge.app_id,
        developer_id=charge.developer_id,
        kind=kind,
        amount=amount,
        currency=charge.currency,
        fee_reversed=fee_back,
        from_held=from_own_held + from_other_held,
        from_available=from_available,
        reason=reason,
        idempotency_key=idempotency_key,
        created_by=created_by,
        created_at=now,
    )
    session.add(refund)
    session.flush()
    legs = [
        Leg(_shop_balance(session, charge.shop_id, charge.currency), amount),
        Leg(_platform_account(session, "platform.fees", charge.currency), -fee_back),
        Leg(_developer_account(session, charge.developer_id, HELD, charge.currency), -refund.from_held),
        Leg(_developer_account(session, charge.developer_id, AVAILABLE, charge.currency), -from_available),
    ]
    try:
        post_transfer(
            session,
            shop_id=charge.shop_id,
            kind="app.refund",
            legs=legs,
            reference=charge.id,
            dedupe_key=f"app-refund:{refund.id}",
            memo=reason[:500],
        )
    except InsufficientFunds as exc:
        raise errors.DeveloperBalanceTooLow(
            f"The developer's available earnings cannot cover {format_money(from_available, charge.currency)} "
            "of this refund now (already paid out). Nothing was refunded.",
            needed=from_available,
        ) from exc
    charge.refunded += amount
    charge.held_amount -= from_own_held
    for other, taken in taken_from:
        other.held_amount -= taken
    session.flush()
    payload = charge_payload(charge) | {
        "refund": {"id": refund.id, "amount": amount, "kind": kind, "reason": reason, "created_at": _iso(now)}
    }
    _emit(
        session,
        shop_id=charge.shop_id,
        installation_id=charge.installation_id,
        type="charge.refunded",
        payload=payload,
    )
    return refund


def _take_other_held(session: DbSession, charge: AppCharge, needed: int) -> tuple[int, list[tuple[AppCharge, int]]]:
    """Plan how much of ``needed`` the developer's other held charges (newest first) give; lock them."""
    if needed <= 0:
        return 0, []
    candidates = list(
        session.execute(
            sa.select(AppCharge.id, AppCharge.held_amount)
            .where(
                AppCharge.developer_id == charge.developer_id,
                AppCharge.currency == charge.currency,
                AppCharge.id != charge.id,
                AppCharge.held_amount > 0,
                AppCharge.released_at.is_(None),
            )
            .order_by(AppCharge.id.desc())
        )
    )
    chosen, running = [], 0
    for charge_id, held in candidates:
        if running >= needed:
            break
        chosen.append(charge_id)
        running += held
    if not chosen:
        return 0, []
    # Lock in id order (as every locker does) and re-read: a release may have run meanwhile.
    locked = {
        c.id: c
        for c in session.scalars(
            sa.select(AppCharge)
            .where(AppCharge.id.in_(chosen))
            .order_by(AppCharge.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    }
    taken: list[tuple[AppCharge, int]] = []
    total = 0
    for charge_id in chosen:
        other = locked[charge_id]
        take = min(other.held_amount if other.released_at is None else 0, needed - total)
        if take > 0:
            taken.append((other, take))
            total += take
    return total, taken


# -- renewals --------------------------------------------------------------------------------------------


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


# -- free access for crowdfunding backers --------------------------------------------------------------


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


# -- invoices ---------------------------------------------------------------------------------------------


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def month_bounds(timezone: str, year: int, month: int) -> tuple[dt.datetime, dt.datetime]:
    """The UTC instants where a calendar month begins and ends in ``timezone``."""
    zone = _zone(timezone)
    start = dt.datetime(year, month, 1, tzinfo=zone)
    end = dt.datetime(year + month // 12, month % 12 + 1, 1, tzinfo=zone)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


def issue_invoice(session: DbSession, *, shop_id: str, year: int, month: int, now: dt.datetime) -> Invoice | None:
    """The shop's invoice for a calendar month of its timezone: every app charge paid and refund made in it.

    Issued once (a second call returns the first); None when the month had no charges or refunds;
    ``MonthNotOver`` (409) before the month has ended.
    """
    shop = session.get(Shop, shop_id)
    if shop is None:
        raise errors.InvoiceNotFound(f"No shop {shop_id}.")
    start, end = month_bounds(shop.timezone, year, month)
    if end > now:
        raise errors.MonthNotOver(f"{year:04d}-{month:02d} has not ended yet in {shop.timezone}.")
    label = f"{year:04d}-{month:02d}"
    existing = session.scalar(sa.select(Invoice).where(Invoice.shop_id == shop_id, Invoice.month == label))
    if existing is not None:
        return existing
    charges = list(
        session.scalars(
            sa.select(AppCharge)
            .where(
                AppCharge.shop_id == shop_id,
                AppCharge.status == "succeeded",
                AppCharge.paid_at >= start,
                AppCharge.paid_at < end,
            )
            .order_by(AppCharge.paid_at, AppCharge.id)
        )
    )
    refunds = list(
        session.scalars(
            sa.select(ChargeRefund)
            .where(ChargeRefund.shop_id == shop_id, ChargeRefund.created_at >= start, ChargeRefund.created_at < end)
            .order_by(ChargeRefund.created_at, ChargeRefund.id)
        )
    )
    if not charges and not refunds:
        return None
    names = app_names(session, [c.app_id for c in charges] + [r.app_id for r in refunds])
    zone = _zone(shop.timezone)
    lines: list[dict[str, Any]] = []
    totals: dict[str, dict[str, int]] = defaultdict(lambda: {"charged": 0, "refunded": 0})
    for charge in charges:
        assert charge.paid_at is not None
        lines.append(
            {
                "at": charge.paid_at.isoformat(),
                "date": charge.paid_at.astimezone(zone).date().isoformat(),
                "type": "charge",
                "kind": charge.kind,
                "app": names.get(charge.app_id, charge.app_id),
                "description": charge.description + (f" ({charge.free_reason})" if charge.free_reason else ""),
                "reference": charge.id,
                "amount": charge.amount,
                "currency": charge.currency,
            }
        )
        totals[charge.currency]["charged"] += charge.amount
    for refund in refunds:
        lines.append(
            {
                "at": refund.created_at.isoformat(),
                "date": refund.created_at.astimezone(zone).date().isoformat(),
                "type": "refund",
                "kind": refund.kind,
                "app": names.get(refund.app_id, refund.app_id),
                "description": refund.reason,
                "reference": refund.charge_id,
                "amount": -refund.amount,
                "currency": refund.currency,
            }
        )
        totals[refund.currency]["refunded"] += refund.amount
    lines.sort(key=lambda line: (line["at"], line["reference"]))
    sequence = int(session.scalar(sa.select(sa.func.max(Invoice.sequence)).where(Invoice.shop_id == shop_id)) or 0) + 1
    invoice = Invoice(
        shop_id=shop_id,
        number=f"{year:04d}{month:02d}-{sequence:04d}",
        sequence=sequence,
        month=label,
        timezone=shop.timezone,
        period_start=start,
        period_end=end,
        lines=lines,
        totals=[
            {"currency": currency, **sums, "net": sums["charged"] - sums["refunded"]}
            for currency, sums in sorted(totals.items())
        ],
        created_at=now,
    )
    try:
        with session.begin_nested():
            session.add(invoice)
    except IntegrityError:  # issued meanwhile by another run
        return session.scalar(sa.select(Invoice).where(Invoice.shop_id == shop_id, Invoice.month == label))
    return invoice


def issue_due_invoices(session: DbSession, *, now: dt.datetime) -> list[Invoice]:
    """Issue last month's invoice (in each shop's timezone) for every shop billed lately; return the new ones."""
    since = now - dt.timedelta(days=62)
    shop_ids = set(session.scalars(sa.select(AppCharge.shop_id).where(AppCharge.paid_at >= since).distinct()))
    shop_ids |= set(session.scalars(sa.select(ChargeRefund.shop_id).where(ChargeRefund.created_at >= since).distinct()))
    issued = []
    for shop_id in sorted(shop_ids):
        shop = session.get(Shop, shop_id)
        if shop is None:
            continue
        local = now.astimezone(_zone(shop.timezone))
        year, month = (local.year, local.month - 1) if local.month > 1 else (local.year - 1, 12)
        done = sa.select(Invoice.id).where(Invoice.shop_id == shop_id, Invoice.month == f"{year:04d}-{month:02d}")
        if session.scalar(done) is not None:
            continue
        invoice = issue_invoice(session, shop_id=shop_id, year=year, month=month, now=now)
        if invoice is not None:
            issued.append(invoice)
    return issued


# -- earnings and payouts ------------------------------------------------------------------------------


def releasable_charge_ids(session: DbSession, *, now: dt.datetime, limit: int = 500) -> list[str]:
    stmt = (
        sa.select(AppCharge.id)
        .where(AppCharge.released_at.is_(None), AppCharge.held_until <= now, AppCharge.status == "succeeded")
        .order_by(AppCharge.held_until, AppCharge.id)
        .limit(limit)
    )
    return list(session.scalars(stmt))


def release_charge_earnings(session: DbSession, *, charge_id: str, now: dt.datetime) -> int:
    """Move a charge's held earnings to the developer's available earnings once its hold is over."""
    charge = get_charge(session, charge_id=charge_id, lock=True)
    if charge.released_at is not None or charge.held_until is None or charge.held_until > now:
        return 0
    amount = charge.held_amount
    if amount > 0:
        post_transfer(
            session,
            shop_id=PLATFORM,
            kind="app.earnings_release",
            legs=[
                Leg(_developer_account(session, charge.developer_id, HELD, charge.currency), -amount),
                Leg(_developer_account(session, charge.developer_id, AVAILABLE, charge.currency), amount),
            ],
            reference=charge.id,
            dedupe_key=f"app-release:{charge.id}",
        )
    charge.held_amount, charge.released_at = 0, now
    session.flush()
    return amount


def pay_out(
    session: DbSession, *, developer_id: str, currency: str, trigger: str, minimum: int, now: dt.datetime
) -> Payout:
    """Pay all of a developer's available earnings in ``currency`` (a Payout row, status paid).

    ``PayoutBelowMinimum`` (409) when less than ``minimum`` is available.
    """
    account = _developer_account(session, developer_id, AVAILABLE, currency)
    session.flush()
    locked = session.scalar(
        sa.select(LedgerAccount)
        .where(LedgerAccount.id == account.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert locked is not None
    amount = locked.balance
    if amount < max(minimum, 1):
        raise errors.PayoutBelowMinimum(
            f"{format_money(amount, currency)} is available; payouts start at {format_money(minimum, currency)}.",
            available=amount,
            minimum=minimum,
        )
    payout_id = new_id("pyo")
    transfer = post_transfer(
        session,
        shop_id=PLATFORM,
        kind="developer.payout",
        legs=[Leg(locked, -amount), Leg(_platform_account(session, "platform.payouts_clearing", currency), amount)],
        reference=payout_id,
        dedupe_key=f"developer-payout:{payout_id}",
    )
    payout = Payout(
        id=payout_id,
        developer_id=developer_id,
        amount=amount,
        currency=currency,
        status="paid",
        reference="SOUK-" + payout_id.removeprefix("pyo_")[-12:].upper(),
        trigger=trigger,
        transfer_id=transfer.id,
        created_at=now,
    )
    session.add(payout)
    session.flush()
    return payout


def due_payouts(session: DbSession, *, minimum: int, now: dt.datetime) -> list[tuple[str, str]]:
    """(developer id, currency) with at least ``minimum`` available and no payout in the last week."""
    accounts = session.execute(
        sa.select(LedgerAccount.owner_id, LedgerAccount.unit).where(
            LedgerAccount.shop_id == PLATFORM, LedgerAccount.kind == AVAILABLE, LedgerAccount.balance >= minimum
        )
    )
    due = []
    for developer_id, currency in accounts:
        recent = session.scalar(
            sa.select(sa.func.count()).where(
                Payout.developer_id == developer_id,
                Payout.currency == currency,
                Payout.created_at > now - PAYOUT_EVERY,
            )
        )
        if not recent:
            due.append((developer_id, currency))
    return sorted(due)


@dataclass(frozen=True, slots=True)
class Balances:
    currency: str
    held: int
    available: int
    paid_out: int


def developer_balances(session: DbSession, *, developer_id: str) -> list[Balances]:
    """Held, available and paid-out earnings per currency (from the ledger and the payout history)."""
    held: dict[str, int] = defaultdict(int)
    available: dict[str, int] = defaultdict(int)
    for kind, unit, balance in session.execute(
        sa.select(LedgerAccount.kind, LedgerAccount.unit, LedgerAccount.balance).where(
            LedgerAccount.shop_id == PLATFORM,
            LedgerAccount.owner_id == developer_id,
            LedgerAccount.kind.in_((HELD, AVAILABLE)),
        )
    ):
        (held if kind == HELD else available)[unit] += balance
    paid = {
        currency: int(total or 0)
        for currency, total in session.execute(
            sa.select(Payout.currency, sa.func.sum(Payout.amount))
            .where(Payout.developer_id == developer_id)
            .group_by(Payout.currency)
        )
    }
    currencies = sorted(set(held) | set(available) | set(paid))
    return [Balances(c, held[c], available[c], int(paid.get(c) or 0)) for c in currencies]


@dataclass(frozen=True, slots=True)
class EarningsLine:
    """Sums over charges: what shops paid, the platform's fee, refunds, and what the developer keeps."""

    key: str  # an app id or a month ("2026-03", UTC)
    currency: str
    gross: int
    fees: int
    refunded: int
    net: int


def earnings_report(
    session: DbSession, *, developer_id: str, app_id: str | None = None, by: str = "app"
) -> list[EarningsLine]:
    """The developer's earnings per app (``by="app"``) or per UTC month of payment (``by="month"``).

    Refunds count in the month they were made. ``net`` = gross − fees − refunds + fee reversed.
    """
    charge_filter = [AppCharge.developer_id == developer_id, AppCharge.status == "succeeded"]
    refund_filter = [ChargeRefund.developer_id == developer_id]
    if app_id:
        charge_filter.append(AppCharge.app_id == app_id)
        refund_filter.append(ChargeRefund.app_id == app_id)
    sums: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for charge_app, paid_at, currency, amount, fee in session.execute(
        sa.select(AppCharge.app_id, AppCharge.paid_at, AppCharge.currency, AppCharge.amount, AppCharge.fee).where(
            *charge_filter
        )
    ):
        key = charge_app if by == "app" else f"{paid_at:%Y-%m}"
        row = sums[(key, currency)]
        row[0] += amount
        row[1] += fee
    for refund_app, created_at, currency, amount, fee_back in session.execute(
        sa.select(
            ChargeRefund.app_id, ChargeRefund.created_at, ChargeRefund.currency, ChargeRefund.amount,
            ChargeRefund.fee_reversed,
        ).where(*refund_filter)
    ):  # fmt: skip
        key = refund_app if by == "app" else f"{created_at:%Y-%m}"
        row = sums[(key, currency)]
        row[2] += amount
        row[3] += fee_back
    lines = [
        EarningsLine(key, currency, gross, fees, refunded, gross - fees - refunded + fee_back)
        for (key, currency), (gross, fees, refunded, fee_back) in sums.items()
    ]
    return sorted(lines, key=lambda line: (line.key, line.currency), reverse=by == "month")


def payouts_of(session: DbSession, *, developer_id: str, limit: int = 200) -> list[Payout]:
    stmt = sa.select(Payout).where(Payout.developer_id == developer_id).order_by(Payout.id.desc()).limit(limit)
    return list(session.scalars(stmt))


def developer_charges(session: DbSession, *, developer_id: str, app_id: str, limit: int = 200) -> list[AppCharge]:
    """An app's charges, newest first (the developer's console)."""
    stmt = (
        sa.select(AppCharge)
        .where(AppCharge.developer_id == developer_id, AppCharge.app_id == app_id)
        .order_by(AppCharge.id.desc())
        .limit(limit)
    )
    return list(session.scalars(stmt))
