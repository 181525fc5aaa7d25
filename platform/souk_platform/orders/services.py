"""Orders: the state machine, cancelling, payments through a provider adapter, and refunds.

The state machine is the ``TRANSITIONS`` table plus ``transition()``, which checks it, stamps the
time, bumps the version and emits ``order.<status>``. Every function here works in the caller's
transaction and leaves nothing behind when it raises.

Row locks are taken in one order (docs/architecture.md §5.3): the order, then its payments,
then its customer, then stock, coupons and ledger accounts (each domain by id). Taken in opposite
orders, a cancel racing a payment callback, or a refund racing a payment of the same customer,
deadlocked and one of them answered 500.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from souk_platform.catalog.services import commit_stock, release_stock, return_stock
from souk_platform.core.errors import InsufficientFunds
from souk_platform.core.states import Move, StateMachine
from souk_platform.core.versions import check_version
from souk_platform.coupons import packs
from souk_platform.coupons.services import confirm_redemptions, release_redemptions
from souk_platform.coupons.wallet import give_back_entries, release_entries, use_entries
from souk_platform.customers.services import customer_facts, get_customer, record_purchase, record_refund
from souk_platform.db import DbSession
from souk_platform.events.services import emit
from souk_platform.extensions import run_point
from souk_platform.ledger.services import Leg, get_account, post_transfer
from souk_platform.members.services import evaluate_customer_level
from souk_platform.orders.errors import (
    IllegalTransition,
    OrderNotFound,
    OverRefund,
    PaymentAlreadySettled,
    PaymentNotFound,
    RefundInvalid,
    RefundRejected,
    ShopBalanceTooLow,
)
from souk_platform.orders.models import SOLD_STATUSES, Order, OrderLine, Payment, Refund
from souk_platform.orders.payments import PROVIDERS, Outcome, PaymentProvider
from souk_platform.points.services import award_points, default_points_for_order, refund_spent_points, revoke_points
from souk_platform.points_mall import lifecycle as points_mall
from souk_platform.shops.services import get_shop, shop_setting
from souk_platform.stored_value.services import (
    default_cashback_for_order,
    reduce_cashback,
    refund_stored_value,
    schedule_cashback,
)

PSP_OWNER = "test-psp"  # owner of the shop's payments-clearing account for the test provider

# status → the statuses it may move to
TRANSITIONS: dict[str, frozenset[str]] = {
    # held by risk control until a person (or the review's expiry) approves or rejects it (§5.13)
    "in_review": frozenset({"pending_payment", "cancelled"}),
    "pending_payment": frozenset({"paid", "cancelled"}),
    "paid": frozenset({"fulfilled"}),
    "fulfilled": frozenset({"completed"}),
    "completed": frozenset(),
    "cancelled": frozenset(),
}
_STAMPS = {"paid": "paid_at", "cancelled": "cancelled_at", "fulfilled": "fulfilled_at", "completed": "completed_at"}
MOVE_EVENTS = {"pending_payment": "order.released"}  # a move's event when it is not order.<to>

__all__ = [
    "MOVE_EVENTS",
    "TRANSITIONS",
    "cancel_expired_orders",
    "cancel_order",
    "complete_order",
    "create_refund",
    "fulfil_order",
    "get_order",
    "get_payment",
    "list_order_rows_stmt",
    "list_orders_stmt",
    "order_payload",
    "settle_payment",
    "start_payment",
    "transition",
]


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


def order_payload(order: Order) -> dict[str, Any]:
    """The event payload for an order: the object with its lines and ``version``."""
    return {
        "id": order.id,
        "status": order.status,
        "customer_id": order.customer_id,
        "channel": order.channel,
        "currency": order.currency,
        "subtotal": order.subtotal,
        "discount_total": order.discount_total,
        "fee_total": order.fee_total,
        "points_spent": order.points_spent,
        "points_value": order.points_value,
        "stored_value_used": order.stored_value_used,
        "total": order.total,
        "refunded_total": order.refunded_total,
        "member_level": order.member_level,
        "member_discount_total": order.member_discount_total,
        "points_multiplier_percent": order.points_multiplier_percent,
        "lines": [
            {
                "id": line.id,
                "sku_id": line.sku_id,
                "product_id": line.product_id,
                "title": line.title,
                "unit_price": line.unit_price,
                "list_price": line.list_price,
                "member_perk": line.member_perk,
                "benefit_grant_id": line.benefit_grant_id,
                "benefit_package_id": line.benefit_package_id,
                "quantity": line.quantity,
                "discount": line.discount,
                "refunded_quantity": line.refunded_quantity,
            }
            for line in order.lines
        ],
        "created_at": _iso(order.created_at),
        "paid_at": _iso(order.paid_at),
        "cancelled_at": _iso(order.cancelled_at),
        "fulfilled_at": _iso(order.fulfilled_at),
        "completed_at": _iso(order.completed_at),
        "version": order.version,
    }


def get_order(session: DbSession, *, shop_id: str, order_id: str, for_update: bool = False) -> Order:
    """The shop's order; ``OrderNotFound`` (404) for an unknown id or another shop's order."""
    stmt = sa.select(Order).where(Order.id == order_id, Order.shop_id == shop_id)
    if for_update:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    order = session.scalar(stmt)
    if order is None:
        raise OrderNotFound(f"No order {order_id} in this shop.")
    return order


# What the API's order list shows, read as Core rows (no ORM instances) for the fast read path.
ORDER_COLUMNS = (
    Order.id,
    Order.status,
    Order.customer_id,
    Order.channel,
    Order.currency,
    Order.subtotal,
    Order.discount_total,
    Order.fee_total,
    Order.points_spent,
    Order.points_value,
    Order.stored_value_used,
    Order.total,
    Order.refunded_total,
    Order.member_level,
    Order.member_discount_total,
    Order.points_multiplier_percent,
    Order.points_earned,
    Order.cashback_amount,
    Order.discounts,
    Order.fees,
    Order.cart_id,
    Order.cancel_reason,
    Order.reservation_expires_at,
    Order.created_at,
    Order.paid_at,
    Order.cancelled_at,
    Order.fulfilled_at,
    Order.completed_at,
    Order.version,
)


def list_orders_stmt(shop_id: str, *, status: str | None = None, customer_id: str | None = None) -> sa.Select[Any]:
    """The shop's orders (ORM objects), optionally by status and customer."""
    return _filtered_orders(sa.select(Order), shop_id, status=status, customer_id=customer_id)


