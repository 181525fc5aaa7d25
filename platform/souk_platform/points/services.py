"""Loyalty points (docs/architecture.md §6): a ``customer.points`` ledger account per customer, against the shop's
``shop.points_issued``, with FIFO lots (``PointsLot``) that carry the expiry.

Lock order, so concurrent spends, refunds and the expiry job never deadlock or overdraw: first the
ledger account rows in id order (``_lock_accounts`` or ``post_transfer``), then the customer's lots.
Ledger dedupe keys are global, so every key here starts with the shop id.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from souk_platform.core.ids import new_id
from souk_platform.core.money import POINTS
from souk_platform.customers.models import Customer
from souk_platform.db import DbSession
from souk_platform.events.services import emit
from souk_platform.ledger.models import LedgerAccount, LedgerEntry, LedgerTransfer
from souk_platform.ledger.services import Leg, balance_of, get_account, post_transfer
from souk_platform.points.errors import CustomerNotFound, InvalidPoints, NothingToRefund
from souk_platform.points.models import PointsLot
from souk_platform.points.policy import lot_expiry
from souk_platform.shops.models import Shop
from souk_platform.shops.services import get_shop, shop_setting

MAX_POINTS = 100_000_000  # one movement; a sanity bound, far above any real order
EXPIRING_SOON = dt.timedelta(days=30)

__all__ = [
    "account_entries_stmt",
    "adjust_points",
    "award_points",
    "deduct_points",
    "default_points_for_order",
    "describe_entries",
    "expire_due_points",
    "max_points_for",
    "points_account_id",
    "points_balance",
    "points_summary",
    "points_value",
    "refund_spent_points",
    "require_customer",
    "revoke_points",
    "spend_points",
]


def require_customer(session: DbSession, *, shop_id: str, customer_id: str) -> Customer:
    """The shop's customer, or ``CustomerNotFound`` (404) — also for another shop's customer."""
    customer = session.scalar(sa.select(Customer).where(Customer.shop_id == shop_id, Customer.id == customer_id))
    if customer is None:
        raise CustomerNotFound(f"No customer {customer_id} in this shop.")
    return customer


def default_points_for_order(shop: Shop, paid_amount: int, multiplier_percent: int = 100) -> int:
    """The built-in ``points.earn`` rule: ``points_per_yuan`` for every whole yuan (100 fen) paid, times the
    buyer's level multiplier (``multiplier_percent``/100, rounded down; docs/architecture.md §5.7)."""
    return max(paid_amount, 0) // 100 * int(shop_setting(shop, "points_per_yuan")) * multiplier_percent // 100


def points_value(shop: Shop, points: int) -> int:
    """What ``points`` are worth at checkout, in fen."""
    return points * int(shop_setting(shop, "points_value_fen"))


def max_points_for(shop: Shop, amount: int) -> int:
    """The most points an order of ``amount`` fen may spend: their value stays within ``points_max_ratio_bp``,
    and their number within ``points_max_per_order`` when the shop set one (docs/architecture.md §5.15)."""
    ratio_bp = int(shop_setting(shop, "points_max_ratio_bp"))
    most = max(amount, 0) * ratio_bp // (10_000 * int(shop_setting(shop, "points_value_fen")))
    cap = int(shop_setting(shop, "points_max_per_order"))
    return min(most, cap) if cap else most


def points_balance(session: DbSession, *, shop_id: str, customer_id: str) -> int:
    return balance_of(session, shop_id=shop_id, kind="customer.points", owner_id=customer_id, unit=POINTS)


def _key(shop_id: str, key: str) -> str:
    return f"{shop_id}:{key}"


def _check_points(points: int, *, field: str = "points") -> None:
    if isinstance(points, bool) or not isinstance(points, int) or not 1 <= points <= MAX_POINTS:
        raise InvalidPoints(
            f"Points must be a whole number from 1 to {MAX_POINTS}; got {points!r}.",
            errors={field: [f"Must be between 1 and {MAX_POINTS}."]},
        )


def _accounts(session: DbSession, shop_id: str, customer_id: str) -> tuple[LedgerAccount, LedgerAccount]:
    customer = get_account(session, shop_id=shop_id, kind="customer.points", owner_id=customer_id, unit=POINTS)
    issued = get_account(session, shop_id=shop_id, kind="shop.points_issued", owner_id=shop_id, unit=POINTS)
    return customer, issued


