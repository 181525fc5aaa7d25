"""Reviews: orders risk control held for a person (docs/architecture.md §5.13).

A review is opened with its ``in_review`` order. Approving releases the order to ``pending_payment`` (its
payment window starts then); rejecting cancels it through the orders' one cancel path, so stock, coupons,
points and stored value go back exactly. Locks: the review's row first, then the order's (then what
``cancel_order`` takes), on every path — two people deciding at once are served one after the other and
the second gets 409 ``risk-review-closed``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from souk_platform.core.versions import check_version
from souk_platform.db import DbSession
from souk_platform.events.services import emit
from souk_platform.orders.models import Order
from souk_platform.orders.services import cancel_order, get_order, transition
from souk_platform.points_mall import lifecycle as points_mall
from souk_platform.risk.errors import ReviewClosed, ReviewNotFound
from souk_platform.risk.models import RiskReview
from souk_platform.risk.services.evaluation import Decision, shop_risk_settings
from souk_platform.shops.models import Shop
from souk_platform.shops.services import get_shop, shop_setting

__all__ = [
    "approve_review",
    "expire_due_reviews",
    "get_review",
    "open_review",
    "reject_review",
    "review_hold_until",
    "review_view",
    "reviews_stmt",
]

REJECTED_REASON = "rejected by risk review"


def review_view(review: RiskReview) -> dict[str, Any]:
    return {
        "id": review.id,
        "action": review.action,
        "decision_id": review.decision_id,
        "order_id": review.order_id,
        "customer_id": review.customer_id,
        "status": review.status,
        "expires_at": review.expires_at,
        "closed_by": review.closed_by,
        "note": review.note,
        "closed_at": review.closed_at,
        "created_at": review.created_at,
        "version": review.version,
    }


def reviews_stmt(shop_id: str, *, status: str | None = None, customer_id: str | None = None) -> sa.Select[Any]:
    stmt = sa.select(RiskReview).where(RiskReview.shop_id == shop_id)
    if status:
        stmt = stmt.where(RiskReview.status == status)
    if customer_id:
        stmt = stmt.where(RiskReview.customer_id == customer_id)
    return stmt


def get_review(session: DbSession, *, shop_id: str, review_id: str, for_update: bool = False) -> RiskReview:
    stmt = sa.select(RiskReview).where(RiskReview.shop_id == shop_id, RiskReview.id == review_id)
    if for_update:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    review = session.scalar(stmt)
    if review is None:
        raise ReviewNotFound(f"No risk review {review_id} in this shop.")
    return review


def review_hold_until(shop: Shop, now: dt.datetime) -> dt.datetime:
    """How long a held order keeps its stock: the review's expiry plus the payment window after release."""
    settings = shop_risk_settings(shop)
    return now + dt.timedelta(
        hours=int(settings["risk_review_expiry_hours"]), minutes=int(settings["reservation_minutes"])
    )


def _emit(session: DbSession, review: RiskReview, kind: str) -> None:
    session.flush()
    payload = review_view(review)
    for key in ("expires_at", "closed_at", "created_at"):
        payload[key] = payload[key].isoformat() if payload[key] else None
    emit(session, shop_id=review.shop_id, type=kind, subject_type="risk_review", subject_id=review.id, payload=payload)


def open_review(session: DbSession, *, shop: Shop, decision: Decision, order: Order, now: dt.datetime) -> RiskReview:
    """Hold ``order`` (created ``in_review``) for a person; ``risk.review_opened``."""
    review = RiskReview(
        shop_id=shop.id,
        decision_id=decision.id,
        action=decision.record.action,
        order_id=order.id,
        customer_id=order.customer_id,
        status="open",
        expires_at=now + dt.timedelta(hours=int(shop_risk_settings(shop)["risk_review_expiry_hours"])),
        created_at=now,
    )
    session.add(review)
    _emit(session, review, "risk.review_opened")
    return review


def _lock_open(
    session: DbSession, shop_id: str, review_id: str, expected_version: int | None
) -> tuple[RiskReview, Order]:
    review = get_review(session, shop_id=shop_id, review_id=review_id, for_update=True)
    check_version(review.version, expected_version)
    if review.status != "open":
        raise ReviewClosed(f"Review {review.id} was already {review.status}.", current_status=review.status)
    return review, get_order(session, shop_id=shop_id, order_id=review.order_id, for_update=True)


def _close(
    session: DbSession, review: RiskReview, status: str, *, by: str, note: str | None, now: dt.datetime
) -> RiskReview:
    review.status, review.closed_by, review.closed_at = status, by, now
    review.note = note if note is not None else review.note
    _emit(session, review, "risk.review_closed")
    return review


def approve_review(
    session: DbSession,
    *,
    shop_id: str,
    review_id: str,
    now: dt.datetime,
    by: str = "api",
    note: str | None = None,
    expected_version: int | None = None,
) -> RiskReview:
    """Release the held order to ``pending_payment``: its payment window starts now (409 once closed)."""
    review, order = _lock_open(session, shop_id, review_id, expected_version)
    if order.status == "in_review":
        order.reservation_expires_at = now + dt.timedelta(
            minutes=int(shop_setting(get_shop(session, shop_id), "reservation_minutes"))
        )
        transition(session, order, "pending_payment", now=now)
        # A held redemption follows its order; with no cash to pay it is paid at once (§5.14).
        points_mall.on_order_released(session, shop_id=shop_id, order_id=order.id, now=now)
        return _close(session, review, "approved", by=by, note=note, now=now)
    # The order was cancelled some other way meanwhile: nothing is left to approve.
    return _close(session, review, "rejected", by=by, note=note or f"the order was {order.status}", now=now)


def reject_review(
    session: DbSession,
    *,
    shop_id: str,
    review_id: str,
    now: dt.datetime,
    by: str = "api",
    note: str | None = None,
    expected_version: int | None = None,
) -> RiskReview:
    """Cancel the held order (stock, coupons, points and stored value back exactly); 409 once closed."""
    review, order = _lock_open(session, shop_id, review_id, expected_version)
    if order.status == "in_review":
        cancel_order(session, shop_id=shop_id, order_id=order.id, reason=REJECTED_REASON, now=now)
    return _close(session, review, "rejected", by=by, note=note, now=now)


def expire_due_reviews(session: DbSession, *, now: dt.datetime, batch: int = 100) -> int:
    """Apply each shop's expiry rule (release or cancel) to open reviews past their expiry, committing each.

    Safe to run twice or concurrently: each review is re-checked under its row lock."""
    closed = 0
    seen: set[str] = set()
    while True:
        stmt = sa.select(RiskReview.id, RiskReview.shop_id).where(
            RiskReview.status == "open", RiskReview.expires_at < now
        )
        if seen:
            stmt = stmt.where(RiskReview.id.not_in(seen))
        due = session.execute(stmt.order_by(RiskReview.expires_at).limit(batch)).all()
        if not due:
            return closed
        for review_id, shop_id in due:
            seen.add(review_id)
            review = get_review(session, shop_id=shop_id, review_id=review_id, for_update=True)
            if review.status != "open" or review.expires_at >= now:
                session.rollback()
                continue
            action = shop_setting(get_shop(session, shop_id), "risk_review_expiry_action")
            close = approve_review if action == "release" else reject_review
            close(session, shop_id=shop_id, review_id=review_id, now=now, by="expiry", note="expired unreviewed")
            session.commit()
            closed += 1