def list_order_rows_stmt(shop_id: str, *, status: str | None = None, customer_id: str | None = None) -> sa.Select[Any]:
    """``list_orders_stmt`` as rows of ``ORDER_COLUMNS``, for the API's list."""
    return _filtered_orders(sa.select(*ORDER_COLUMNS), shop_id, status=status, customer_id=customer_id)


def _filtered_orders(
    stmt: sa.Select[Any], shop_id: str, *, status: str | None, customer_id: str | None
) -> sa.Select[Any]:
    stmt = stmt.where(Order.shop_id == shop_id)
    if status:
        stmt = stmt.where(Order.status == status)
    if customer_id:
        stmt = stmt.where(Order.customer_id == customer_id)
    return stmt


def _illegal(order: Order, to: str, allowed_moves: tuple[str, ...]) -> IllegalTransition:
    allowed = ", ".join(sorted(allowed_moves)) or "nothing"
    return IllegalTransition(
        f"Order {order.id} is {order.status}; it cannot become {to} (it may become: {allowed}).",
        current_status=order.status,
    )


def _record_move(session: DbSession, order: Order, move: Move, *, now: dt.datetime, reason: str | None = None) -> None:
    """Stamp the time, bump the version and emit ``order.<to>``."""
    to = move.to
    if to in _STAMPS:
        setattr(order, _STAMPS[to], now)
    if to == "cancelled":
        order.cancel_reason = reason
    session.flush()
    payload = order_payload(order)
    if reason:
        payload["reason"] = reason
    kind = MOVE_EVENTS.get(to, f"order.{to}")
    emit(session, shop_id=order.shop_id, type=kind, subject_type="order", subject_id=order.id, payload=payload)


ORDER_STATES: StateMachine[Order] = StateMachine(TRANSITIONS, field="status", illegal=_illegal, record=_record_move)


def _check_transition(order: Order, to: str) -> None:
    ORDER_STATES.check(order, to)


def transition(session: DbSession, order: Order, to: str, *, now: dt.datetime, reason: str | None = None) -> Order:
    """Move ``order`` to ``to`` if the table allows it (else 409 ``invalid-state-transition``);
    stamp the time, bump the version and emit ``order.<to>``."""
    ORDER_STATES.transition(session, order, to, now=now, reason=reason)
    return order


