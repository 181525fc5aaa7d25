"""Stored value 储值金 and order cashback, kept in the ledger in the shop's currency.

Accounts: ``customer.stored_value`` (owner: the customer) against ``shop.stored_value_issued`` (owner:
the shop). A top-up is paid in cash, so the same transfer also moves the money from
``platform.payments_clearing`` (owner "test-psp", the test payment provider) into ``shop.balance``.
Ledger dedupe keys are global, so every key here starts with the shop id.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from souk_platform.core.errors import Unprocessable
from souk_platform.core.ids import new_id
from souk_platform.core.money import percent_of
from souk_platform.db import DbSession
from souk_platform.events.services import emit
from souk_platform.ledger.models import LedgerAccount, LedgerEntry, LedgerTransfer
from souk_platform.ledger.services import Leg, balance_of, get_account, post_transfer
from souk_platform.points.services import describe_entries, require_customer
from souk_platform.shops.models import Shop
from souk_platform.shops.services import get_shop, shop_setting
from souk_platform.stored_value.errors import InvalidAmount, RefundExceedsSpent
from souk_platform.stored_value.models import CashbackSchedule

MAX_TOP_UP = 10_000_000  # fen (100,000 yuan) per top-up
MAX_AMOUNT = 1_000_000_000_000  # fen; a sanity bound for spends and refunds
PAYMENT_PROVIDER = "test-psp"

__all__ = [
    "cancel_cashback",
    "cashback_stmt",
    "credit_due_cashback",
    "default_cashback_for_order",
    "grant_stored_value",
    "reduce_cashback",
    "refund_stored_value",
    "schedule_cashback",
    "sell_stored_value",
    "spend_stored_value",
    "stored_value_balance",
    "stored_value_summary",
    "top_up",
]


def _key(shop_id: str, key: str) -> str:
    return f"{shop_id}:{key}"


def _check_amount(amount: int, *, field: str = "amount", highest: int = MAX_AMOUNT) -> None:
    if isinstance(amount, bool) or not isinstance(amount, int) or not 1 <= amount <= highest:
        raise InvalidAmount(
            f"The amount must be a whole number of minor units from 1 to {highest}; got {amount!r}.",
            errors={field: [f"Must be between 1 and {highest}."]},
        )


def _customer_account(session: DbSession, shop: Shop, customer_id: str) -> LedgerAccount:
    return get_account(session, shop_id=shop.id, kind="customer.stored_value", owner_id=customer_id, unit=shop.currency)


def _issued_account(session: DbSession, shop: Shop) -> LedgerAccount:
    return get_account(session, shop_id=shop.id, kind="shop.stored_value_issued", owner_id=shop.id, unit=shop.currency)


def stored_value_balance(session: DbSession, *, shop_id: str, customer_id: str) -> int:
    """The customer's stored value, in the shop currency's minor units."""
    shop = get_shop(session, shop_id)
    return balance_of(session, shop_id=shop_id, kind="customer.stored_value", owner_id=customer_id, unit=shop.currency)


def _payload(session: DbSession, shop: Shop, customer_id: str, **fields: Any) -> dict[str, Any]:
    return {
        "customer_id": customer_id,
        "currency": shop.currency,
        "balance": stored_value_balance(session, shop_id=shop.id, customer_id=customer_id),
        **fields,
    }


def top_up(
    session: DbSession, *, shop_id: str, customer_id: str, amount: int, reference: str | None, dedupe_key: str
) -> LedgerTransfer:
    """Sell ``amount`` (1..10,000,000 fen) of stored value paid in cash; idempotent by ``dedupe_key`` (per shop)."""
    _check_amount(amount, highest=MAX_TOP_UP)
    key = _key(shop_id, dedupe_key)
    existing = session.scalar(sa.select(LedgerTransfer).where(LedgerTransfer.dedupe_key == key))
    if existing is not None:
        return existing
    shop = get_shop(session, shop_id)
    require_customer(session, shop_id=shop_id, customer_id=customer_id)
    clearing = get_account(
        session, shop_id=shop_id, kind="platform.payments_clearing", owner_id=PAYMENT_PROVIDER, unit=shop.currency
    )
    takings = get_account(session, shop_id=shop_id, kind="shop.balance", owner_id=shop_id, unit=shop.currency)
    transfer = post_transfer(
        session,
        shop_id=shop_id,
        kind="stored_value.top_up",
        legs=[
            Leg(clearing, -amount),
            Leg(takings, amount),
            Leg(_issued_account(session, shop), -amount),
            Leg(_customer_account(session, shop, customer_id), amount),
        ],
        reference=reference,
        dedupe_key=key,
    )
    emit(
        session,
        shop_id=shop_id,
        type="stored_value.topped_up",
        subject_type="customer",
        subject_id=customer_id,
        payload=_payload(session, shop, customer_id, amount=amount, reference=reference, transfer_id=transfer.id),
    )
    return transfer


def grant_stored_value(
    session: DbSession, *, shop_id: str, customer_id: str, amount: int, reference: str | None, dedupe_key: str
) -> LedgerTransfer:
    """Give ``amount`` fen of stored value the customer did not pay for (a benefit package's gift, §5.10).

    Issued like cashback (``shop.stored_value_issued`` → ``customer.stored_value``), no cash moves.
    Idempotent by ``dedupe_key`` (per shop); emits ``stored_value.granted``.
    """
    _check_amount(amount, highest=MAX_TOP_UP)
    key = _key(shop_id, dedupe_key)
    existing = session.scalar(sa.select(LedgerTransfer).where(LedgerTransfer.dedupe_key == key))
    if existing is not None:
        return existing
    shop = get_shop(session, shop_id)
    require_customer(session, shop_id=shop_id, customer_id=customer_id)
    transfer = post_transfer(
        session,
        shop_id=shop_id,
        kind="stored_value.grant",
        legs=[Leg(_issued_account(session, shop), -amount), Leg(_customer_account(session, shop, customer_id), amount)],
        reference=reference,
        dedupe_key=key,
    )
    emit(
        session,
        shop_id=shop_id,
        type="stored_value.granted",
        subject_type="customer",
        subject_id=customer_id,
        payload=_payload(session, shop, customer_id, amount=amount, reference=reference, transfer_id=transfer.id),
    )
    return transfer


def spend_stored_value(session: DbSession, *, shop_id: str, customer_id: str, amount: int, order_id: str) -> None:
    """Pay ``amount`` of ``order_id`` from stored value; idempotent per order.

    Raises ``InsufficientFunds`` (422 insufficient-balance, nothing written) when the balance is short.
    """
    _check_amount(amount)
    key = _key(shop_id, f"stored_value.spend:{order_id}")
    if session.scalar(sa.select(LedgerTransfer.id).where(LedgerTransfer.dedupe_key == key)) is not None:
        return
    shop = get_shop(session, shop_id)
    require_customer(session, shop_id=shop_id, customer_id=customer_id)
    transfer = post_transfer(
        session,
        shop_id=shop_id,
        kind="stored_value.spend",
        legs=[Leg(_customer_account(session, shop, customer_id), -amount), Leg(_issued_account(session, shop), amount)],
        reference=order_id,
        dedupe_key=key,
    )
    emit(
        session,
        shop_id=shop_id,
        type="stored_value.spent",
        subject_type="customer",
        subject_id=customer_id,
        payload=_payload(session, shop, customer_id, amount=amount, order_id=order_id, transfer_id=transfer.id),
    )


def _order_movements(session: DbSession, *, shop: Shop, customer_id: str, order_id: str, kind: str) -> int:
    """Sum of what ``kind`` transfers of ``order_id`` moved into the customer's account (negative for spends)."""
    return int(
        session.scalar(
            sa.select(sa.func.coalesce(sa.func.sum(LedgerEntry.amount), 0))
            .join(LedgerTransfer, LedgerTransfer.id == LedgerEntry.transfer_id)
            .join(LedgerAccount, LedgerAccount.id == LedgerEntry.account_id)
            .where(
                LedgerTransfer.shop_id == shop.id,
                LedgerTransfer.kind == kind,
                LedgerTransfer.reference == order_id,
                LedgerAccount.kind == "customer.stored_value",
                LedgerAccount.owner_id == customer_id,
            )
        )
        or 0
    )


def refund_stored_value(
    session: DbSession, *, shop_id: str, customer_id: str, amount: int, order_id: str, refund_id: str
) -> LedgerTransfer:
    """Give ``amount`` of what ``order_id`` paid from stored value back to it; idempotent per ``refund_id``.

    The refunds of one order never exceed what it spent (422 otherwise, nothing written).
    """
    _check_amount(amount)
    key = _key(shop_id, f"stored_value.refund:{refund_id}")
    existing = session.scalar(sa.select(LedgerTransfer).where(LedgerTransfer.dedupe_key == key))
    if existing is not None:
        return existing
    shop = get_shop(session, shop_id)
    require_customer(session, shop_id=shop_id, customer_id=customer_id)
    customer_account = _customer_account(session, shop, customer_id)
    issued = _issued_account(session, shop)
    # Lock both accounts (in id order, as post_transfer does) so two refunds of one order cannot both pass the check.
    session.flush()
    session.execute(
        sa.select(LedgerAccount.id)
        .where(LedgerAccount.id.in_([customer_account.id, issued.id]))
        .order_by(LedgerAccount.id)
        .with_for_update()
    )
    spent = -_order_movements(session, shop=shop, customer_id=customer_id, order_id=order_id, kind="stored_value.spend")
    refunded = _order_movements(
        session, shop=shop, customer_id=customer_id, order_id=order_id, kind="stored_value.refund"
    )
    if amount > spent - refunded:
        raise RefundExceedsSpent(
            f"Order {order_id} paid {spent} from this customer's stored value and {refunded} was refunded already; "
            f"at most {spent - refunded} can be refunded.",
            errors={"amount": [f"At most {spent - refunded}."]},
        )
    transfer = post_transfer(
        session,
        shop_id=shop_id,
        kind="stored_value.refund",
        legs=[Leg(issued, -amount), Leg(customer_account, amount)],
        reference=order_id,
        dedupe_key=key,
        memo=f"refund {refund_id}"[:500],
    )
    emit(
        session,
        shop_id=shop_id,
        type="stored_value.refunded",
        subject_type="customer",
        subject_id=customer_id,
        payload=_payload(
            session, shop, customer_id, amount=amount, order_id=order_id, refund_id=refund_id, transfer_id=transfer.id
        ),
    )
    return transfer


def sell_stored_value(
    session: DbSession, *, shop_id: str, customer_id: str, amount: int, reference: str | None
) -> dict[str, Any]:
    """A top-up sold over the API (HTTP ``Idempotency-Key`` guards retries): the receipt with the new balance."""
    transfer = top_up(
        session,
        shop_id=shop_id,
        customer_id=customer_id,
        amount=amount,
        reference=reference,
        dedupe_key=f"stored_value.top_up:{new_id('stu')}",
    )
    return {
        "transfer_id": transfer.id,
        "customer_id": customer_id,
        "amount": amount,
        "currency": get_shop(session, shop_id).currency,
        "reference": reference,
        "balance": stored_value_balance(session, shop_id=shop_id, customer_id=customer_id),
    }


def stored_value_summary(session: DbSession, *, shop_id: str, customer_id: str, recent: int = 20) -> dict[str, Any]:
    """Balance and the most recent entries of a customer's stored value."""
    require_customer(session, shop_id=shop_id, customer_id=customer_id)
    shop = get_shop(session, shop_id)
    entries = session.scalars(
        sa.select(LedgerEntry)
        .join(LedgerAccount, LedgerAccount.id == LedgerEntry.account_id)
        .where(
            LedgerAccount.shop_id == shop_id,
            LedgerAccount.kind == "customer.stored_value",
            LedgerAccount.owner_id == customer_id,
        )
        .order_by(LedgerEntry.id.desc())
        .limit(recent)
    ).all()
    return {
        "customer_id": customer_id,
        "currency": shop.currency,
        "balance": stored_value_balance(session, shop_id=shop_id, customer_id=customer_id),
        "recent_entries": describe_entries(session, entries),
    }


# --- cashback -------------------------------------------------------------------------------------


def default_cashback_for_order(shop: Shop, paid_amount: int) -> int:
    """The built-in ``order.cashback`` rule: ``cashback_bp`` basis points of the amount paid."""
    return percent_of(max(paid_amount, 0), int(shop_setting(shop, "cashback_bp")))


def _cashback_payload(schedule: CashbackSchedule) -> dict[str, Any]:
    return {
        "id": schedule.id,
        "order_id": schedule.order_id,
        "customer_id": schedule.customer_id,
        "amount": schedule.amount,
        "original_amount": schedule.original_amount,
        "currency": schedule.currency,
        "due_at": schedule.due_at.isoformat(),
        "status": schedule.status,
        "version": schedule.version,
    }


def _emit_cashback(session: DbSession, schedule: CashbackSchedule, type: str) -> None:
    session.flush()
    emit(
        session,
        shop_id=schedule.shop_id,
        type=type,
        subject_type="cashback",
        subject_id=schedule.id,
        payload=_cashback_payload(schedule),
    )


def _schedule_of(session: DbSession, shop_id: str, order_id: str, *, lock: bool = False) -> CashbackSchedule | None:
    stmt = sa.select(CashbackSchedule).where(CashbackSchedule.shop_id == shop_id, CashbackSchedule.order_id == order_id)
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return session.scalar(stmt)


def schedule_cashback(
    session: DbSession, *, shop_id: str, customer_id: str, order_id: str, amount: int, due_at: dt.datetime
) -> CashbackSchedule | None:
    """Promise ``amount`` fen of cashback for ``order_id``, credited at ``due_at``; idempotent per order.

    An amount of 0 schedules nothing (returns None).
    """
    if amount == 0:
        return None
    _check_amount(amount)
    existing = _schedule_of(session, shop_id, order_id)
    if existing is not None:
        return existing
    shop = get_shop(session, shop_id)
    require_customer(session, shop_id=shop_id, customer_id=customer_id)
    schedule = CashbackSchedule(
        shop_id=shop_id,
        order_id=order_id,
        customer_id=customer_id,
        original_amount=amount,
        amount=amount,
        currency=shop.currency,
        due_at=due_at,
        status="pending",
    )
    session.add(schedule)
    _emit_cashback(session, schedule, "cashback.scheduled")
    return schedule


def reduce_cashback(
    session: DbSession,
    *,
    shop_id: str,
    order_id: str,
    refunded_ratio_bp: int | None = None,
    new_amount: int | None = None,
) -> CashbackSchedule | None:
    """Shrink a pending cashback after a partial refund; returns the schedule (None when the order has none).

    Give either ``refunded_ratio_bp`` — the share of the order refunded so far, in total (the cashback
    becomes the original amount minus that share) — or ``new_amount``. Cashback only ever shrinks; at 0
    it is cancelled. Credited or cancelled cashback is left as it is (crediting waits for the refund window).
    """
    if (refunded_ratio_bp is None) == (new_amount is None):
        raise ValueError("give exactly one of refunded_ratio_bp and new_amount")
    if refunded_ratio_bp is not None and not 0 <= refunded_ratio_bp <= 10_000:
        raise Unprocessable(
            "The refunded ratio is in basis points, 0 to 10000.", errors={"refunded_ratio_bp": ["0 to 10000."]}
        )
    if new_amount is not None and new_amount < 0:
        raise InvalidAmount("Cashback cannot be negative.", errors={"new_amount": ["Must be 0 or more."]})
    schedule = _schedule_of(session, shop_id, order_id, lock=True)
    if schedule is None or schedule.status != "pending":
        return schedule
    if refunded_ratio_bp is not None:
        target = schedule.original_amount - percent_of(schedule.original_amount, refunded_ratio_bp)
    else:
        assert new_amount is not None
        target = new_amount
    target = max(min(target, schedule.amount), 0)
    if target == schedule.amount:
        return schedule
    schedule.amount = target
    if target == 0:
        schedule.status = "cancelled"
        _emit_cashback(session, schedule, "cashback.cancelled")
    else:
        _emit_cashback(session, schedule, "cashback.reduced")
    return schedule


def cancel_cashback(session: DbSession, *, shop_id: str, order_id: str) -> CashbackSchedule | None:
    """Cancel the order's pending cashback (e.g. on a full refund); idempotent; credited cashback stays."""
    schedule = _schedule_of(session, shop_id, order_id, lock=True)
    if schedule is None or schedule.status != "pending":
        return schedule
    schedule.status = "cancelled"
    _emit_cashback(session, schedule, "cashback.cancelled")
    return schedule


def cashback_stmt(session: DbSession, *, shop_id: str, customer_id: str) -> sa.Select[Any]:
    """The customer's cashback schedules, for ``page_of`` (404 for an unknown customer)."""
    require_customer(session, shop_id=shop_id, customer_id=customer_id)
    return sa.select(CashbackSchedule).where(
        CashbackSchedule.shop_id == shop_id, CashbackSchedule.customer_id == customer_id
    )


def _credit(session: DbSession, schedule: CashbackSchedule, now: dt.datetime) -> None:
    shop = get_shop(session, schedule.shop_id)
    transfer = post_transfer(
        session,
        shop_id=shop.id,
        kind="cashback.credit",
        legs=[
            Leg(_issued_account(session, shop), -schedule.amount),
            Leg(_customer_account(session, shop, schedule.customer_id), schedule.amount),
        ],
        reference=schedule.order_id,
        dedupe_key=_key(shop.id, f"cashback.credit:{schedule.id}"),
    )
    schedule.status = "credited"
    schedule.credited_at = now
    schedule.transfer_id = transfer.id
    _emit_cashback(session, schedule, "cashback.credited")


def credit_due_cashback(session: DbSession, *, now: dt.datetime, batch: int = 200) -> int:
    """Credit every pending cashback whose ``due_at`` has passed, committing each; returns how many.

    Safe to run twice or in parallel: rows are locked (SKIP LOCKED) and re-checked, and each credit's
    ledger transfer has its own dedupe key.
    """
    credited = 0
    while True:
        ids = session.scalars(
            sa.select(CashbackSchedule.id)
            .where(CashbackSchedule.status == "pending", CashbackSchedule.due_at <= now)
            .order_by(CashbackSchedule.due_at, CashbackSchedule.id)
            .limit(batch)
        ).all()
        if not ids:
            return credited
        progressed = False
        for schedule_id in ids:
            schedule = session.scalar(
                sa.select(CashbackSchedule)
                .where(CashbackSchedule.id == schedule_id, CashbackSchedule.status == "pending")
                .with_for_update(skip_locked=True)
                .execution_options(populate_existing=True)
            )
            if schedule is None:
                session.rollback()
                continue
            _credit(session, schedule, now)
            session.commit()
            credited += 1
            progressed = True
        if not progressed:  # everything left is being credited by another worker
            return credited
