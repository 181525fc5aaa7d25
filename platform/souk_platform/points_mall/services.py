"""积分商城 — the points mall's items and redemptions (docs/architecture.md §5.14).

A redemption checks, in order: the item is on sale and in its window, the customer's level, their
per-member limit in the period (in the shop's timezone), stock and the points balance; then risk control
decides (action ``redemption``, §5.13): a denial is 422 ``redemption-rejected`` and writes nothing but its
decision, a review holds the redemption and its order ``in_review``. Then it becomes an order on the one
pipeline (channel ``points_mall``, its line priced at the cash part, ``points_spent`` the item's points),
reserves stock and debits the points through the ledger (``spend_points``: a ``points.spend`` transfer
keyed to the redemption's order, lots consumed soonest-expiring first). With no cash the order is paid at
once; with cash it waits for the normal payment path. ``lifecycle`` follows the order from there.

Lock order (§5.3): the customer, then stock (SKUs), then the item's row, then ledger accounts — so parallel
redemptions of one customer are served one after the other, and of the last unit, one wins.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from souk_platform.apps.models import Installation
from souk_platform.benefits.models import BenefitPackage
from souk_platform.catalog.models import Sku
from souk_platform.catalog.services import reserve_stock
from souk_platform.core.errors import InsufficientFunds
from souk_platform.core.ids import new_id
from souk_platform.core.versions import check_version
from souk_platform.coupons.models import Coupon
from souk_platform.customers.services import get_customer
from souk_platform.db import DbSession
from souk_platform.events.services import emit
from souk_platform.orders.models import Order, OrderLine
from souk_platform.orders.services import cancel_order, create_refund, get_order, order_payload, start_payment
from souk_platform.points.services import points_balance, spend_points
from souk_platform.points_mall.errors import (
    InvalidMallItem,
    ItemInUse,
    ItemUnavailable,
    MallItemNotFound,
    RedemptionNotAllowed,
    RedemptionNotFound,
    RedemptionRejected,
)
from souk_platform.points_mall.lifecycle import (
    REDEMPTION_STATES,
    emit_redemption,
    redemption_payload,
)
from souk_platform.points_mall.models import MallItem, MallRedemption
from souk_platform.risk.models import RiskReview
from souk_platform.risk.services import RiskFacts, evaluate, open_review, reject_review, review_hold_until
from souk_platform.shops.services import get_shop, shop_setting

EDITABLE = (
    "title",
    "description",
    "image_url",
    "points",
    "cash",
    "stock",
    "per_member_limit",
    "limit_period",
    "min_level",
    "starts_at",
    "ends_at",
    "status",
    "sort",
)
_REFERENCES = {"goods": "sku_id", "coupon": "coupon_id", "benefit_package": "package_id", "app": "installation_id"}
CANCELLED_REASON = "redemption cancelled"

__all__ = [
    "cancel_redemption",
    "create_item",
    "delete_item",
    "get_item",
    "get_redemption",
    "item_payload",
    "items_stmt",
    "limit_period_start",
    "redeem",
    "redemption_payload",
    "redemptions_stmt",
    "report_fulfilment",
    "update_item",
]


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


def item_payload(item: MallItem) -> dict[str, Any]:
    """The item as the API and ``points_mall.item_updated`` show it (with ``version``)."""
    return {
        "id": item.id,
        "kind": item.kind,
        "title": item.title,
        "description": item.description,
        "image_url": item.image_url,
        "sku_id": item.sku_id,
        "coupon_id": item.coupon_id,
        "package_id": item.package_id,
        "installation_id": item.installation_id,
        "app_item_code": item.app_item_code,
        "points": item.points,
        "cash": item.cash,
        "currency": item.currency,
        "stock": item.stock,
        "redeemed": item.redeemed,
        "per_member_limit": item.per_member_limit,
        "limit_period": item.limit_period,
        "min_level": item.min_level,
        "starts_at": _iso(item.starts_at),
        "ends_at": _iso(item.ends_at),
        "status": item.status,
        "sort": item.sort,
        "created_at": _iso(item.created_at),
        "version": item.version,
    }


def _emit_item(session: DbSession, item: MallItem) -> None:
    session.flush()
    emit(
        session,
        shop_id=item.shop_id,
        type="points_mall.item_updated",
        subject_type="points_mall_item",
        subject_id=item.id,
        payload=item_payload(item),
    )


# --- items ---------------------------------------------------------------------------------------------


def _reference_error(session: DbSession, item: MallItem) -> str | None:
    """Why the item's kind-specific reference is not usable in its shop (None: it is)."""
    shop_id = item.shop_id
    if item.kind == "goods":
        found = session.scalar(sa.select(Sku.id).where(Sku.shop_id == shop_id, Sku.id == item.sku_id))
        return None if found else f"No SKU {item.sku_id} in this shop."
    if item.kind == "coupon":
        coupon = session.scalar(sa.select(Coupon).where(Coupon.shop_id == shop_id, Coupon.id == item.coupon_id))
        if coupon is None:
            return f"No coupon {item.coupon_id} in this shop."
        return None if coupon.distribution == "issued" else "Name an issued coupon (distribution 'issued')."
    if item.kind == "benefit_package":
        found = session.scalar(
            sa.select(BenefitPackage.id).where(BenefitPackage.shop_id == shop_id, BenefitPackage.id == item.package_id)
        )
        return None if found else f"No benefit package {item.package_id} in this shop."
    installation = session.scalar(
        sa.select(Installation).where(Installation.shop_id == shop_id, Installation.id == item.installation_id)
    )
    if installation is None or installation.status != "active":
        return f"No active installation {item.installation_id} in this shop."
    return None


