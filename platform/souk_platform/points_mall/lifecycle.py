"""A redemption's state machine, and what its order's payment, release, cancel, refund and shipping set off
(docs/architecture.md §5.14).

A redemption follows its order on the one pipeline: the orders' services call ``on_order_paid``,
``on_order_cancelled``, ``on_order_refunded`` and ``on_order_fulfilled`` (and risk reviews
``on_order_released``) for every order; each returns at once for an order that is not a redemption's. So this
module imports nothing of ``orders.services`` at import time (orders import it).

Lock order (§5.3): the order, its customer, stock, then the item's row (``redeemed``), then wallet entries
and ledger accounts — the same on redeeming, cancelling and refunding.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from souk_platform.benefits.errors import PackageDisabled
from souk_platform.benefits.services import get_package, grant_package
from souk_platform.core.errors import SoukError
from souk_platform.core.states import Move, StateMachine
from souk_platform.coupons.wallet import issue_coupon, revoke_entries
from souk_platform.db import DbSession
from souk_platform.events.services import emit
from souk_platform.points_mall.errors import IllegalRedemptionMove
from souk_platform.points_mall.models import MallItem, MallRedemption

__all__ = [
    "REDEMPTION_STATES",
    "TRANSITIONS",
    "emit_redemption",
    "on_order_cancelled",
    "on_order_fulfilled",
    "on_order_paid",
    "on_order_refunded",
    "on_order_released",
    "redemption_payload",
    "return_units",
]

# status → the statuses it may move to
TRANSITIONS: dict[str, frozenset[str]] = {
    "in_review": frozenset({"pending_payment", "cancelled"}),  # risk control holds it (§5.13)
    "pending_payment": frozenset({"paid", "cancelled"}),
    "paid": frozenset({"fulfilled", "cancelled", "refunded"}),  # cancelled: before shipping, money back
    "fulfilled": frozenset({"refunded"}),
    "cancelled": frozenset(),
    "refunded": frozenset(),
}
_STAMPS = {"paid": "paid_at", "fulfilled": "fulfilled_at", "cancelled": "cancelled_at", "refunded": "refunded_at"}
_EVENTS = {"fulfilled", "cancelled", "refunded"}  # moves with an event of their own (points_mall.<to>)
HOLDING = ("in_review", "pending_payment", "paid", "fulfilled")  # hold units of the item's stock


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


def redemption_payload(redemption: MallRedemption) -> dict[str, Any]:
    """The redemption as the API and events show it (with ``version``)."""
    return {
        "id": redemption.id,
        "item_id": redemption.item_id,
        "customer_id": redemption.customer_id,
        "order_id": redemption.order_id,
        "kind": redemption.kind,
        "quantity": redemption.quantity,
        "points": redemption.points,
        "cash": redemption.cash,
        "currency": redemption.currency,
        "status": redemption.status,
        "ip": redemption.ip,
        "device_id": redemption.device_id,
        "risk_decision_id": redemption.risk_decision_id,
        "fulfilment": dict(redemption.fulfilment or {}),
        "created_at": _iso(redemption.created_at),
        "paid_at": _iso(redemption.paid_at),
        "fulfilled_at": _iso(redemption.fulfilled_at),
        "cancelled_at": _iso(redemption.cancelled_at),
        "refunded_at": _iso(redemption.refunded_at),
        "version": redemption.version,
    }


def emit_redemption(
    session: DbSession, redemption: MallRedemption, type: str, *, extra: dict[str, Any] | None = None
) -> None:
    session.flush()
    emit(
        session,
        shop_id=redemption.shop_id,
        type=type,
        subject_type="redemption",
        subject_id=redemption.id,
        payload={**redemption_payload(redemption), **(extra or {})},
    )


def _illegal(redemption: MallRedemption, to: str, allowed_moves: tuple[str, ...]) -> IllegalRedemptionMove:
    allowed = ", ".join(sorted(allowed_moves)) or "nothing"
    return IllegalRedemptionMove(
        f"Redemption {redemption.id} is {redemption.status}; it cannot become {to} (it may become: {allowed}).",
        current_status=redemption.status,
    )


def _record(session: DbSession, redemption: MallRedemption, move: Move, *, now: dt.datetime) -> None:
    if move.to in _STAMPS:
        setattr(redemption, _STAMPS[move.to], now)
    session.flush()
    if move.to in _EVENTS:
        emit_redemption(session, redemption, f"points_mall.{move.to}")


REDEMPTION_STATES: StateMachine[MallRedemption] = StateMachine(
    TRANSITIONS, field="status", illegal=_illegal, record=_record
)


def _of_order(session: DbSession, shop_id: str, order_id: str) -> MallRedemption | None:
    return session.scalar(
        sa.select(MallRedemption)
        .where(MallRedemption.shop_id == shop_id, MallRedemption.order_id == order_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def return_units(session: DbSession, redemption: MallRedemption) -> None:
    """Give the redemption's units back to its item's stock (one UPDATE: the item's row lock, §5.3)."""
    session.execute(
        sa.update(MallItem)
        .where(MallItem.id == redemption.item_id)
        .values(redeemed=MallItem.redeemed - redemption.quantity)
        .execution_options(synchronize_session=False)
    )


def _fulfil_coupon(session: DbSession, redemption: MallRedemption, item: MallItem, now: dt.datetime) -> bool:
    entries: list[str] = []
    problems: list[str] = []
    for copy in range(1, redemption.quantity + 1):
        try:
            with session.begin_nested():
                entry = issue_coupon(
                    session,
                    shop_id=redemption.shop_id,
                    coupon_id=str(item.coupon_id),
                    customer_id=redemption.customer_id,
                    source="points_mall",
                    source_id=f"{redemption.id}:{copy}",
                    now=now,
                )
            entries.append(entry.id)
        except SoukError as exc:  # disabled, ended or over a limit since the item went on sale
            problems.append(exc.detail)
    redemption.fulfilment = {"wallet_coupon_ids": entries, "problems": problems}
    return not problems


def _fulfil_package(session: DbSession, redemption: MallRedemption, item: MallItem, now: dt.datetime) -> bool:
    grants: list[str] = []
    problems: list[str] = []
    try:
        with session.begin_nested():
            package = get_package(session, shop_id=redemption.shop_id, package_id=str(item.package_id))
            if package.status != "active":
                raise PackageDisabled(f"The benefit package {package.id} is disabled.")
            for copy in range(1, redemption.quantity + 1):
                grant, _new = grant_package(
                    session,
                    package=package,
                    customer_id=redemption.customer_id,
                    period=f"points_mall:{redemption.id}:{copy}",
                    now=now,
                    note="points mall",
                )
                grants.append(grant.id)
    except SoukError as exc:  # the package was disabled or deleted since the item went on sale
        grants, problems = [], [exc.detail]
    redemption.fulfilment = {"benefit_grant_ids": grants, "problems": problems}
    return not problems


def on_order_paid(session: DbSession, *, shop_id: str, order_id: str, now: dt.datetime) -> bool:
    """The redemption's order was paid: fulfil by kind. Coupons go into the wallet and packages are granted
    at once (fulfilled); an app's item is asked of its app (``points_mall.fulfilment_requested``, addressed
    to its installation); goods wait for the order to ship. Never fails a payment already taken: what could
    not be given is kept in ``fulfilment.problems`` and the redemption stays ``paid`` for the merchant to
    cancel. Idempotent; False for other orders."""
    redemption = _of_order(session, shop_id, order_id)
    if redemption is None or redemption.status != "pending_payment":
        return False
    REDEMPTION_STATES.transition(session, redemption, "paid", now=now)
    item = session.get_one(MallItem, redemption.item_id)
    if redemption.kind == "coupon":
        done = _fulfil_coupon(session, redemption, item, now)
    elif redemption.kind == "benefit_package":
        done = _fulfil_package(session, redemption, item, now)
    elif redemption.kind == "app":
        emit_redemption(
            session,
            redemption,
            "points_mall.fulfilment_requested",
            extra={
                "installation_id": item.installation_id,
                "app_item_code": item.app_item_code,
                "title": item.title,
            },
        )
        done = False
    else:
        done = False  # goods: fulfilled when the order ships
    if done:
        REDEMPTION_STATES.transition(session, redemption, "fulfilled", now=now)
    return True


def on_order_released(session: DbSession, *, shop_id: str, order_id: str, now: dt.datetime) -> bool:
    """A held redemption's order was approved (§5.13): it awaits payment — or, with no cash to pay, is paid
    at once through the zero-cash payment path. False for other orders."""
    from souk_platform.orders.services import get_order, start_payment  # orders' services import this module

    redemption = _of_order(session, shop_id, order_id)
    if redemption is None or redemption.status != "in_review":
        return False
    REDEMPTION_STATES.transition(session, redemption, "pending_payment", now=now)
    if get_order(session, shop_id=shop_id, order_id=order_id).total == 0:
        start_payment(session, shop_id=shop_id, order_id=order_id, now=now)
    return True


def on_order_cancelled(session: DbSession, *, shop_id: str, order_id: str, now: dt.datetime) -> bool:
    """The redemption's unpaid order was cancelled, rejected in review or expired: its units go back to the
    item (the order's cancel gives back the points and the SKU's stock). Idempotent; False for other orders."""
    redemption = _of_order(session, shop_id, order_id)
    if redemption is None or redemption.status not in ("in_review", "pending_payment"):
        return False
    return_units(session, redemption)
    REDEMPTION_STATES.transition(session, redemption, "cancelled", now=now)
    return True


def on_order_refunded(session: DbSession, *, shop_id: str, order_id: str, full: bool, now: dt.datetime) -> bool:
    """The redemption's order was refunded in full (the refund gives back the points and the cash): its
    units go back to the item, its unused wallet coupons are revoked, and it becomes ``refunded`` — or stays
    ``cancelled`` when a cancel of the paid redemption asked for the refund. Partial refunds change nothing here."""
    redemption = _of_order(session, shop_id, order_id)
    if redemption is None or not full or redemption.status not in ("paid", "fulfilled", "cancelled"):
        return False
    if redemption.status == "cancelled" and redemption.paid_at is None:
        return False  # cancelled unpaid: its units came back then
    return_units(session, redemption)
    for source_id in (f"{redemption.id}:{copy}" for copy in range(1, redemption.quantity + 1)):
        revoke_entries(session, shop_id=shop_id, source="points_mall", source_id=source_id, now=now)
    if redemption.status != "cancelled":
        REDEMPTION_STATES.transition(session, redemption, "refunded", now=now)
    return True


def on_order_fulfilled(session: DbSession, *, shop_id: str, order_id: str, now: dt.datetime) -> bool:
    """A goods redemption's order shipped: the redemption is fulfilled. False for other orders."""
    redemption = _of_order(session, shop_id, order_id)
    if redemption is None or redemption.status != "paid":
        return False
    REDEMPTION_STATES.transition(session, redemption, "fulfilled", now=now)
    return True
