"""Developer earnings: the payout hold, balances, payouts and the earnings report."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

import sqlalchemy as sa

from souk_marketplace.billing import errors
from souk_marketplace.billing.models import AppCharge, ChargeRefund, Payout
from souk_marketplace.billing.services.accounts import _developer_account, _platform_account
from souk_marketplace.billing.services.lookups import get_charge
from souk_marketplace.billing.services.terms import AVAILABLE, HELD, PAYOUT_EVERY
from souk_platform.core.ids import new_id
from souk_platform.core.money import format_money
from souk_platform.db import DbSession
from souk_platform.ledger.models import LedgerAccount
from souk_platform.ledger.services import PLATFORM, Leg, post_transfer


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