def _check(session: DbSession, item: MallItem) -> None:
    errors: dict[str, list[str]] = {}
    reference = _REFERENCES[item.kind]
    if not getattr(item, reference):
        errors[reference] = [f"Required for a {item.kind} item."]
    elif (problem := _reference_error(session, item)) is not None:
        errors[reference] = [problem]
    for other in set(_REFERENCES.values()) - {reference}:
        if getattr(item, other):
            errors[other] = [f"Only for a {next(k for k, v in _REFERENCES.items() if v == other)} item."]
    if item.kind == "app" and not item.app_item_code:
        errors["app_item_code"] = ["Required for an app item: the app's own code for it."]
    if item.kind != "app" and item.app_item_code:
        errors["app_item_code"] = ["Only for an app item."]
    if item.kind == "goods" and item.stock is not None:
        errors["stock"] = ["A goods item's stock is its SKU's stock; leave stock empty."]
    if item.stock is not None and item.stock < item.redeemed:
        errors["stock"] = [f"{item.redeemed} are already redeemed or held."]
    if item.starts_at and item.ends_at and item.ends_at <= item.starts_at:
        errors["ends_at"] = ["Must be after starts_at."]
    if errors:
        raise InvalidMallItem("The item is not valid: " + ", ".join(sorted(errors)) + ".", errors=errors)


def create_item(session: DbSession, *, shop_id: str, fields: dict[str, Any]) -> MallItem:
    """A mall item from validated fields; 422 naming each bad field (unknown SKU, public coupon…)."""
    item = MallItem(
        shop_id=shop_id,
        kind=fields["kind"],
        title=fields["title"],
        description=fields.get("description") or "",
        image_url=fields.get("image_url"),
        sku_id=fields.get("sku_id"),
        coupon_id=fields.get("coupon_id"),
        package_id=fields.get("package_id"),
        installation_id=fields.get("installation_id"),
        app_item_code=fields.get("app_item_code"),
        points=fields["points"],
        cash=fields.get("cash") or 0,
        currency=get_shop(session, shop_id).currency,
        stock=fields.get("stock"),
        redeemed=0,
        per_member_limit=fields.get("per_member_limit"),
        limit_period=fields.get("limit_period") or "lifetime",
        min_level=fields.get("min_level"),
        starts_at=fields.get("starts_at"),
        ends_at=fields.get("ends_at"),
        status=fields.get("status") or "draft",
        sort=fields.get("sort") or 0,
    )
    _check(session, item)
    session.add(item)
    _emit_item(session, item)
    return item


