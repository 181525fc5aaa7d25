"""付费券包: coupon packs sold for money, paid through the real order and payment path (docs/architecture.md §5.9).

Buying a pack (``purchase_pack``) makes an order of it — no lines, ``subtotal`` and ``total`` the pack's
price, awaiting payment like any checkout's order (``order.created``) — and a ``pending`` purchase holding
one of the pack's stock under its row lock. The buyer pays that order the usual way
(``POST /orders/{id}/payments``, the provider's callback): the ledger moves the money as for any order,
and ``_on_paid`` calls ``on_order_paid``, which issues the pack's coupons into the wallet through
``issue_coupon`` (source ``pack``, one source id per copy, so a repeated callback issues nothing twice)
and emits ``coupon_pack.purchased``. A cancelled or expired order gives the stock back
(``on_order_cancelled``). A refund is the order's refund (``POST /orders/{id}/refunds``, money back through
the ledger): ``check_refund`` allows only a full refund within the pack's ``refund_days`` of payment
while none of its coupons was used or is held by an order, and ``on_order_refunded`` revokes the unused
coupons and emits ``coupon_pack.refunded``.

Lock order (§5.3): the pack, then (on payment) the order's chain — order, customer, coupons, wallet
entries, ledger accounts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from souk_platform.core.ids import new_id
from souk_platform.core.versions import check_version
from souk_platform.coupons.errors import (
    CouponNotIssuable,
    CouponPackNotFound,
    CouponPackNotRefundable,
    CouponPackUnavailable,
    InvalidCouponPack,
)
from souk_platform.coupons.models import Coupon, CouponPack, CouponPackPurchase, CustomerCoupon
from souk_platform.coupons.wallet import issue_coupon, revoke_entries
from souk_platform.db import DbSession
from souk_platform.events.services import emit
from souk_platform.points.services import require_customer
from souk_platform.shops.services import get_shop, shop_setting

MAX_ITEMS = 20
EDITABLE = ("name", "stock", "per_customer_limit", "sale_starts_at", "sale_ends_at", "refund_days", "status")
_HOLDING = ("pending", "paid")  # purchases that take a pack from stock and count per customer

__all__ = [
    "check_refund",
    "create_pack",
    "get_pack",
    "get_purchase",
    "on_order_cancelled",
    "on_order_paid",
    "on_order_refunded",
    "pack_payload",
    "packs_stmt",
    "purchase_pack",
    "purchases_stmt",
    "refund_refusals",
    "update_pack",
]


def pack_payload(pack: CouponPack) -> dict[str, Any]:
    return {
        "id": pack.id,
        "name": pack.name,
        "price": pack.price,
        "currency": pack.currency,
        "items": list(pack.items),
        "stock": pack.stock,
        "sold": pack.sold,
        "per_customer_limit": pack.per_customer_limit,
        "sale_starts_at": pack.sale_starts_at.isoformat() if pack.sale_starts_at else None,
        "sale_ends_at": pack.sale_ends_at.isoformat() if pack.sale_ends_at else None,
        "refund_days": pack.refund_days,
        "status": pack.status,
        "version": pack.version,
    }


def purchase_payload(purchase: CouponPackPurchase) -> dict[str, Any]:
    return {
        "id": purchase.id,
        "pack_id": purchase.pack_id,
        "customer_id": purchase.customer_id,
        "order_id": purchase.order_id,
        "status": purchase.status,
        "price": purchase.price,
        "paid_at": purchase.paid_at.isoformat() if purchase.paid_at else None,
        "version": purchase.version,
    }


def _emit(session: DbSession, pack: CouponPack, purchase: CouponPackPurchase, type: str, now: dt.datetime) -> None:
    session.flush()
    emit(
        session,
        shop_id=pack.shop_id,
        type=type,
        subject_type="coupon_pack",
        subject_id=pack.id,
        payload={**pack_payload(pack), "purchase": purchase_payload(purchase)},
        created_at=now,
    )


# --- managing packs ----------------------------------------------------------------------------------


def _check(session: DbSession, pack: CouponPack) -> None:
    errors: dict[str, list[str]] = {}
    shop = get_shop(session, pack.shop_id)
    if pack.currency != shop.currency:
        errors["currency"] = [f"Packs are sold in the shop's currency, {shop.currency}."]
    wanted = [str(item["coupon_id"]) for item in pack.items]
    if len(set(wanted)) != len(wanted):
        errors["items"] = ["Name each coupon once; set its quantity instead."]
    found = {
        c.id: c for c in session.scalars(sa.select(Coupon).where(Coupon.shop_id == pack.shop_id, Coupon.id.in_(wanted)))
    }
    for i, coupon_id in enumerate(wanted):
        coupon = found.get(coupon_id)
        if coupon is None:
            errors[f"items.{i}.coupon_id"] = [f"No coupon {coupon_id} in this shop."]
        elif coupon.distribution != "issued":
            errors[f"items.{i}.coupon_id"] = ["A pack holds issued coupons (distribution 'issued'), not public codes."]
    if pack.sale_starts_at and pack.sale_ends_at and pack.sale_ends_at <= pack.sale_starts_at:
        errors["sale_ends_at"] = ["Must be after sale_starts_at."]
    if pack.stock is not None and pack.stock < pack.sold:
        errors["stock"] = [f"{pack.sold} are already sold or awaiting payment."]
    if errors:
        raise InvalidCouponPack(
            "The coupon pack's settings are not valid: " + ", ".join(sorted(errors)) + ".", errors=errors
        )


def create_pack(session: DbSession, *, shop_id: str, fields: dict[str, Any]) -> CouponPack:
    """A pack from validated fields; 422 naming each bad field (unknown or public coupons, currency…)."""
    pack = CouponPack(
        shop_id=shop_id,
        name=fields["name"],
        price=fields["price"],
        currency=fields.get("currency") or get_shop(session, shop_id).currency,
        items=[{"coupon_id": item["coupon_id"], "quantity": item["quantity"]} for item in fields["items"]],
        stock=fields.get("stock"),
        sold=0,
        per_customer_limit=fields.get("per_customer_limit"),
        sale_starts_at=fields.get("sale_starts_at"),
        sale_ends_at=fields.get("sale_ends_at"),
        refund_days=fields.get("refund_days", 7),
        status=fields.get("status") or "active",
    )
    _check(session, pack)
    session.add(pack)
    session.flush()
    return pack


def get_pack(session: DbSession, *, shop_id: str, pack_id: str, for_update: bool = False) -> CouponPack:
    stmt = sa.select(CouponPack).where(CouponPack.shop_id == shop_id, CouponPack.id == pack_id)
    if for_update:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    pack = session.scalar(stmt)
    if pack is None:
        raise CouponPackNotFound(f"No coupon pack {pack_id} in this shop.")
    return pack


def update_pack(
    session: DbSession, *, shop_id: str, pack_id: str, changes: dict[str, Any], expected_version: int | None
) -> CouponPack:
    """Change a pack's sale (price and contents are fixed once created); 412 on a stale ``expected_version``."""
    pack = get_pack(session, shop_id=shop_id, pack_id=pack_id, for_update=True)
    check_version(pack.version, expected_version)
    for name in EDITABLE:
        if name in changes:
            setattr(pack, name, changes[name])
    _check(session, pack)
    session.flush()
    return pack


