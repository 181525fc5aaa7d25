"""Refunding a charge: the shop's money back, the fee share reversed, the developer's part taken back."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from souk_marketplace.billing import errors
from souk_marketplace.billing.models import AppCharge, ChargeRefund
from souk_marketplace.billing.services.accounts import _developer_account, _platform_account, _shop_balance
from souk_marketplace.billing.services.events import _emit, charge_payload
from souk_marketplace.billing.services.terms import AVAILABLE, HELD, _fee_share, _iso
from souk_platform.core.errors import InsufficientFunds
from souk_platform.core.ids import new_id
from souk_platform.core.money import format_money
from souk_platform.db import DbSession
from souk_platform.ledger.services import Leg, post_transfer


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