def _lock_accounts(session: DbSession, account: LedgerAccount, issued: LedgerAccount) -> LedgerAccount:
    """Hold both accounts' row locks, in id order like ``post_transfer``; return the refreshed customer account."""
    session.flush()
    locked = {
        a.id: a
        for a in session.scalars(
            sa.select(LedgerAccount)
            .where(LedgerAccount.id.in_([account.id, issued.id]))
            .order_by(LedgerAccount.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    }
    return locked[account.id]


def _payload(session: DbSession, shop_id: str, customer_id: str, **fields: Any) -> dict[str, Any]:
    return {
        "customer_id": customer_id,
        "balance": points_balance(session, shop_id=shop_id, customer_id=customer_id),
        **fields,
    }


def _new_lot(
    session: DbSession,
    *,
    shop: Shop,
    customer_id: str,
    points: int,
    reference: str | None,
    transfer: LedgerTransfer,
    now: dt.datetime,
) -> PointsLot:
    lot = PointsLot(
        shop_id=shop.id,
        customer_id=customer_id,
        points=points,
        remaining=points,
        expires_at=lot_expiry(shop, now),
        reference=reference,
        dedupe_key=transfer.dedupe_key or transfer.id,
        transfer_id=transfer.id,
        created_at=now,
    )
    session.add(lot)
    session.flush()
    return lot


def _consume_lots(session: DbSession, *, shop_id: str, customer_id: str, points: int) -> None:
    """Take ``points`` from the customer's unexpired lots, soonest expiry first (account already locked)."""
    lots = session.scalars(
        sa.select(PointsLot)
        .where(PointsLot.shop_id == shop_id, PointsLot.customer_id == customer_id, PointsLot.remaining > 0)
        .order_by(PointsLot.expires_at, PointsLot.created_at, PointsLot.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    left = points
    for lot in lots:
        if left == 0:
            break
        taken = min(lot.remaining, left)
        lot.remaining -= taken
        left -= taken
    if left:  # lots and ledger disagree: never silently lose track of points
        raise RuntimeError(f"points lots of {customer_id} are short by {left} of the ledger balance")
    session.flush()


def _expire_lots_of(session: DbSession, *, shop_id: str, customer_id: str, now: dt.datetime) -> int:
    """Expire the customer's lots past ``expires_at``: ledger back to the shop, ``points.expired`` per lot."""
    due = sa.select(PointsLot.id).where(
        PointsLot.shop_id == shop_id,
        PointsLot.customer_id == customer_id,
        PointsLot.remaining > 0,
        PointsLot.expires_at <= now,
    )
    if session.scalar(due.limit(1)) is None:
        return 0
    account, issued = _accounts(session, shop_id, customer_id)
    _lock_accounts(session, account, issued)
    lots = session.scalars(
        sa.select(PointsLot)
        .where(PointsLot.id.in_(due))
        .order_by(PointsLot.expires_at, PointsLot.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    expired = 0
    for lot in lots:
        points = lot.remaining
        if points <= 0:  # spent by a transaction that held the lock before us
            continue
        transfer = post_transfer(
            session,
            shop_id=shop_id,
            kind="points.expire",
            legs=[Leg(account, -points), Leg(issued, points)],
            reference=lot.id,
            dedupe_key=_key(shop_id, f"points.expire:{lot.id}"),
        )
        lot.remaining = 0
        expired += points
        session.flush()
        emit(
            session,
            shop_id=shop_id,
            type="points.expired",
            subject_type="customer",
            subject_id=customer_id,
            payload=_payload(
                session,
                shop_id,
                customer_id,
                points=points,
                lot_id=lot.id,
                expires_at=lot.expires_at.isoformat(),
                transfer_id=transfer.id,
            ),
        )
    return expired


def expire_due_points(session: DbSession, *, now: dt.datetime, batch: int = 200) -> int:
    """Expire every lot past its expiry in every shop, committing per customer; returns points expired.

    Safe to run twice or concurrently: an expired lot has ``remaining`` 0 and each lot's ledger
    transfer has its own dedupe key.
    """
    total = 0
    done: set[tuple[str, str]] = set()
    while True:
        pending = session.execute(
            sa.select(PointsLot.shop_id, PointsLot.customer_id)
            .where(PointsLot.remaining > 0, PointsLot.expires_at <= now)
            .group_by(PointsLot.shop_id, PointsLot.customer_id)
            .limit(batch)
        ).all()
        todo = [(shop_id, customer_id) for shop_id, customer_id in pending if (shop_id, customer_id) not in done]
        if not todo:
            return total
        for shop_id, customer_id in todo:
            total += _expire_lots_of(session, shop_id=shop_id, customer_id=customer_id, now=now)
            session.commit()
            done.add((shop_id, customer_id))


def award_points(
    session: DbSession,
    *,
    shop_id: str,
    customer_id: str,
    points: int,
    reason: str,
    reference: str | None,
    dedupe_key: str,
    now: dt.datetime,
    kind: str = "points.earn",
) -> int:
    """Credit ``points`` (> 0) as a new lot expiring under the shop's policy; returns the points credited.

    Idempotent by ``dedupe_key`` (per shop): a repeat returns the first award's points and writes nothing.
    """
    _check_points(points)
    key = _key(shop_id, dedupe_key)
    existing = session.scalar(sa.select(PointsLot).where(PointsLot.shop_id == shop_id, PointsLot.dedupe_key == key))
    if existing is not None:
        return existing.points
    shop = get_shop(session, shop_id)
    require_customer(session, shop_id=shop_id, customer_id=customer_id)
    account, issued = _accounts(session, shop_id, customer_id)
    transfer = post_transfer(
        session,
        shop_id=shop_id,
        kind=kind,
        legs=[Leg(issued, -points), Leg(account, points)],
        reference=reference,
        dedupe_key=key,
        memo=reason[:500],
    )
    lot = _new_lot(
        session, shop=shop, customer_id=customer_id, points=points, reference=reference, transfer=transfer, now=now
    )
    emit(
        session,
        shop_id=shop_id,
        type="points.awarded",
        subject_type="customer",
        subject_id=customer_id,
        payload=_payload(
            session,
            shop_id,
            customer_id,
            points=points,
            reason=reason,
            reference=reference,
            lot_id=lot.id,
            expires_at=lot.expires_at.isoformat(),
            transfer_id=transfer.id,
        ),
    )
    return points


def _debit(
    session: DbSession,
    *,
    shop_id: str,
    customer_id: str,
    points: int,
    kind: str,
    reference: str | None,
    key: str,
    memo: str | None,
) -> LedgerTransfer:
    """Move ``points`` from the customer back to the shop and consume lots; InsufficientFunds when short."""
    account, issued = _accounts(session, shop_id, customer_id)
    transfer = post_transfer(
        session,
        shop_id=shop_id,
        kind=kind,
        legs=[Leg(account, -points), Leg(issued, points)],
        reference=reference,
        dedupe_key=key,
        memo=memo,
    )
    _consume_lots(session, shop_id=shop_id, customer_id=customer_id, points=points)
    return transfer


def _existing_transfer(session: DbSession, key: str) -> LedgerTransfer | None:
    return session.scalar(sa.select(LedgerTransfer).where(LedgerTransfer.dedupe_key == key))


def spend_points(
    session: DbSession,
    *,
    shop_id: str,
    customer_id: str,
    points: int,
    order_id: str,
    now: dt.datetime,
    memo: str | None = None,
) -> None:
    """Spend ``points`` on ``order_id`` (lots soonest-to-expire first); idempotent per order.
    ``memo`` says what the order is for when it is not a checkout's (a points-mall redemption).

    Raises ``InsufficientFunds`` (422 insufficient-balance, nothing written) when the unexpired balance is short.
    """
    _check_points(points)
    key = _key(shop_id, f"points.spend:{order_id}")
    if _existing_transfer(session, key) is not None:
        return
    require_customer(session, shop_id=shop_id, customer_id=customer_id)
    _expire_lots_of(session, shop_id=shop_id, customer_id=customer_id, now=now)
    transfer = _debit(
        session,
        shop_id=shop_id,
        customer_id=customer_id,
        points=points,
        kind="points.spend",
        reference=order_id,
        key=key,
        memo=memo,
    )
    emit(
        session,
        shop_id=shop_id,
        type="points.spent",
        subject_type="customer",
        subject_id=customer_id,
        payload=_payload(session, shop_id, customer_id, points=points, order_id=order_id, transfer_id=transfer.id),
    )


def deduct_points(
    session: DbSession,
    *,
    shop_id: str,
    customer_id: str,
    points: int,
    reason: str,
    reference: str | None,
    dedupe_key: str,
    now: dt.datetime,
) -> int:
    """A merchant's manual deduction of ``points`` (> 0); InsufficientFunds beyond the balance. Idempotent by key."""
    _check_points(points)
    key = _key(shop_id, dedupe_key)
    if _existing_transfer(session, key) is not None:
        return points
    require_customer(session, shop_id=shop_id, customer_id=customer_id)
    _expire_lots_of(session, shop_id=shop_id, customer_id=customer_id, now=now)
    transfer = _debit(
        session,
        shop_id=shop_id,
        customer_id=customer_id,
        points=points,
        kind="points.adjust",
        reference=reference,
        key=key,
        memo=reason[:500],
    )
    emit(
        session,
        shop_id=shop_id,
        type="points.deducted",
        subject_type="customer",
        subject_id=customer_id,
        payload=_payload(
            session, shop_id, customer_id, points=points, reason=reason, reference=reference, transfer_id=transfer.id
        ),
    )
    return points


def revoke_points(
    session: DbSession,
    *,
    shop_id: str,
    customer_id: str,
    points: int,
    reference: str | None,
    dedupe_key: str,
    now: dt.datetime,
) -> int:
    """Claw back up to ``points`` earned points (on a refund), never more than the current balance.

    Returns the points actually revoked (0 when the balance is empty); idempotent by ``dedupe_key``.
    """
    _check_points(points)
    key = _key(shop_id, dedupe_key)
    existing = _existing_transfer(session, key)
    if existing is not None:
        return int(
            session.scalar(
                sa.select(sa.func.sum(LedgerEntry.amount)).where(
                    LedgerEntry.transfer_id == existing.id, LedgerEntry.amount > 0
                )
            )
            or 0
        )
    require_customer(session, shop_id=shop_id, customer_id=customer_id)
    _expire_lots_of(session, shop_id=shop_id, customer_id=customer_id, now=now)
    account, issued = _accounts(session, shop_id, customer_id)
    revoked = min(points, _lock_accounts(session, account, issued).balance)
    if revoked <= 0:
        return 0
    transfer = _debit(
        session,
        shop_id=shop_id,
        customer_id=customer_id,
        points=revoked,
        kind="points.revoke",
        reference=reference,
        key=key,
        memo=None,
    )
    emit(
        session,
        shop_id=shop_id,
        type="points.revoked",
        subject_type="customer",
        subject_id=customer_id,
        payload=_payload(
            session,
            shop_id,
            customer_id,
            points=revoked,
            requested=points,
            reference=reference,
            transfer_id=transfer.id,
        ),
    )
    return revoked


def _order_points(session: DbSession, *, shop_id: str, order_id: str, kind: str) -> tuple[int, str | None]:
    """(points moved to the customer's account by ``kind`` transfers of this order, that customer's id)."""
    rows = session.execute(
        sa.select(LedgerEntry.amount, LedgerAccount.owner_id)
        .join(LedgerTransfer, LedgerTransfer.id == LedgerEntry.transfer_id)
        .join(LedgerAccount, LedgerAccount.id == LedgerEntry.account_id)
        .where(
            LedgerTransfer.shop_id == shop_id,
            LedgerTransfer.kind == kind,
            LedgerTransfer.reference == order_id,
            LedgerAccount.kind == "customer.points",
        )
    ).all()
    return sum(amount for amount, _ in rows), (rows[0][1] if rows else None)


def refund_spent_points(
    session: DbSession, *, shop_id: str, order_id: str, points: int | None = None, now: dt.datetime
) -> int:
    """Give back points ``order_id`` spent: all that is left (``points=None``) or ``points`` of them, as a new lot.

    Returns the points given back (0 when the order spent none or all were already returned). Idempotent
    per (order, points returned so far): a duplicate of the same refund moves nothing twice.
    Asking for more than is left to return is 422.
    """
    spent, customer_id = _order_points(session, shop_id=shop_id, order_id=order_id, kind="points.spend")
    spent = -spent
    returned, _ = _order_points(session, shop_id=shop_id, order_id=order_id, kind="points.refund")
    left = spent - returned
    if points is None:
        points = left
        if points <= 0:
            return 0
    _check_points(points)
    if customer_id is None or points > left:
        raise NothingToRefund(
            f"Order {order_id} has {max(left, 0)} spent points left to give back; {points} were asked for.",
            errors={"points": [f"At most {max(left, 0)}."]},
        )
    shop = get_shop(session, shop_id)
    account, issued = _accounts(session, shop_id, customer_id)
    transfer = post_transfer(
        session,
        shop_id=shop_id,
        kind="points.refund",
        legs=[Leg(issued, -points), Leg(account, points)],
        reference=order_id,
        dedupe_key=_key(shop_id, f"points.refund:{order_id}:{returned}:{points}"),
    )
    if session.scalar(sa.select(PointsLot.id).where(PointsLot.transfer_id == transfer.id)) is not None:
        return points  # a concurrent twin already did it
    _new_lot(session, shop=shop, customer_id=customer_id, points=points, reference=order_id, transfer=transfer, now=now)
    emit(
        session,
        shop_id=shop_id,
        type="points.refunded",
        subject_type="customer",
        subject_id=customer_id,
        payload=_payload(session, shop_id, customer_id, points=points, order_id=order_id, transfer_id=transfer.id),
    )
    return points


def points_summary(session: DbSession, *, shop_id: str, customer_id: str, now: dt.datetime) -> dict[str, Any]:
    """Balance, its worth in fen, and the lots expiring within 30 days (soonest first)."""
    require_customer(session, shop_id=shop_id, customer_id=customer_id)
    shop = get_shop(session, shop_id)
    balance = points_balance(session, shop_id=shop_id, customer_id=customer_id)
    soon = session.scalars(
        sa.select(PointsLot)
        .where(
            PointsLot.shop_id == shop_id,
            PointsLot.customer_id == customer_id,
            PointsLot.remaining > 0,
            PointsLot.expires_at <= now + EXPIRING_SOON,
        )
        .order_by(PointsLot.expires_at, PointsLot.id)
        .limit(50)
    ).all()
    return {
        "customer_id": customer_id,
        "balance": balance,
        "value": points_value(shop, balance),
        "currency": shop.currency,
        "expiring_soon": soon,
        "expiring_soon_total": sum(lot.remaining for lot in soon),
    }


def points_account_id(session: DbSession, *, shop_id: str, customer_id: str) -> str | None:
    """The customer's points ledger account id, if they ever had points (reading never creates it)."""
    return session.scalar(
        sa.select(LedgerAccount.id).where(
            LedgerAccount.shop_id == shop_id,
            LedgerAccount.kind == "customer.points",
            LedgerAccount.owner_id == customer_id,
            LedgerAccount.unit == POINTS,
        )
    )


def adjust_points(
    session: DbSession, *, shop_id: str, customer_id: str, points: int, reason: str, now: dt.datetime
) -> dict[str, Any]:
    """A merchant's manual adjustment: positive awards a new lot, negative deducts (422 beyond the balance)."""
    require_customer(session, shop_id=shop_id, customer_id=customer_id)
    key = f"points.adjust:{new_id('padj')}"
    if points > 0:
        award_points(
            session,
            shop_id=shop_id,
            customer_id=customer_id,
            points=points,
            reason=reason,
            reference=None,
            dedupe_key=key,
            now=now,
            kind="points.adjust",
        )
    else:
        deduct_points(
            session,
            shop_id=shop_id,
            customer_id=customer_id,
            points=-points,
            reason=reason,
            reference=None,
            dedupe_key=key,
            now=now,
        )
    return {
        "customer_id": customer_id,
        "points": points,
        "reason": reason,
        "balance": points_balance(session, shop_id=shop_id, customer_id=customer_id),
    }


def account_entries_stmt(account_id: str | None) -> sa.Select[Any]:
    """Entries of one ledger account (none when the account was never created), for ``page_of``."""
    return sa.select(LedgerEntry).where(LedgerEntry.account_id == (account_id or ""))


def describe_entries(session: DbSession, entries: Sequence[LedgerEntry]) -> list[dict[str, Any]]:
    """Ledger entries with their transfer's kind, reference and memo, for history lists."""
    transfers = {
        t.id: t
        for t in session.scalars(
            sa.select(LedgerTransfer).where(LedgerTransfer.id.in_({e.transfer_id for e in entries}))
        )
    }
    return [
        {
            "id": e.id,
            "transfer_id": e.transfer_id,
            "amount": e.amount,
            "unit": e.unit,
            "kind": transfers[e.transfer_id].kind,
            "reference": transfers[e.transfer_id].reference,
            "memo": transfers[e.transfer_id].memo,
            "created_at": e.created_at,
        }
        for e in entries
    ]