def get_item(session: DbSession, *, shop_id: str, item_id: str, for_update: bool = False) -> MallItem:
    """The shop's item; 404 ``points-mall-item-not-found`` for an unknown id or another shop's item."""
    stmt = sa.select(MallItem).where(MallItem.shop_id == shop_id, MallItem.id == item_id)
    if for_update:
        stmt = stmt.with_for_update()
    item = session.scalar(stmt.execution_options(populate_existing=True))
    if item is None:
        raise MallItemNotFound(f"No points-mall item {item_id} in this shop.")
    return item


def update_item(
    session: DbSession, *, shop_id: str, item_id: str, changes: dict[str, Any], expected_version: int | None
) -> MallItem:
    """Change an item (its kind and what it gives are fixed); 412 on a stale ``expected_version``."""
    item = get_item(session, shop_id=shop_id, item_id=item_id, for_update=True)
    check_version(item.version, expected_version)
    for name in EDITABLE:
        if name in changes:
            setattr(item, name, changes[name] if name != "cash" else changes[name] or 0)
    _check(session, item)
    _emit_item(session, item)
    return item


def delete_item(session: DbSession, *, shop_id: str, item_id: str, expected_version: int | None) -> None:
    """Delete an item nobody redeemed (409 ``points-mall-item-in-use`` otherwise: take it off sale, its
    redemptions keep pointing at it); 412 on a stale ``expected_version``. Emits ``points_mall.item_deleted``."""
    item = get_item(session, shop_id=shop_id, item_id=item_id, for_update=True)
    check_version(item.version, expected_version)
    if session.scalar(sa.select(MallRedemption.id).where(MallRedemption.item_id == item.id).limit(1)) is not None:
        raise ItemInUse(f"Item {item.id} has redemptions; take it off sale instead.")
    payload = item_payload(item)
    session.delete(item)
    session.flush()
    emit(
        session,
        shop_id=shop_id,
        type="points_mall.item_deleted",
        subject_type="points_mall_item",
        subject_id=item_id,
        payload=payload,
    )


def items_stmt(shop_id: str, *, status: str | None = None, kind: str | None = None) -> sa.Select[Any]:
    stmt = sa.select(MallItem).where(MallItem.shop_id == shop_id)
    if status:
        stmt = stmt.where(MallItem.status == status)
    if kind:
        stmt = stmt.where(MallItem.kind == kind)
    return stmt


# --- redeeming -----------------------------------------------------------------------------------------


def limit_period_start(period: str, timezone: str, now: dt.datetime) -> dt.datetime | None:
    """When the current ``period`` (day, week from Monday, month; None for lifetime) began in the shop's timezone."""
    if period == "lifetime":
        return None
    local = now.astimezone(ZoneInfo(timezone))
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "week":
        midnight -= dt.timedelta(days=midnight.weekday())
    elif period == "month":
        midnight = midnight.replace(day=1)
    # Rebuild from the wall-clock date so a DST change inside the period does not shift the start.
    start = dt.datetime(midnight.year, midnight.month, midnight.day, tzinfo=ZoneInfo(timezone))
    return start.astimezone(dt.UTC)


def _unavailable(item: MallItem, now: dt.datetime) -> str | None:
    if item.status != "on_sale":
        return "This item is not on sale."
    if item.starts_at is not None and now < item.starts_at:
        return f"This item can be redeemed from {item.starts_at.isoformat()}."
    if item.ends_at is not None and now >= item.ends_at:
        return "This item's redemption period has ended."
    return None


def _units_redeemed(session: DbSession, item: MallItem, customer_id: str, since: dt.datetime | None) -> int:
    stmt = sa.select(sa.func.coalesce(sa.func.sum(MallRedemption.quantity), 0)).where(
        MallRedemption.item_id == item.id,
        MallRedemption.customer_id == customer_id,
        MallRedemption.status != "cancelled",
    )
    if since is not None:
        stmt = stmt.where(MallRedemption.created_at >= since)
    return int(session.scalar(stmt) or 0)