def packs_stmt(shop_id: str, *, status: str | None = None) -> sa.Select[Any]:
    stmt = sa.select(CouponPack).where(CouponPack.shop_id == shop_id)
    return stmt.where(CouponPack.status == status) if status else stmt


def purchases_stmt(session: DbSession, *, shop_id: str, pack_id: str) -> sa.Select[Any]:
    pack = get_pack(session, shop_id=shop_id, pack_id=pack_id)
    return sa.select(CouponPackPurchase).where(
        CouponPackPurchase.shop_id == shop_id, CouponPackPurchase.pack_id == pack.id
    )


# --- buying --------------------------------------------------------------------------------------------


def _unavailable(session: DbSession, pack: CouponPack, customer_id: str, now: dt.datetime) -> str | None:
    if pack.status != "active":
        return "This coupon pack is not on sale."
    if pack.sale_starts_at is not None and now < pack.sale_starts_at:
        return f"This coupon pack is on sale from {pack.sale_starts_at.isoformat()}."
    if pack.sale_ends_at is not None and now >= pack.sale_ends_at:
        return "This coupon pack's sale has ended."
    if pack.stock is not None and pack.sold >= pack.stock:
        return "This coupon pack is sold out."
    if pack.per_customer_limit is not None:
        bought = session.scalar(
            sa.select(sa.func.count()).where(
                CouponPackPurchase.pack_id == pack.id,
                CouponPackPurchase.customer_id == customer_id,
                CouponPackPurchase.status.in_(_HOLDING),
            )
        )
        if (bought or 0) >= pack.per_customer_limit:
            return f"This customer has already bought {bought} of this pack, the most allowed."
    return None