def _lock_customer(session: DbSession, order: Order) -> None:
    """Lock the order's customer (if any) before the stock, coupon and ledger rows that follow."""
    if order.customer_id is not None:
        get_customer(session, shop_id=order.shop_id, customer_id=order.customer_id, for_update=True)


def _lock_for_change(session: DbSession, *, shop_id: str, order_id: str, expected_version: int | None) -> Order:
    order = get_order(session, shop_id=shop_id, order_id=order_id, for_update=True)
    check_version(order.version, expected_version)
    return order


def cancel_order(
    session: DbSession,
    *,
    shop_id: str,
    order_id: str,
    reason: str | None,
    now: dt.datetime,
    expected_version: int | None = None,
) -> Order:
    """Cancel an unpaid order: release its stock and coupons, give back spent points and stored
    value, fail its pending payments. Only ``pending_payment`` and ``in_review`` orders can be cancelled (else 409)."""
    order = _lock_for_change(session, shop_id=shop_id, order_id=order_id, expected_version=expected_version)
    _check_transition(order, "cancelled")
    _lock_customer(session, order)
    release_stock(session, shop_id=shop_id, ref=order.id)
    release_redemptions(session, shop_id=shop_id, order_id=order.id)
    release_entries(session, shop_id=shop_id, order_id=order.id, now=now)
    packs.on_order_cancelled(session, shop_id=shop_id, order_id=order.id, now=now)
    points_mall.on_order_cancelled(session, shop_id=shop_id, order_id=order.id, now=now)  # a redemption's (§5.14)
    if order.points_spent:
        refund_spent_points(session, shop_id=shop_id, order_id=order.id, points=None, now=now)
    if order.stored_value_used and order.customer_id:
        refund_stored_value(
            session,
            shop_id=shop_id,
            customer_id=order.customer_id,
            amount=order.stored_value_used,
            order_id=order.id,
            refund_id=f"{order.id}:cancel",
        )
    for payment in _pending_payments(session, order):
        payment.status, payment.failure_reason, payment.settled_at = "failed", "The order was cancelled.", now
    return transition(session, order, "cancelled", now=now, reason=reason or "cancelled")


def fulfil_order(
    session: DbSession, *, shop_id: str, order_id: str, now: dt.datetime, expected_version: int | None = None
) -> Order:
    """Mark a paid order shipped/fulfilled."""
    order = _lock_for_change(session, shop_id=shop_id, order_id=order_id, expected_version=expected_version)
    transition(session, order, "fulfilled", now=now)
    points_mall.on_order_fulfilled(session, shop_id=shop_id, order_id=order.id, now=now)  # a redemption's (§5.14)
    return order


def complete_order(
    session: DbSession, *, shop_id: str, order_id: str, now: dt.datetime, expected_version: int | None = None
) -> Order:
    """Mark a fulfilled order completed (received by the buyer)."""
    order = _lock_for_change(session, shop_id=shop_id, order_id=order_id, expected_version=expected_version)
    return transition(session, order, "completed", now=now)


def cancel_expired_orders(session: DbSession, *, now: dt.datetime, batch: int = 100) -> int:
    """Cancel every ``pending_payment`` order past its reservation, committing each; returns how many.

    Safe to run twice or concurrently: each order is re-checked under its row lock.
    """
    cancelled = 0
    seen: set[str] = set()  # tried already in this run (a concurrent run may have won them)
    while True:
        stmt = sa.select(Order.id, Order.shop_id).where(
            Order.status == "pending_payment", Order.reservation_expires_at < now
        )
        if seen:
            stmt = stmt.where(Order.id.not_in(seen))
        due = session.execute(stmt.order_by(Order.reservation_expires_at).limit(batch)).all()
        if not due:
            return cancelled
        for order_id, shop_id in due:
            seen.add(order_id)
            order = get_order(session, shop_id=shop_id, order_id=order_id, for_update=True)
            if order.status != "pending_payment" or order.reservation_expires_at >= now:
                session.rollback()
                continue
            cancel_order(session, shop_id=shop_id, order_id=order_id, reason="expired", now=now)
            session.commit()
            cancelled += 1


# --- payments ----------------------------------------------------------------------------------