def _stock_left(session: DbSession, item: MallItem) -> int | None:
    if item.kind == "goods":
        sku = session.scalar(sa.select(Sku).where(Sku.shop_id == item.shop_id, Sku.id == item.sku_id))
        return sku.available if sku is not None else 0
    return None if item.stock is None else item.stock - item.redeemed


def _goods_line(session: DbSession, item: MallItem, quantity: int) -> OrderLine:
    sku = session.scalars(sa.select(Sku).where(Sku.id == item.sku_id)).one()
    return OrderLine(
        id=new_id("oln"),
        shop_id=item.shop_id,
        sku_id=sku.id,
        product_id=sku.product_id,
        category_id=sku.product.category_id,
        title=(f"{sku.product.title} {sku.title}".strip())[:300],
        unit_price=item.cash,  # the mall's cash part: the points are the order's points_spent
        list_price=sku.price,
        member_perk=None,
        quantity=quantity,
        discount=0,
        refunded_quantity=0,
        position=0,
    )


def _take_units(session: DbSession, item: MallItem, quantity: int) -> None:
    """Count ``quantity`` against the item under its row lock; sold out (409) when its stock cannot cover it."""
    taken = session.execute(
        sa.update(MallItem)
        .where(
            MallItem.id == item.id,
            sa.or_(MallItem.stock.is_(None), MallItem.redeemed + quantity <= MallItem.stock),
        )
        .values(redeemed=MallItem.redeemed + quantity)
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        raise ItemUnavailable("This item is sold out.", item_id=item.id)


def redeem(
    session: DbSession,
    *,
    shop_id: str,
    item_id: str,
    customer_id: str,
    quantity: int,
    ip: str | None,
    device_id: str | None,
    now: dt.datetime,
) -> MallRedemption:
    """Redeem ``quantity`` of an item for a customer: points debited, stock held, an order on the pipeline.

    Raises, writing nothing: 404 (item or customer not in the shop), 409 ``points-mall-item-unavailable``
    (not on sale, outside its window, sold out; also ``out-of-stock`` for goods), 422
    ``redemption-not-allowed`` (level, limit), ``insufficient-balance`` (points), ``redemption-rejected``
    (risk control; its decision is recorded all the same). A ``review`` decision holds it ``in_review``.
    """
    shop = get_shop(session, shop_id)
    customer = get_customer(session, shop_id=shop_id, customer_id=customer_id, for_update=True)
    item = get_item(session, shop_id=shop_id, item_id=item_id)
    reason = _unavailable(item, now)
    if reason:
        raise ItemUnavailable(reason, item_id=item.id)
    if item.min_level is not None and customer.level < item.min_level:
        raise RedemptionNotAllowed(
            f"This item is for members of level V{item.min_level} and above; the customer is V{customer.level}.",
            errors={"customer_id": [f"Level V{customer.level} is below V{item.min_level}."]},
        )
    if item.per_member_limit is not None:
        used = _units_redeemed(session, item, customer.id, limit_period_start(item.limit_period, shop.timezone, now))
        if used + quantity > item.per_member_limit:
            raise RedemptionNotAllowed(
                f"This customer has redeemed {used} of the {item.per_member_limit} allowed "
                f"({item.limit_period}); {quantity} more is too many.",
                errors={"quantity": [f"At most {max(item.per_member_limit - used, 0)}."]},
            )
    left = _stock_left(session, item)
    if left is not None and left < quantity:
        raise ItemUnavailable(f"Only {max(left, 0)} left; {quantity} were asked for.", item_id=item.id)
    points, cash = item.points * quantity, item.cash * quantity
    balance = points_balance(session, shop_id=shop_id, customer_id=customer.id)
    if balance < points:
        raise InsufficientFunds(
            f"This redemption costs {points} points; the customer has {balance}.",
            errors={"customer_id": [f"{balance} points, {points} needed."]},
        )

    redemption_id, order_id = new_id("pmr"), new_id("ord")
    decision = evaluate(
        session,
        shop=shop,
        action="redemption",
        subject=("redemption", redemption_id),
        facts=RiskFacts(customer_id=customer.id, ip=ip, device_id=device_id, amount=cash),
        now=now,
    )
    if decision.outcome == "deny":
        deciding = decision.deciding
        raise RedemptionRejected(
            f"Risk control rejected the redemption: {decision.reason}.",
            rule=deciding.rule if deciding else None,
            decision_id=decision.id,
        )
    in_review = decision.outcome == "review"
    expires_at = (
        review_hold_until(shop, now)
        if in_review
        else now + dt.timedelta(minutes=int(shop_setting(shop, "reservation_minutes")))
    )
    order = Order(
        id=order_id,
        shop_id=shop_id,
        customer_id=customer.id,
        status="in_review" if in_review else "pending_payment",
        currency=item.currency,
        subtotal=cash,
        discount_total=0,
        fee_total=0,
        points_spent=points,  # the mall's fixed price, not converted through points_value
        points_value=0,
        stored_value_used=0,
        total=cash,
        refunded_total=0,
        discounts=[],
        fees=[],
        member_level=customer.level,
        ip=ip,
        device_id=device_id,
        channel="points_mall",
        reservation_expires_at=expires_at,
        created_at=now,
    )
    if item.kind == "goods":
        order.lines = [_goods_line(session, item, quantity)]
    session.add(order)
    session.flush()
    if item.kind == "goods":
        reserve_stock(
            session, shop_id=shop_id, ref=order.id, quantities={str(item.sku_id): quantity}, expires_at=expires_at
        )
    _take_units(session, item, quantity)
    spend_points(
        session,
        shop_id=shop_id,
        customer_id=customer.id,
        points=points,
        order_id=order.id,
        now=now,
        memo=f"points mall redemption {redemption_id}",
    )
    redemption = MallRedemption(
        id=redemption_id,
        shop_id=shop_id,
        item_id=item.id,
        customer_id=customer.id,
        order_id=order.id,
        kind=item.kind,
        quantity=quantity,
        points=points,
        cash=cash,
        currency=item.currency,
        status="in_review" if in_review else "pending_payment",
        ip=ip,
        device_id=device_id,
        risk_decision_id=decision.id,
        fulfilment={},
        created_at=now,
    )
    session.add(redemption)
    if in_review:
        open_review(session, shop=shop, decision=decision, order=order, now=now)
    session.flush()
    payload = order_payload(order)
    payload["points_mall"] = {"redemption_id": redemption.id, "item_id": item.id, "kind": item.kind}
    emit(session, shop_id=shop_id, type="order.created", subject_type="order", subject_id=order.id, payload=payload)
    emit_redemption(session, redemption, "points_mall.redeemed", extra={"item": {"id": item.id, "title": item.title}})
    if not in_review and cash == 0:
        start_payment(session, shop_id=shop_id, order_id=order.id, now=now)  # nothing to pay: paid at once
    session.refresh(redemption)
    return redemption


def get_redemption(session: DbSession, *, shop_id: str, redemption_id: str) -> MallRedemption:
    """The shop's redemption; 404 ``redemption-not-found`` for an unknown id or another shop's."""
    redemption = session.scalar(
        sa.select(MallRedemption)
        .where(MallRedemption.shop_id == shop_id, MallRedemption.id == redemption_id)
        .execution_options(populate_existing=True)
    )
    if redemption is None:
        raise RedemptionNotFound(f"No redemption {redemption_id} in this shop.")
    return redemption


def redemptions_stmt(
    shop_id: str, *, customer_id: str | None = None, item_id: str | None = None, status: str | None = None
) -> sa.Select[Any]:
    stmt = sa.select(MallRedemption).where(MallRedemption.shop_id == shop_id)
    if customer_id:
        stmt = stmt.where(MallRedemption.customer_id == customer_id)
    if item_id:
        stmt = stmt.where(MallRedemption.item_id == item_id)
    if status:
        stmt = stmt.where(MallRedemption.status == status)
    return stmt


def cancel_redemption(
    session: DbSession, *, shop_id: str, redemption_id: str, reason: str | None, now: dt.datetime
) -> MallRedemption:
    """Cancel a redemption before it is fulfilled: points, cash, stock and units back exactly.

    Unpaid (or held): its order is cancelled (a held one through its review's reject). Paid but not yet
    shipped or delivered: it becomes ``cancelled`` and its order is refunded in full (restocking goods).
    409 once fulfilled, cancelled or refunded (refund a fulfilled one through its order)."""
    redemption = get_redemption(session, shop_id=shop_id, redemption_id=redemption_id)
    if redemption.status == "in_review":
        review_id = session.scalar(
            sa.select(RiskReview.id).where(
                RiskReview.shop_id == shop_id, RiskReview.order_id == redemption.order_id, RiskReview.status == "open"
            )
        )
        if review_id is not None:  # the review's row first, then the order's (§5.13)
            reject_review(session, shop_id=shop_id, review_id=review_id, now=now, note=reason or CANCELLED_REASON)
            return get_redemption(session, shop_id=shop_id, redemption_id=redemption_id)
    order = get_order(session, shop_id=shop_id, order_id=redemption.order_id, for_update=True)
    redemption = session.scalars(
        sa.select(MallRedemption)
        .where(MallRedemption.id == redemption.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    REDEMPTION_STATES.check(redemption, "cancelled")
    if redemption.status in ("in_review", "pending_payment"):
        cancel_order(session, shop_id=shop_id, order_id=order.id, reason=reason or CANCELLED_REASON, now=now)
    else:  # paid, not yet fulfilled
        REDEMPTION_STATES.transition(session, redemption, "cancelled", now=now)
        create_refund(
            session,
            shop_id=shop_id,
            order_id=order.id,
            amount=None,
            lines=None,
            reason=reason or CANCELLED_REASON,
            restock=redemption.kind == "goods",
            now=now,
        )
    return get_redemption(session, shop_id=shop_id, redemption_id=redemption_id)


def report_fulfilment(
    session: DbSession,
    *,
    app_id: str,
    redemption_id: str,
    status: str,
    reference: str | None,
    reason: str | None,
    now: dt.datetime,
) -> MallRedemption:
    """An app reports on an item of its own it was asked to deliver: ``fulfilled`` or ``failed``.

    Only the app whose installation provides the item may, in whichever shop (any other caller gets 404).
    Reporting ``fulfilled`` again changes nothing; a redemption cancelled or refunded meanwhile is 409. A
    failure is recorded on the redemption (the merchant may cancel it, which gives everything back)."""
    redemption = session.scalar(
        sa.select(MallRedemption)
        .join(MallItem, MallItem.id == MallRedemption.item_id)
        .join(Installation, Installation.id == MallItem.installation_id)
        .where(MallRedemption.id == redemption_id, MallItem.kind == "app", Installation.app_id == app_id)
        .with_for_update(of=MallRedemption)
        .execution_options(populate_existing=True)
    )
    if redemption is None:
        raise RedemptionNotFound(f"No redemption {redemption_id} of your app's items.")
    if status == "fulfilled" and redemption.status == "fulfilled":
        return redemption
    if status == "fulfilled":
        redemption.fulfilment = {**(redemption.fulfilment or {}), "app_reference": reference}
        REDEMPTION_STATES.transition(session, redemption, "fulfilled", now=now)
        return redemption
    REDEMPTION_STATES.check(redemption, "fulfilled")  # a failure is only news while it awaits the app
    redemption.fulfilment = {
        **(redemption.fulfilment or {}),
        "failure": (reason or "The app reported a failure.")[:500],
        "failed_at": now.isoformat(),
    }
    session.flush()
    return redemption