def purchase_pack(
    session: DbSession, *, shop_id: str, pack_id: str, customer_id: str, now: dt.datetime
) -> CouponPackPurchase:
    """Buy a pack for ``customer_id``: an order of the pack awaiting payment, and a pending purchase.

    Under the pack's row lock, so parallel buyers cannot take more than ``stock`` nor one customer more
    than ``per_customer_limit``: 409 ``coupon-pack-unavailable`` (sold out, not on sale, limit reached).
    404 for another shop's pack or customer. Pay the returned ``order_id`` as any order.
    """
    from souk_platform.orders.models import Order  # orders' services call back into this module
    from souk_platform.orders.services import order_payload

    pack = get_pack(session, shop_id=shop_id, pack_id=pack_id, for_update=True)
    require_customer(session, shop_id=shop_id, customer_id=customer_id)
    reason = _unavailable(session, pack, customer_id, now)
    if reason:
        raise CouponPackUnavailable(reason, pack_id=pack.id)
    shop = get_shop(session, shop_id)
    order = Order(
        id=new_id("ord"),
        shop_id=shop_id,
        customer_id=customer_id,
        status="pending_payment",
        currency=pack.currency,
        subtotal=pack.price,
        discount_total=0,
        fee_total=0,
        points_spent=0,
        points_value=0,
        stored_value_used=0,
        total=pack.price,
        refunded_total=0,
        discounts=[],
        fees=[],
        reservation_expires_at=now + dt.timedelta(minutes=int(shop_setting(shop, "reservation_minutes"))),
        created_at=now,
    )
    session.add(order)
    purchase = CouponPackPurchase(
        shop_id=shop_id,
        pack_id=pack.id,
        customer_id=customer_id,
        order_id=order.id,
        status="pending",
        price=pack.price,
        problems=[],
        created_at=now,
    )
    session.add(purchase)
    pack.sold += 1
    session.flush()
    payload = order_payload(order)
    payload["coupon_pack"] = {"id": pack.id, "name": pack.name, "purchase_id": purchase.id}
    emit(session, shop_id=shop_id, type="order.created", subject_type="order", subject_id=order.id, payload=payload)
    return purchase


