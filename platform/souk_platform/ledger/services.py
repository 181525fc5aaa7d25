"""Posting transfers and checking the ledger's invariant.

Account kinds and whether they may go negative live in one table, ``ACCOUNT_KINDS``: the platform's own
here, an extension's (the marketplace's earnings and escrow) added with ``register_account_kind``. A transfer
locks its accounts in id order (no deadlocks between transfers), checks that entries sum to zero
per unit and that no account that forbids it goes negative, then appends entries and updates the
cached balances — all in the caller's transaction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from souk_platform.core.errors import InsufficientFunds
from souk_platform.db import DbSession
from souk_platform.ledger.models import LedgerAccount, LedgerEntry, LedgerTransfer

PLATFORM = "platform"

# kind: may the balance go below zero?
ACCOUNT_KINDS: dict[str, bool] = {
    "customer.points": False,  # a customer's points
    "customer.stored_value": False,  # a customer's 储值金
    "shop.points_issued": True,  # the shop's side of every point it awards (liability)
    "shop.stored_value_issued": True,  # the shop's side of stored value sold or credited
    "shop.balance": False,  # the merchant's takings from paid orders
    "platform.payments_clearing": True,  # money arriving from the payment provider
}


def register_account_kind(kind: str, *, may_go_negative: bool) -> None:
    """Let an extension add an account kind; idempotent when registered again with the same sign rule."""
    if ACCOUNT_KINDS.get(kind, may_go_negative) != may_go_negative:
        raise ValueError(f"ledger account kind {kind!r} is already registered with the other sign rule")
    ACCOUNT_KINDS[kind] = may_go_negative


class LedgerImbalance(ValueError):
    """A transfer whose entries do not sum to zero per unit: a programming error, never user input."""


@dataclass(frozen=True, slots=True)
class Leg:
    account: LedgerAccount
    amount: int


def get_account(session: DbSession, *, shop_id: str, kind: str, owner_id: str, unit: str) -> LedgerAccount:
    """Return the account, creating it on first use (safe when two transactions race to create it)."""
    if kind not in ACCOUNT_KINDS:
        raise ValueError(f"unknown ledger account kind {kind!r}")
    stmt = sa.select(LedgerAccount).where(
        LedgerAccount.shop_id == shop_id,
        LedgerAccount.kind == kind,
        LedgerAccount.owner_id == owner_id,
        LedgerAccount.unit == unit,
    )
    found = session.scalar(stmt)
    if found is not None:
        return found
    account = LedgerAccount(
        shop_id=shop_id, kind=kind, owner_id=owner_id, unit=unit, allow_negative=ACCOUNT_KINDS[kind], balance=0
    )
    try:
        with session.begin_nested():
            session.add(account)
    except IntegrityError:
        found = session.scalar(stmt)
        if found is None:
            raise
        return found
    return account


def balance_of(session: DbSession, *, shop_id: str, kind: str, owner_id: str, unit: str) -> int:
    value = session.scalar(
        sa.select(LedgerAccount.balance).where(
            LedgerAccount.shop_id == shop_id,
            LedgerAccount.kind == kind,
            LedgerAccount.owner_id == owner_id,
            LedgerAccount.unit == unit,
        )
    )
    return int(value or 0)


def post_transfer(
    session: DbSession,
    *,
    shop_id: str,
    kind: str,
    legs: Sequence[Leg],
    reference: str | None = None,
    dedupe_key: str | None = None,
    memo: str | None = None,
) -> LedgerTransfer:
    """Move value between accounts atomically; return the existing transfer for a repeated ``dedupe_key``.

    Raises ``InsufficientFunds`` (nothing written) when an account that forbids it would go negative.
    """
    if dedupe_key:
        existing = session.scalar(sa.select(LedgerTransfer).where(LedgerTransfer.dedupe_key == dedupe_key))
        if existing is not None:
            return existing
    totals: dict[str, int] = defaultdict(int)
    for leg in legs:
        if not isinstance(leg.amount, int) or isinstance(leg.amount, bool):
            raise LedgerImbalance("ledger amounts are integers in minor units")
        totals[leg.account.unit] += leg.amount
    if not legs or any(totals.values()):
        raise LedgerImbalance(f"transfer {kind} does not balance: {dict(totals)}")

    session.flush()  # new accounts get their rows before we lock them
    ids = sorted({leg.account.id for leg in legs})
    locked = {
        a.id: a
        for a in session.scalars(
            sa.select(LedgerAccount)
            .where(LedgerAccount.id.in_(ids))
            .order_by(LedgerAccount.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    }
    change: dict[str, int] = defaultdict(int)
    for leg in legs:
        change[leg.account.id] += leg.amount
    for account_id, delta in change.items():
        account = locked[account_id]
        if not account.allow_negative and account.balance + delta < 0:
            raise InsufficientFunds(
                f"The {account.kind} balance is {account.balance} {account.unit}; {-delta} is needed.",
                account_kind=account.kind,
                balance=account.balance,
                needed=-delta,
                unit=account.unit,
            )

    transfer = LedgerTransfer(shop_id=shop_id, kind=kind, reference=reference, dedupe_key=dedupe_key, memo=memo)
    session.add(transfer)
    session.flush()
    session.add_all(
        LedgerEntry(transfer_id=transfer.id, account_id=leg.account.id, amount=leg.amount, unit=leg.account.unit)
        for leg in legs
        if leg.amount
    )
    for account_id, delta in change.items():
        locked[account_id].balance += delta
    session.flush()
    return transfer


def check_invariants(session: DbSession) -> list[str]:
    """Return every violated ledger invariant, in words (empty list = the ledger is sound).

    1. entries sum to zero per unit, overall and within each transfer;
    2. each cached balance equals the sum of its account's entries;
    3. no account that forbids it has a negative balance.
    """
    problems: list[str] = []
    for unit, total in session.execute(
        sa.select(LedgerEntry.unit, sa.func.sum(LedgerEntry.amount)).group_by(LedgerEntry.unit)
    ):
        if total:
            problems.append(f"entries in {unit} sum to {total}, not 0")
    for transfer_id, unit, total in session.execute(
        sa.select(LedgerEntry.transfer_id, LedgerEntry.unit, sa.func.sum(LedgerEntry.amount))
        .group_by(LedgerEntry.transfer_id, LedgerEntry.unit)
        .having(sa.func.sum(LedgerEntry.amount) != 0)
    ):
        problems.append(f"transfer {transfer_id} is unbalanced in {unit} by {total}")
    sums = (
        sa.select(LedgerEntry.account_id, sa.func.sum(LedgerEntry.amount).label("total"))
        .group_by(LedgerEntry.account_id)
        .subquery()
    )
    for account_id, kind, balance, total in session.execute(
        sa.select(LedgerAccount.id, LedgerAccount.kind, LedgerAccount.balance, sa.func.coalesce(sums.c.total, 0))
        .outerjoin(sums, sums.c.account_id == LedgerAccount.id)
        .where(LedgerAccount.balance != sa.func.coalesce(sums.c.total, 0))
    ):
        problems.append(f"account {account_id} ({kind}) caches {balance} but its entries sum to {total}")
    for account_id, kind, balance in session.execute(
        sa.select(LedgerAccount.id, LedgerAccount.kind, LedgerAccount.balance).where(
            LedgerAccount.allow_negative.is_(False), LedgerAccount.balance < 0
        )
    ):
        problems.append(f"account {account_id} ({kind}) is negative ({balance}) but forbids it")
    return problems
