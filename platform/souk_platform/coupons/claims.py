"""Claiming a public coupon into one's wallet (领券, docs/architecture.md §5.15).

A customer may claim an active ``public`` coupon within its window, up to its ``per_customer_limit`` claims
(and ``total_limit`` entries in all); the entry is issued with source ``claim`` and emits ``coupon.issued``
as every wallet entry does. Each claim passes risk control (action ``coupon_claim``): a claim has nothing to
hold, so a review is a refusal like a deny, and the decision is kept either way. The coupon's row lock
(taken first, §5.3) makes parallel claims of one customer queue, so a limit of one gives one entry.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from souk_platform.core.ids import new_id
from souk_platform.coupons.errors import CouponNotClaimable, CouponNotFound
from souk_platform.coupons.models import Coupon, CouponClaim, CustomerCoupon
from souk_platform.coupons.wallet import emit_entry_event, entry_expiry
from souk_platform.db import DbSession
from souk_platform.points.services import require_customer
from souk_platform.shops.models import Shop

__all__ = ["claim_coupon", "claim_refusal"]


def claim_refusal(session: DbSession, coupon: Coupon, customer_id: str, *, now: dt.datetime) -> tuple[str, str] | None:
    """Why ``customer_id`` cannot claim ``coupon`` now, as (code, words); None: they can. Call under its lock."""
    if coupon.distribution != "public":
        return "issued", "Only public coupons can be claimed; this one is given out by the shop."
    if coupon.status != "active":
        return "disabled", "This coupon is disabled."
    if coupon.starts_at is not None and now < coupon.starts_at:
        return "not_started", "This coupon cannot be claimed before it starts."
    if coupon.ends_at is not None and now >= coupon.ends_at:
        return "ended", "This coupon has ended."
    if coupon.total_limit is not None and coupon.issued_count >= coupon.total_limit:
        return "total_limit", f"All {coupon.total_limit} of this coupon have been claimed."
    if coupon.per_customer_limit is not None:
        held = session.scalar(
            sa.select(sa.func.count()).where(
                CustomerCoupon.coupon_id == coupon.id,
                CustomerCoupon.customer_id == customer_id,
                CustomerCoupon.source == "claim",
                CustomerCoupon.status != "revoked",
            )
        )
        if (held or 0) >= coupon.per_customer_limit:
            return "per_customer_limit", f"This customer already claimed {held} of this coupon, the most allowed."
    return None


def claim_coupon(
    session: DbSession,
    *,
    shop: Shop,
    coupon_id: str,
    customer_id: str,
    ip: str | None,
    device_id: str | None,
    now: dt.datetime,
) -> CustomerCoupon:
    """Put one ``coupon_id`` into ``customer_id``'s wallet by their own claim (source ``claim``).

    409 ``coupon-not-claimable`` (with ``reason``) outside the rules above; 422 ``risk-denied`` when risk
    control refuses (the decision survives the rollback); 404 for another shop's coupon or customer."""
    # Imported here: risk's services import orders', which import the coupons package.
    from souk_platform.points_tasks.errors import RiskDenied
    from souk_platform.risk.services import RiskFacts, evaluate

    coupon = session.scalar(
        sa.select(Coupon)
        .where(Coupon.shop_id == shop.id, Coupon.id == coupon_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if coupon is None:
        raise CouponNotFound(f"No coupon {coupon_id} in this shop.")
    require_customer(session, shop_id=shop.id, customer_id=customer_id)
    refusal = claim_refusal(session, coupon, customer_id, now=now)
    if refusal:
        code, detail = refusal
        raise CouponNotClaimable(detail, reason=code, coupon_id=coupon.id, customer_id=customer_id)
    claim_id = new_id("ccl")
    decision = evaluate(
        session,
        shop=shop,
        action="coupon_claim",
        subject=("coupon_claim", claim_id),
        facts=RiskFacts(customer_id=customer_id, ip=ip, device_id=device_id, amount=0),
        now=now,
    )
    if decision.outcome != "allow":
        rule = decision.deciding or (decision.fired[0] if decision.fired else None)
        raise RiskDenied(
            f"Risk control refused this claim: {rule.reason if rule else 'denied'}.",
            rule=rule.rule if rule else None,
            decision_id=decision.id,
        )
    entry = CustomerCoupon(
        shop_id=shop.id,
        coupon_id=coupon.id,
        customer_id=customer_id,
        status="issued",
        source="claim",
        source_id=claim_id,
        issued_at=now,
        expires_at=entry_expiry(coupon, now),
    )
    session.add(entry)
    coupon.issued_count += 1
    session.flush()
    session.add(
        CouponClaim(
            id=claim_id,
            shop_id=shop.id,
            coupon_id=coupon.id,
            customer_id=customer_id,
            entry_id=entry.id,
            ip=ip,
            device_id=device_id,
            decision_id=decision.id,
            created_at=now,
        )
    )
    emit_entry_event(session, entry, "coupon.issued", now=now)
    return entry