def payment_payload(payment: Payment) -> dict[str, Any]:
    return {
        "id": payment.id,
        "order_id": payment.order_id,
        "provider": payment.provider,
        "amount": payment.amount,
        "currency": payment.currency,
        "status": payment.status,
        "failure_reason": payment.failure_reason,
        "settled_at": _iso(payment.settled_at),
    }


def _pending_payments(session: DbSession, order: Order) -> list[Payment]:
    return list(
        session.scalars(
            sa.select(Payment)
            .where(Payment.order_id == order.id, Payment.status == "pending")
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    )


def get_payment(session: DbSession, *, shop_id: str, payment_id: str, for_update: bool = False) -> Payment:
    stmt = sa.select(Payment).where(Payment.id == payment_id, Payment.shop_id == shop_id)
    if for_update:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    payment = session.scalar(stmt)
    if payment is None:
        raise PaymentNotFound(f"No payment {payment_id} in this shop.")
    return payment


def start_payment(
    session: DbSession, *, shop_id: str, order_id: str, now: dt.datetime, provider: str = "test"
) -> tuple[Payment, bool]:
    """Start collecting an unpaid order's cash total; returns (payment, created).

    An order with a pending payment gets that payment back (``created`` False). A zero-cash order
    (all paid with points and stored value) needs no provider: it is settled at once with a
    ``provider="none"`` payment of 0 and the order becomes paid.
    """
    order = get_order(session, shop_id=shop_id, order_id=order_id, for_update=True)
    if order.status != "pending_payment":
        raise IllegalTransition(
            f"Order {order.id} is {order.status}; only an order awaiting payment can be paid.",
            current_status=order.status,
        )
    pending = _pending_payments(session, order)
    if pending:
        return pending[0], False
    if order.total == 0:
        payment = Payment(
            shop_id=shop_id,
            order_id=order.id,
            provider="none",
            amount=0,
            currency=order.currency,
            status="pending",
            created_at=now,
        )
        session.add(payment)
        session.flush()
        _settle(session, order, payment, "succeeded", now=now)
        return payment, True
    adapter: PaymentProvider = PROVIDERS[provider]
    payment = Payment(
        shop_id=shop_id,
        order_id=order.id,
        provider=adapter.name,
        amount=order.total,
        currency=order.currency,
        status="pending",
        created_at=now,
    )
    session.add(payment)
    session.flush()
    payment.provider_reference = adapter.start(payment_id=payment.id, amount=payment.amount, currency=payment.currency)
    session.flush()
    emit(
        session,
        shop_id=shop_id,
        type="payment.created",
        subject_type="payment",
        subject_id=payment.id,
        payload=payment_payload(payment),
    )
    return payment, True


def settle_payment(
    session: DbSession, *, shop_id: str, payment_id: str, callback: Mapping[str, Any], now: dt.datetime
) -> Payment:
    """Apply a provider callback to a payment. Idempotent: repeating the same outcome changes nothing;
    a different outcome for an already settled payment is 409 ``payment-already-settled``."""
    # The order's row first, then the payment's: the one lock order for an order and its payments
    # (cancel_order, start_payment and the expiry job take them so). The other way round, a callback
    # racing a cancel deadlocked. A payment never moves to another order, so reading it unlocked is safe.
    order_id = session.scalar(sa.select(Payment.order_id).where(Payment.id == payment_id, Payment.shop_id == shop_id))
    if order_id is None:
        raise PaymentNotFound(f"No payment {payment_id} in this shop.")
    order = get_order(session, shop_id=shop_id, order_id=order_id, for_update=True)
    payment = get_payment(session, shop_id=shop_id, payment_id=payment_id, for_update=True)
    outcome = PROVIDERS[payment.provider].outcome_of(callback) if payment.provider in PROVIDERS else None
    if outcome is None:
        raise PaymentAlreadySettled(f"Payment {payment.id} was settled without a provider; it takes no callbacks.")
    if payment.status != "pending":
        if payment.status == outcome:
            return payment
        raise PaymentAlreadySettled(
            f"Payment {payment.id} already {payment.status}; a callback cannot make it {outcome}.",
            current_status=payment.status,
        )
    _settle(session, order, payment, outcome, now=now)
    return payment


def _settle(session: DbSession, order: Order, payment: Payment, outcome: Outcome, *, now: dt.datetime) -> None:
    payment.settled_at = now
    if outcome == "failed":
        payment.status, payment.failure_reason = "failed", "The provider reported the payment failed."
        session.flush()
        emit(
            session,
            shop_id=order.shop_id,
            type="payment.failed",
            subject_type="payment",
            subject_id=payment.id,
            payload=payment_payload(payment),
        )
        return
    _check_transition(order, "paid")
    payment.status = "succeeded"
    session.flush()
    # Set with the status change, so paying bumps the order's version once.
    order.points_earned, order.cashback_amount = _on_paid(session, order, payment, now=now)
    emit(
        session,
        shop_id=order.shop_id,
        type="payment.succeeded",
        subject_type="payment",
        subject_id=payment.id,
        payload=payment_payload(payment),
    )
    transition(session, order, "paid", now=now)


def _on_paid(session: DbSession, order: Order, payment: Payment, *, now: dt.datetime) -> tuple[int, int]:
    """Everything a payment sets off: stock, the shop's takings, coupons, the customer's facts,
    and the points.earn, order.cashback and member.level extension points.

    Returns (points earned, cashback scheduled)."""
    shop = get_shop(session, order.shop_id)
    _lock_customer(session, order)
    if order.lines:  # a coupon pack's order holds no stock (§5.9)
        commit_stock(session, shop_id=shop.id, ref=order.id)
    if payment.amount:
        clearing = get_account(
            session, shop_id=shop.id, kind="platform.payments_clearing", owner_id=PSP_OWNER, unit=order.currency
        )
        balance = get_account(session, shop_id=shop.id, kind="shop.balance", owner_id=shop.id, unit=order.currency)
        post_transfer(
            session,
            shop_id=shop.id,
            kind="order.payment",
            legs=[Leg(clearing, -payment.amount), Leg(balance, payment.amount)],
            reference=order.id,
            dedupe_key=f"{shop.id}:payment:{payment.id}",
        )
    confirm_redemptions(session, shop_id=shop.id, order_id=order.id)
    use_entries(session, shop_id=shop.id, order_id=order.id, now=now)
    packs.on_order_paid(session, shop_id=shop.id, order_id=order.id, now=now)  # a coupon pack's order (§5.9)
    points_mall.on_order_paid(session, shop_id=shop.id, order_id=order.id, now=now)  # a redemption's (§5.14)
    if order.customer_id is None:
        return 0, 0
    paid = order.money_paid
    # Counts as an order even when paid entirely with points (then 0 fen of spend).
    record_purchase(session, shop_id=shop.id, customer_id=order.customer_id, order_id=order.id, amount=paid, at=now)
    # The "first order" earning task (§5.15), in this transaction under the customer lock taken above.
    # Imported here: points_tasks reaches risk control, whose reviews call back into this module.
    from souk_platform.points_tasks.completions import on_order_paid as complete_first_order

    complete_first_order(session, shop=shop, order=order, now=now)
    facts = {
        "order": order_payload(order),
        "paid_amount": paid,
        "customer_id": order.customer_id,
        "customer": customer_facts(session, shop_id=shop.id, customer_id=order.customer_id),
    }
    # The buyer's level multiplier (recorded at checkout) scales the built-in rule; a plugin's answer replaces both.
    multiplier = order.points_multiplier_percent
    points = int(
        run_point(session, "points.earn", shop, facts, lambda p: default_points_for_order(shop, paid, multiplier))
    )
    if points > 0:
        award_points(
            session,
            shop_id=shop.id,
            customer_id=order.customer_id,
            points=points,
            reason=f"Order {order.id}",
            reference=order.id,
            dedupe_key=f"order:{order.id}:earn",
            now=now,
        )
    cashback = int(run_point(session, "order.cashback", shop, facts, lambda p: default_cashback_for_order(shop, paid)))
    if cashback > 0:
        schedule_cashback(
            session,
            shop_id=shop.id,
            customer_id=order.customer_id,
            order_id=order.id,
            amount=cashback,
            due_at=now + dt.timedelta(days=int(shop_setting(shop, "refund_window_days"))),
        )
    # Runs the member.level point itself (with the member's stats): wrapping it in run_point again
    # invoked the shop's level plugins a second time, without `member`.
    evaluate_customer_level(session, shop_id=shop.id, customer_id=order.customer_id, now=now)
    return max(points, 0), max(cashback, 0)


# --- refunds -----------------------------------------------------------------------------------


def _refund_lines(order: Order, requested: Sequence[Mapping[str, Any]]) -> list[tuple[OrderLine, int]]:
    by_id = {line.id: line for line in order.lines}
    errors: dict[str, list[str]] = {}
    chosen: list[tuple[OrderLine, int]] = []
    seen: set[str] = set()
    for i, item in enumerate(requested):
        line = by_id.get(item["line_id"])
        if line is None:
            errors[f"lines.{i}.line_id"] = [f"Order {order.id} has no such line."]
            continue
        if line.id in seen:
            errors[f"lines.{i}.line_id"] = ["This line is listed twice."]
            continue
        seen.add(line.id)
        left = line.quantity - line.refunded_quantity
        if not 1 <= item["quantity"] <= left:
            errors[f"lines.{i}.quantity"] = [f"Between 1 and {left} (the quantity not yet refunded)."]
            continue
        chosen.append((line, item["quantity"]))
    if errors:
        raise RefundInvalid("Some refund lines are not valid for this order.", errors=errors)
    return chosen


def _lines_value(order: Order, chosen: Sequence[tuple[OrderLine, int]]) -> int:
    """What the chosen units cost the buyer in money: their net price, less the share paid in points."""
    goods = order.subtotal - order.discount_total + order.fee_total
    net = sum(line.line_total * quantity // line.quantity for line, quantity in chosen)
    return net * order.money_paid // goods if goods else 0


def _proportional(whole: int, refunded: int, paid: int, *, full: bool) -> int:
    """The part of ``whole`` that ``refunded`` of ``paid`` stands for (all of it once fully refunded)."""
    if full:
        return whole
    return whole * refunded // paid if paid else 0


def create_refund(
    session: DbSession,
    *,
    shop_id: str,
    order_id: str,
    amount: int | None,
    lines: Sequence[Mapping[str, Any]] | None,
    reason: str,
    restock: bool,
    now: dt.datetime,
) -> Refund:
    """Refund (part of) a paid, fulfilled or completed order.

    The amount is ``amount``, else the money value of ``lines``, else everything left. It comes back
    as cash first (up to the cash paid, ledger shop.balance → clearing) then as stored value. Spent
    points are given back and earned points and cashback reduced in proportion; ``restock`` puts the
    refunded lines back in stock. Over-refunds are 422 ``over-refund``; a shop balance that cannot
    cover the cash is 409 ``insufficient-shop-balance``; nothing is written on any error.
    """
    order = get_order(session, shop_id=shop_id, order_id=order_id, for_update=True)
    if order.status not in SOLD_STATUSES:
        raise IllegalTransition(
            f"Order {order.id} is {order.status}; only paid, fulfilled or completed orders can be refunded.",
            current_status=order.status,
        )
    _lock_customer(session, order)
    shop = get_shop(session, shop_id)
    chosen = _refund_lines(order, lines or [])
    left = order.money_paid - order.refunded_total
    everything_left = [(line, line.quantity - line.refunded_quantity) for line in order.lines]
    everything_left = [(line, q) for line, q in everything_left if q > 0]
    if amount is not None:
        money = amount
    elif chosen:
        covers_all = sorted((line.id, q) for line, q in chosen) == sorted((line.id, q) for line, q in everything_left)
        money = left if covers_all else min(_lines_value(order, chosen), left)
    else:
        money = left
    if money > left:
        raise OverRefund(
            f"Only {left} {order.currency} fen are left to refund on order {order.id}; {money} were asked for.",
            errors={"amount": [f"At most {left}."]},
            refundable=left,
        )
    full = money == left
    packs.check_refund(session, shop_id=shop_id, order_id=order.id, full=full, now=now)
    if restock and not chosen and not full:
        raise RefundInvalid(
            "Say which lines to restock: a partial refund by amount restocks only the lines it names.",
            errors={"lines": ["Required with restock for a partial refund."]},
        )
    if not chosen and full:
        chosen = everything_left
    new_refunded = order.refunded_total + money
    points_back = _proportional(order.points_spent, new_refunded, order.money_paid, full=full) - order.points_returned
    if money <= 0 and points_back <= 0:
        raise OverRefund(f"Nothing is left to refund on order {order.id}.", errors={"amount": ["Nothing left."]})

    verdict = run_point(
        session,
        "refund.validate",
        shop,
        {
            "refund": {"amount": money, "lines": [{"line_id": ln.id, "quantity": q} for ln, q in chosen]},
            "order": order_payload(order),
            "reason": reason,
        },
        lambda p: {"allow": True},
    )
    if not verdict.get("allow", False):
        raise RefundRejected(f"The refund was rejected: {verdict.get('reason', 'no reason given')}.")

    cash_refunded = sum(r.amount for r in order.refunds)
    cash = min(money, order.total - cash_refunded)
    stored_value = money - cash
    refund = Refund(
        shop_id=shop_id,
        order_id=order.id,
        amount=cash,
        stored_value_amount=stored_value,
        reason=reason,
        restock=restock,
        status="succeeded",
        lines=[{"line_id": line.id, "quantity": quantity} for line, quantity in chosen],
        created_at=now,
    )
    session.add(refund)
    session.flush()
    # Stock before the ledger rows, in the lock order above (a checkout reserves stock, then spends
    # points); return_stock locks the SKUs in id order, as every stock movement takes them.
    returned: dict[str, int] = {}
    for line, quantity in chosen:
        line.refunded_quantity += quantity
        returned[line.sku_id] = returned.get(line.sku_id, 0) + quantity
    if restock:
        return_stock(session, shop_id=shop_id, quantities=returned, reason="refund", ref=refund.id)
    if full:  # a refund of everything gives the order's wallet coupons back while they are valid (§5.9)
        give_back_entries(session, shop_id=shop_id, order_id=order.id, now=now)
        packs.on_order_refunded(session, shop_id=shop_id, order_id=order.id, now=now)
        points_mall.on_order_refunded(session, shop_id=shop_id, order_id=order.id, full=True, now=now)
    if cash:
        balance = get_account(session, shop_id=shop_id, kind="shop.balance", owner_id=shop_id, unit=order.currency)
        clearing = get_account(
            session, shop_id=shop_id, kind="platform.payments_clearing", owner_id=PSP_OWNER, unit=order.currency
        )
        try:
            post_transfer(
                session,
                shop_id=shop_id,
                kind="order.refund",
                legs=[Leg(balance, -cash), Leg(clearing, cash)],
                reference=order.id,
                dedupe_key=f"{shop_id}:refund:{refund.id}",
            )
        except InsufficientFunds as exc:
            raise ShopBalanceTooLow(
                f"The shop's balance is {exc.extra.get('balance')} fen; this refund needs {cash} fen in cash.",
                balance=exc.extra.get("balance"),
                needed=cash,
            ) from exc
    if stored_value and order.customer_id:
        refund_stored_value(
            session,
            shop_id=shop_id,
            customer_id=order.customer_id,
            amount=stored_value,
            order_id=order.id,
            refund_id=refund.id,
        )
    if points_back > 0:
        refund.points_returned = refund_spent_points(
            session, shop_id=shop_id, order_id=order.id, points=points_back, now=now
        )
        order.points_returned += points_back
    if order.customer_id is not None:
        if money:
            record_refund(
                session,
                shop_id=shop_id,
                customer_id=order.customer_id,
                order_id=order.id,
                amount=money,
                at=now,
                refund_id=refund.id,
            )
        revoke = _proportional(order.points_earned, new_refunded, order.money_paid, full=full) - order.points_revoked
        if revoke > 0:
            refund.points_revoked = revoke_points(
                session,
                shop_id=shop_id,
                customer_id=order.customer_id,
                points=revoke,
                reference=order.id,
                dedupe_key=f"refund:{refund.id}:revoke",
                now=now,
            )
            order.points_revoked += revoke
        if order.cashback_amount:
            kept = order.cashback_amount - _proportional(
                order.cashback_amount, new_refunded, order.money_paid, full=full
            )
            reduce_cashback(session, shop_id=shop_id, order_id=order.id, new_amount=kept)
    order.refunded_total = new_refunded
    session.flush()
    payload = order_payload(order)
    payload["refund"] = refund_payload(refund)
    emit(session, shop_id=shop_id, type="order.refunded", subject_type="order", subject_id=order.id, payload=payload)
    return refund


def refund_payload(refund: Refund) -> dict[str, Any]:
    return {
        "id": refund.id,
        "order_id": refund.order_id,
        "amount": refund.amount,
        "stored_value_amount": refund.stored_value_amount,
        "points_returned": refund.points_returned,
        "points_revoked": refund.points_revoked,
        "reason": refund.reason,
        "restock": refund.restock,
        "lines": refund.lines,
        "created_at": _iso(refund.created_at),
    }
