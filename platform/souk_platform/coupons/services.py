"""Coupons and promotions: managing them, pricing an order's discounts, and redemptions.

The checkout calls ``price_discounts`` → ``reserve_redemptions`` (in the order's transaction), then
``confirm_redemptions`` on payment or ``release_redemptions`` on cancel. Limits count reserved and
redeemed redemptions; ``reserve_redemptions`` re-checks them under the coupon's row lock, so parallel
checkouts cannot go past ``total_limit`` or ``per_customer_limit``.

An ``issued`` coupon (distribution) works only for a customer holding an unused wallet entry of it
(``coupons/wallet.py``, docs/architecture.md §5.9): its limits were applied when it was issued, and
``reserve_redemptions`` holds the holder's entry for the order under the same lock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from souk_platform.core.money import percent_of
from souk_platform.core.versions import check_version
from souk_platform.coupons.errors import (
    CouponInUse,
    CouponNotApplicable,
    CouponNotFound,
    DuplicateCouponCode,
    InvalidCoupon,
)
from souk_platform.coupons.models import Coupon, CouponRedemption
from souk_platform.coupons.wallet import held_coupon_ids, reserve_entries
from souk_platform.db import DbSession
from souk_platform.events.services import emit
from souk_platform.points.services import require_customer
from souk_platform.shops.services import get_shop

MAX_CODES = 10  # codes one order may carry
EDITABLE = (
    "name",
    "value",
    "min_spend",
    "max_discount",
    "auto_apply",
    "stackable",
    "per_customer_limit",
    "total_limit",
    "starts_at",
    "ends_at",
    "status",
    "valid_days",
)
_IN_USE = ("reserved", "redeemed")

__all__ = [
    "AppliedDiscount",
    "confirm_redemptions",
    "coupons_stmt",
    "create_coupon",
    "delete_coupon",
    "get_coupon",
    "preview_discounts",
    "price_discounts",
    "redemptions_stmt",
    "release_redemptions",
    "reserve_redemptions",
    "update_coupon",
]


@dataclass(frozen=True, slots=True)
class AppliedDiscount:
    """One coupon or promotion applied to an order, ``amount`` in fen."""

    coupon_id: str
    code: str | None
    label: str
    amount: int


def normalize_code(code: str) -> str:
    return code.strip().upper()


def coupon_payload(coupon: Coupon) -> dict[str, Any]:
    return {
        "id": coupon.id,
        "code": coupon.code,
        "name": coupon.name,
        "kind": coupon.kind,
        "value": coupon.value,
        "min_spend": coupon.min_spend,
        "max_discount": coupon.max_discount,
        "auto_apply": coupon.auto_apply,
        "stackable": coupon.stackable,
        "per_customer_limit": coupon.per_customer_limit,
        "total_limit": coupon.total_limit,
        "starts_at": coupon.starts_at.isoformat() if coupon.starts_at else None,
        "ends_at": coupon.ends_at.isoformat() if coupon.ends_at else None,
        "status": coupon.status,
        "redeemed_count": coupon.redeemed_count,
        "distribution": coupon.distribution,
        "valid_days": coupon.valid_days,
        "issued_count": coupon.issued_count,
        "version": coupon.version,
    }


def _emit(session: DbSession, coupon: Coupon, type: str, **extra: Any) -> None:
    session.flush()
    emit(
        session,
        shop_id=coupon.shop_id,
        type=type,
        subject_type="coupon",
        subject_id=coupon.id,
        payload={**coupon_payload(coupon), **extra},
    )


# --- managing coupons -----------------------------------------------------------------------------


def _check_rules(coupon: Coupon) -> None:
    """Cross-field rules the schema cannot express; 422 naming each field."""
    errors: dict[str, list[str]] = {}
    if coupon.kind == "percent" and coupon.value > 10_000:
        errors["value"] = ["A percent coupon's value is basis points off, 1 to 10000 (9折 = 1000)."]
    if coupon.kind != "percent" and coupon.max_discount is not None:
        errors["max_discount"] = ["Only percent coupons have a maximum discount."]
    if coupon.kind == "threshold" and coupon.min_spend < coupon.value:
        errors["min_spend"] = ["A threshold coupon (满减) needs a minimum spend of at least its value."]
    if coupon.code is None and not coupon.auto_apply:
        errors["code"] = ["A coupon needs a code unless it is an automatic promotion (auto_apply)."]
    if coupon.starts_at and coupon.ends_at and coupon.ends_at <= coupon.starts_at:
        errors["ends_at"] = ["Must be after starts_at."]
    if coupon.distribution == "issued" and coupon.auto_apply:
        errors["auto_apply"] = ["An issued coupon is used by its holders with its code; it cannot apply automatically."]
    if coupon.distribution != "issued" and coupon.valid_days is not None:
        errors["valid_days"] = ["Only issued coupons have a validity after issue."]
    if errors:
        raise InvalidCoupon("The coupon's settings are not valid: " + ", ".join(sorted(errors)) + ".", errors=errors)


def _check_code_free(session: DbSession, shop_id: str, code: str | None, coupon_id: str | None = None) -> None:
    if code is None:
        return
    taken = session.scalar(
        sa.select(Coupon.id).where(Coupon.shop_id == shop_id, Coupon.code == code, Coupon.id != (coupon_id or ""))
    )
    if taken is not None:
        raise DuplicateCouponCode(f"The code {code} is already used by coupon {taken}.", errors={"code": ["Taken."]})


def create_coupon(session: DbSession, *, shop_id: str, fields: dict[str, Any]) -> Coupon:
    """Create a coupon or promotion from validated fields; 422 for inconsistent settings, 409 for a taken code."""
    code = fields.get("code")
    coupon = Coupon(
        shop_id=shop_id,
        code=normalize_code(code) if code else None,
        name=fields["name"],
        kind=fields["kind"],
        value=fields["value"],
        min_spend=fields.get("min_spend") or 0,
        max_discount=fields.get("max_discount"),
        auto_apply=bool(fields.get("auto_apply", False)),
        stackable=bool(fields.get("stackable", True)),
        per_customer_limit=fields.get("per_customer_limit"),
        total_limit=fields.get("total_limit"),
        starts_at=fields.get("starts_at"),
        ends_at=fields.get("ends_at"),
        status=fields.get("status") or "active",
        redeemed_count=0,
        distribution=fields.get("distribution") or "public",
        valid_days=fields.get("valid_days"),
        issued_count=0,
    )
    _check_rules(coupon)
    _check_code_free(session, shop_id, coupon.code)
    session.add(coupon)
    _emit(session, coupon, "coupon.created")
    return coupon


def get_coupon(session: DbSession, *, shop_id: str, coupon_id: str) -> Coupon:
    coupon = session.scalar(sa.select(Coupon).where(Coupon.shop_id == shop_id, Coupon.id == coupon_id))
    if coupon is None:
        raise CouponNotFound(f"No coupon {coupon_id} in this shop.")
    return coupon


def update_coupon(
    session: DbSession, *, shop_id: str, coupon_id: str, changes: dict[str, Any], expected_version: int | None
) -> Coupon:
    """Change a coupon (disable it with ``status: disabled``); 412 when ``expected_version`` is stale."""
    coupon = get_coupon(session, shop_id=shop_id, coupon_id=coupon_id)
    check_version(coupon.version, expected_version)
    for name in EDITABLE:
        if name in changes:
            setattr(coupon, name, changes[name])
    if coupon.min_spend is None:
        coupon.min_spend = 0
    _check_rules(coupon)
    _emit(session, coupon, "coupon.updated")
    return coupon


def delete_coupon(session: DbSession, *, shop_id: str, coupon_id: str, expected_version: int | None) -> None:
    """Delete a coupon nobody has used (409 otherwise: disable it instead, to keep its history)."""
    coupon = get_coupon(session, shop_id=shop_id, coupon_id=coupon_id)
    check_version(coupon.version, expected_version)
    used = session.scalar(sa.select(CouponRedemption.id).where(CouponRedemption.coupon_id == coupon.id).limit(1))
    if used is not None:
        raise CouponInUse("This coupon has been used on orders; disable it (PATCH status) instead of deleting it.")
    emit(
        session,
        shop_id=shop_id,
        type="coupon.deleted",
        subject_type="coupon",
        subject_id=coupon.id,
        payload=coupon_payload(coupon),
    )
    session.delete(coupon)
    session.flush()


def coupons_stmt(
    shop_id: str, *, status: str | None = None, auto_apply: bool | None = None, code: str | None = None
) -> sa.Select[Any]:
    stmt = sa.select(Coupon).where(Coupon.shop_id == shop_id)
    if status:
        stmt = stmt.where(Coupon.status == status)
    if auto_apply is not None:
        stmt = stmt.where(Coupon.auto_apply.is_(auto_apply))
    if code:
        stmt = stmt.where(Coupon.code == normalize_code(code))
    return stmt


def redemptions_stmt(session: DbSession, *, shop_id: str, coupon_id: str) -> sa.Select[Any]:
    coupon = get_coupon(session, shop_id=shop_id, coupon_id=coupon_id)
    return sa.select(CouponRedemption).where(
        CouponRedemption.shop_id == shop_id, CouponRedemption.coupon_id == coupon.id
    )


# --- pricing ---------------------------------------------------------------------------------------


def _usage(
    session: DbSession, coupon_ids: Sequence[str], customer_id: str | None
) -> tuple[dict[str, int], dict[str, int]]:
    """(reserved+redeemed redemptions per coupon, the same for ``customer_id`` only)."""
    if not coupon_ids:
        return {}, {}
    in_use = sa.select(CouponRedemption.coupon_id, sa.func.count()).where(
        CouponRedemption.coupon_id.in_(coupon_ids), CouponRedemption.status.in_(_IN_USE)
    )
    total: dict[str, int] = {
        coupon_id: count for coupon_id, count in session.execute(in_use.group_by(CouponRedemption.coupon_id))
    }
    mine: dict[str, int] = {}
    if customer_id is not None:
        mine = {
            coupon_id: count
            for coupon_id, count in session.execute(
                in_use.where(CouponRedemption.customer_id == customer_id).group_by(CouponRedemption.coupon_id)
            )
        }
    return total, mine


def _limit_reason(coupon: Coupon, customer_id: str | None, total: int, mine: int) -> str | None:
    if coupon.distribution == "issued":
        return None  # its limits were applied when it was issued: the wallet entry is the right to use it
    if coupon.total_limit is not None and total >= coupon.total_limit:
        return "This coupon has been fully redeemed."
    if coupon.per_customer_limit is not None:
        if customer_id is None:
            return "This coupon is limited per customer, so the order needs a customer."
        if mine >= coupon.per_customer_limit:
            return f"This customer has already used this coupon {mine} time(s), the most allowed."
    return None


def _reason_not_usable(coupon: Coupon, *, subtotal: int, now: dt.datetime) -> str | None:
    if coupon.status != "active":
        return "This coupon is disabled."
    if coupon.starts_at is not None and now < coupon.starts_at:
        return f"This coupon is valid from {coupon.starts_at.isoformat()}."
    if coupon.ends_at is not None and now >= coupon.ends_at:
        return "This coupon has expired."
    if subtotal < coupon.min_spend:
        return f"Spend at least {coupon.min_spend} (minor units) to use this coupon; the order is {subtotal}."
    return None


def _holder_reason(coupon: Coupon, customer_id: str | None, held: set[str]) -> str | None:
    if coupon.distribution != "issued" or coupon.id in held:
        return None
    if customer_id is None:
        return "This coupon was issued to particular customers; the order needs the customer who holds it."
    return "This coupon was issued to particular customers, and this customer holds no unused one."


def _amount(coupon: Coupon, subtotal: int) -> int:
    if coupon.kind == "percent":
        amount = percent_of(subtotal, coupon.value)
        if coupon.max_discount is not None:
            amount = min(amount, coupon.max_discount)
    else:
        amount = coupon.value
    return min(amount, subtotal)


def price_discounts(
    session: DbSession,
    *,
    shop_id: str,
    customer_id: str | None,
    subtotal: int,
    codes: Sequence[str],
    now: dt.datetime,
) -> list[AppliedDiscount]:
    """The discounts an order of ``subtotal`` fen gets from ``codes`` plus eligible automatic promotions.

    No side effects. A code that cannot be used raises ``CouponNotApplicable`` (422) with
    ``errors={"coupon_codes.<i>": [reason]}`` for every bad code. Stackable discounts add up; a
    non-stackable one is used alone only when it beats the stackable total; the total never
    exceeds ``subtotal``. Zero-amount discounts are left out.
    """
    if isinstance(subtotal, bool) or not isinstance(subtotal, int) or subtotal < 0:
        raise CouponNotApplicable("The subtotal must be 0 or more minor units.", errors={"subtotal": ["Must be ≥ 0."]})
    if len(codes) > MAX_CODES:
        raise CouponNotApplicable(
            f"At most {MAX_CODES} coupon codes per order.", errors={"coupon_codes": [f"At most {MAX_CODES}."]}
        )
    wanted = [normalize_code(code) for code in codes]
    by_code = (
        {
            c.code: c
            for c in session.scalars(
                sa.select(Coupon).where(Coupon.shop_id == shop_id, Coupon.code.in_([w for w in wanted if w]))
            )
        }
        if any(wanted)
        else {}
    )
    promotions = session.scalars(
        sa.select(Coupon)
        .where(Coupon.shop_id == shop_id, Coupon.auto_apply.is_(True), Coupon.status == "active")
        .order_by(Coupon.id)
    ).all()
    total_usage, my_usage = _usage(session, [c.id for c in by_code.values()] + [p.id for p in promotions], customer_id)
    issued = [c.id for c in by_code.values() if c.distribution == "issued"]
    held = held_coupon_ids(session, customer_id=customer_id, coupon_ids=issued, now=now)

    errors: dict[str, list[str]] = {}
    chosen: list[Coupon] = []
    for i, code in enumerate(wanted):
        coupon = by_code.get(code) if code else None
        if coupon is None:
            reason: str | None = "Enter a coupon code." if not code else f"There is no coupon with the code {code}."
        elif coupon in chosen:
            reason = "This code is already applied to the order."
        else:
            reason = (
                _reason_not_usable(coupon, subtotal=subtotal, now=now)
                or _holder_reason(coupon, customer_id, held)
                or _limit_reason(coupon, customer_id, total_usage.get(coupon.id, 0), my_usage.get(coupon.id, 0))
            )
        if reason:
            errors[f"coupon_codes.{i}"] = [reason]
        elif coupon is not None:
            chosen.append(coupon)
    if errors:
        raise CouponNotApplicable(
            "Some coupon codes cannot be used on this order: " + "; ".join(m[0] for m in errors.values()),
            errors=errors,
        )
    for promotion in promotions:
        if promotion not in chosen and not (
            _reason_not_usable(promotion, subtotal=subtotal, now=now)
            or _limit_reason(promotion, customer_id, total_usage.get(promotion.id, 0), my_usage.get(promotion.id, 0))
        ):
            chosen.append(promotion)

    priced = [(c, _amount(c, subtotal)) for c in chosen]
    stackable = [(c, a) for c, a in priced if c.stackable]
    stack_total = min(sum(a for _, a in stackable), subtotal)
    best_alone = max((p for p in priced if not p[0].stackable), key=lambda p: p[1], default=None)
    use = [best_alone] if best_alone is not None and best_alone[1] > stack_total else stackable

    applied: list[AppliedDiscount] = []
    left = subtotal
    for coupon, amount in use:
        amount = min(amount, left)
        left -= amount
        if amount > 0:
            applied.append(AppliedDiscount(coupon.id, coupon.code, coupon.name, amount))
    return applied


def preview_discounts(
    session: DbSession,
    *,
    shop_id: str,
    customer_id: str | None,
    subtotal: int,
    codes: Sequence[str],
    now: dt.datetime,
) -> dict[str, Any]:
    """``price_discounts`` for the preview endpoint: checks the customer, adds totals. No side effects."""
    if customer_id is not None:
        require_customer(session, shop_id=shop_id, customer_id=customer_id)
    applied = price_discounts(
        session, shop_id=shop_id, customer_id=customer_id, subtotal=subtotal, codes=codes, now=now
    )
    total = sum(d.amount for d in applied)
    return {
        "subtotal": subtotal,
        "currency": get_shop(session, shop_id).currency,
        "discounts": applied,
        "total_discount": total,
        "payable": subtotal - total,
    }


# --- redemptions -----------------------------------------------------------------------------------


def _lock_coupons(session: DbSession, shop_id: str, coupon_ids: set[str]) -> dict[str, Coupon]:
    """Row-lock the coupons in id order (so concurrent checkouts queue instead of deadlocking)."""
    return {
        c.id: c
        for c in session.scalars(
            sa.select(Coupon)
            .where(Coupon.shop_id == shop_id, Coupon.id.in_(coupon_ids))
            .order_by(Coupon.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    }


def reserve_redemptions(
    session: DbSession,
    *,
    shop_id: str,
    customer_id: str | None,
    order_id: str,
    applied: Sequence[AppliedDiscount],
    now: dt.datetime,
) -> None:
    """Hold each applied coupon for ``order_id``; idempotent per (coupon, order).

    Limits are re-checked under the coupons' row locks: when one is used up by now (a parallel
    checkout won the last one) it raises ``CouponNotApplicable`` (422) and the caller rolls back.
    An issued coupon holds one of the customer's unused wallet entries instead (the same 422 when a
    parallel checkout took the last one).
    """
    wanted = [d for d in applied if d.amount > 0]
    if not wanted:
        return
    coupons = _lock_coupons(session, shop_id, {d.coupon_id for d in wanted})
    existing = set(
        session.scalars(
            sa.select(CouponRedemption.coupon_id).where(
                CouponRedemption.shop_id == shop_id, CouponRedemption.order_id == order_id
            )
        )
    )
    total_usage, my_usage = _usage(session, list(coupons), customer_id)
    problems: list[str] = []
    from_wallet: list[str] = []
    for discount in sorted(wanted, key=lambda d: d.coupon_id):
        if discount.coupon_id in existing:
            continue
        coupon = coupons.get(discount.coupon_id)
        if coupon is None:
            problems.append(f"The coupon {discount.coupon_id} no longer exists.")
            continue
        reason = ("This coupon is disabled." if coupon.status != "active" else None) or _limit_reason(
            coupon, customer_id, total_usage.get(coupon.id, 0), my_usage.get(coupon.id, 0)
        )
        if reason:
            problems.append(f"{coupon.code or coupon.name}: {reason}")
            continue
        if coupon.distribution == "issued":
            from_wallet.append(coupon.id)
        session.add(
            CouponRedemption(
                shop_id=shop_id,
                coupon_id=coupon.id,
                customer_id=customer_id,
                order_id=order_id,
                amount=discount.amount,
                status="reserved",
            )
        )
    for coupon_id in reserve_entries(
        session, shop_id=shop_id, customer_id=customer_id, order_id=order_id, coupon_ids=from_wallet, now=now
    ):
        coupon = coupons[coupon_id]
        problems.append(f"{coupon.code or coupon.name}: {_holder_reason(coupon, customer_id, set())}")
    if problems:
        raise CouponNotApplicable(" ".join(problems), errors={"coupon_codes": problems})
    session.flush()


def _redemptions_of(session: DbSession, shop_id: str, order_id: str, status: str) -> list[CouponRedemption]:
    return list(
        session.scalars(
            sa.select(CouponRedemption)
            .where(
                CouponRedemption.shop_id == shop_id,
                CouponRedemption.order_id == order_id,
                CouponRedemption.status == status,
            )
            .order_by(CouponRedemption.coupon_id)
            .with_for_update()
        )
    )


def confirm_redemptions(session: DbSession, *, shop_id: str, order_id: str) -> int:
    """Mark the order's reserved coupons redeemed (on payment) and emit ``coupon.redeemed``; idempotent.

    Returns how many were redeemed by this call.
    """
    redemptions = _redemptions_of(session, shop_id, order_id, "reserved")
    if not redemptions:
        return 0
    coupons = _lock_coupons(session, shop_id, {r.coupon_id for r in redemptions})
    for redemption in redemptions:
        coupon = coupons[redemption.coupon_id]
        redemption.status = "redeemed"
        coupon.redeemed_count += 1
        _emit(
            session,
            coupon,
            "coupon.redeemed",
            redemption={
                "id": redemption.id,
                "order_id": order_id,
                "customer_id": redemption.customer_id,
                "amount": redemption.amount,
            },
        )
    return len(redemptions)


def release_redemptions(session: DbSession, *, shop_id: str, order_id: str) -> int:
    """Give back the order's reserved coupons (on cancel) so others may use them; idempotent.

    Redeemed coupons stay redeemed. Returns how many were released by this call.
    """
    redemptions = _redemptions_of(session, shop_id, order_id, "reserved")
    for redemption in redemptions:
        redemption.status = "released"
    session.flush()
    return len(redemptions)