def _purchase_of(session: DbSession, shop_id: str, order_id: str) -> CouponPackPurchase | None:
    return session.scalar(
        sa.select(CouponPackPurchase)
        .where(CouponPackPurchase.shop_id == shop_id, CouponPackPurchase.order_id == order_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def on_order_paid(session: DbSession, *, shop_id: str, order_id: str, now: dt.datetime) -> int:
    """The order of a pack was paid: issue its coupons into the buyer's wallet; idempotent.

    A coupon that cannot be issued any more (disabled, ended, over a limit since the pack went on sale)
    is recorded in the purchase's ``problems`` — the merchant may refund the pack. Returns how many
    wallet entries this call issued (0 for an order that is not a pack's).
    """
    purchase = _purchase_of(session, shop_id, order_id)
    if purchase is None or purchase.status != "pending":
        return 0
    pack = session.get_one(CouponPack, purchase.pack_id)
    issued = 0
    problems: list[dict[str, Any]] = []
    for item in pack.items:
        for copy in range(int(item["quantity"])):
            try:
                with session.begin_nested():
                    issue_coupon(
                        session,
                        shop_id=shop_id,
                        coupon_id=str(item["coupon_id"]),
                        customer_id=purchase.customer_id,
                        source="pack",
                        source_id=f"{purchase.id}:{copy + 1}",
                        now=now,
                    )
                issued += 1
            except CouponNotIssuable as exc:
                problems.append({"coupon_id": item["coupon_id"], "copy": copy + 1, "reason": exc.detail})
    purchase.status, purchase.paid_at, purchase.problems = "paid", now, problems
    _emit(session, pack, purchase, "coupon_pack.purchased", now)
    return issued


def on_order_cancelled(session: DbSession, *, shop_id: str, order_id: str, now: dt.datetime) -> bool:
    """The pack's order was cancelled or expired unpaid: give its pack back to stock; idempotent."""
    purchase = _purchase_of(session, shop_id, order_id)
    if purchase is None or purchase.status != "pending":
        return False
    session.execute(sa.update(CouponPack).where(CouponPack.id == purchase.pack_id).values(sold=CouponPack.sold - 1))
    purchase.status, purchase.ended_at = "cancelled", now
    session.flush()
    return True


def _pack_entries(session: DbSession, purchase: CouponPackPurchase) -> Sequence[CustomerCoupon]:
    return session.scalars(
        sa.select(CustomerCoupon).where(
            CustomerCoupon.customer_id == purchase.customer_id,
            CustomerCoupon.source == "pack",
            CustomerCoupon.source_id.like(f"{purchase.id}:%"),
        )
    ).all()


def _refund_refusal(
    session: DbSession, purchase: CouponPackPurchase, pack: CouponPack, *, full: bool, now: dt.datetime
) -> str | None:
    if purchase.status != "paid":
        return f"This coupon pack purchase is {purchase.status}."
    if not full:
        return "A coupon pack is refunded in full or not at all."
    assert purchase.paid_at is not None
    if now > purchase.paid_at + dt.timedelta(days=pack.refund_days):
        return f"A coupon pack can be refunded within {pack.refund_days} days of payment."
    touched = [e for e in _pack_entries(session, purchase) if e.status in ("reserved", "used")]
    if touched:
        return f"{len(touched)} of this pack's coupons have been used or are held by an order; it cannot be refunded."
    return None


def check_refund(session: DbSession, *, shop_id: str, order_id: str, full: bool, now: dt.datetime) -> None:
    """Before refunding a pack's order: only in full, within ``refund_days`` of payment, and while none
    of its coupons was used or is held by an unpaid order — else 409 ``coupon-pack-not-refundable``.
    Orders that are not a pack's pass."""
    purchase = _purchase_of(session, shop_id, order_id)
    if purchase is None:
        return
    pack = session.get_one(CouponPack, purchase.pack_id)
    reason = _refund_refusal(session, purchase, pack, full=full, now=now)
    if reason:
        raise CouponPackNotRefundable(reason)


def refund_refusals(
    session: DbSession, *, pack: CouponPack, purchases: Sequence[CouponPackPurchase], now: dt.datetime
) -> dict[str, str | None]:
    """For a page's refund buttons: why each purchase could not be refunded in full now (None: it can).

    The same rules ``check_refund`` applies when the refund is asked for; read without locks, so the
    answer may change before the merchant clicks (the refund checks again under its locks)."""
    return {p.id: _refund_refusal(session, p, pack, full=True, now=now) for p in purchases}


def get_purchase(session: DbSession, *, shop_id: str, pack_id: str, purchase_id: str) -> CouponPackPurchase:
    """One purchase of one of the shop's packs; 404 (``coupon-pack-not-found``) for anything else."""
    purchase = session.scalar(
        sa.select(CouponPackPurchase).where(
            CouponPackPurchase.shop_id == shop_id,
            CouponPackPurchase.pack_id == pack_id,
            CouponPackPurchase.id == purchase_id,
        )
    )
    if purchase is None:
        raise CouponPackNotFound(f"No purchase {purchase_id} of coupon pack {pack_id} in this shop.")
    return purchase


def on_order_refunded(session: DbSession, *, shop_id: str, order_id: str, now: dt.datetime) -> int:
    """The pack's order was refunded (``check_refund`` passed): revoke its unused coupons and emit
    ``coupon_pack.refunded``. Returns how many coupons were revoked."""
    purchase = _purchase_of(session, shop_id, order_id)
    if purchase is None or purchase.status != "paid":
        return 0
    revoked = 0
    for entry_source_id in sorted({e.source_id for e in _pack_entries(session, purchase)}):
        revoked += revoke_entries(session, shop_id=shop_id, source="pack", source_id=entry_source_id, now=now)
    purchase.status, purchase.ended_at = "refunded", now
    session.execute(
        sa.update(CouponPack).where(CouponPack.id == purchase.pack_id).values(sold=CouponPack.sold - 1)
    )  # back on sale
    pack = session.get_one(CouponPack, purchase.pack_id)
    session.refresh(pack)
    _emit(session, pack, purchase, "coupon_pack.refunded", now)
    return revoked
