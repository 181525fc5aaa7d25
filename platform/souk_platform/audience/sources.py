"""The fact sources aggregate fields read: each a subquery of rows with ``customer_id`` (docs/architecture.md §5.8).

Every source filters on the shop and never yields a NULL ``customer_id`` (guest orders are left out).
The 口径 (definitions) shared by the trade fields live here:

- an **order** counts when it is sold (status paid, fulfilled or completed) and its ``paid_at`` is in the
  window (``window_days``: ``paid_at >= now - N×24h``; ``date_from``/``date_to``: UTC days, inclusive);
  refunds do not take an order out (refund fields measure them);
- an order's **value** is its goods after discounts: ``subtotal - discount_total`` (fees excluded; what
  was paid with points or stored value included);
- with a **category** (its whole subtree, as the order line recorded it when the order was placed), a
  **product** or a **product tag**, only orders with a line in scope count, and their value and items
  are those of the lines in scope (``unit_price × quantity - discount`` of each line); payment, points,
  stored value and refund figures stay whole-order;
- ``payment_method``: ``cash`` (some cash was paid: ``total > 0``), ``points`` or ``stored_value`` (some
  was used); ``channel``: the order's channel (``orders.channel``).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from souk_platform.audience.compiler import DAY, Context, SourceBuilder, window
from souk_platform.behaviour.models import CustomerEvent
from souk_platform.behaviour.services import EVENT_TYPES
from souk_platform.benefits.models import BenefitGrant
from souk_platform.catalog.models import MAX_CATEGORY_DEPTH, Category, Product, ProductTag
from souk_platform.core.money import POINTS
from souk_platform.coupons.models import CouponRedemption, CustomerCoupon
from souk_platform.ledger.models import LedgerAccount, LedgerEntry, LedgerTransfer
from souk_platform.members.models import MemberLevelChange
from souk_platform.orders.models import ORDER_CHANNELS, SOLD_STATUSES, Order, OrderLine, Refund
from souk_platform.points.models import PointsLot
from souk_platform.tags.models import CustomerTag, Tag

# The subtree below is spelled out to two levels of children: the tree is at most three deep.
assert MAX_CATEGORY_DEPTH == 3, "category_subtree() must reach the deepest level"

PAYMENT_METHODS = ("cash", "points", "stored_value")
SCOPE_PARAMS = ("category_id", "product_id", "product_tag")
__all__ = ["ORDER_CHANNELS", "PAYMENT_METHODS", "SOURCES", "category_subtree", "event_filters"]


def category_subtree(shop_id: str, category_id: str) -> sa.Select[Any]:
    """The ids of a category and all its descendants (an unknown id yields itself, and matches nothing)."""
    children = sa.select(Category.id).where(Category.shop_id == shop_id, Category.parent_id == category_id)
    return sa.select(Category.id).where(
        Category.shop_id == shop_id,
        sa.or_(Category.id == category_id, Category.parent_id == category_id, Category.parent_id.in_(children)),
    )


def _products_tagged(shop_id: str, tag: str) -> sa.Select[Any]:
    return sa.select(ProductTag.product_id).where(ProductTag.shop_id == shop_id, ProductTag.tag == tag)


def _line_scope(ctx: Context, params: dict[str, Any]) -> list[sa.ColumnElement[bool]]:
    parts: list[sa.ColumnElement[bool]] = []
    if params.get("category_id"):
        parts.append(OrderLine.category_id.in_(category_subtree(ctx.shop_id, params["category_id"])))
    if params.get("product_id"):
        parts.append(OrderLine.product_id == params["product_id"])
    if params.get("product_tag"):
        parts.append(OrderLine.product_id.in_(_products_tagged(ctx.shop_id, params["product_tag"])))
    return parts


def _order_filters(ctx: Context, params: dict[str, Any]) -> list[sa.ColumnElement[bool]]:
    parts = [
        Order.shop_id == ctx.shop_id,
        Order.status.in_(SOLD_STATUSES),
        Order.customer_id.is_not(None),
        *window(Order.paid_at, ctx, params),
    ]
    method = params.get("payment_method")
    if method == "cash":
        parts.append(Order.total > 0)
    elif method == "points":
        parts.append(Order.points_spent > 0)
    elif method == "stored_value":
        parts.append(Order.stored_value_used > 0)
    if params.get("channel"):
        parts.append(Order.channel == params["channel"])
    return parts


_WHOLE_ORDER = (
    Order.customer_id.label("customer_id"),
    Order.id.label("order_id"),
    Order.paid_at.label("paid_at"),
    Order.points_spent.label("points_spent"),
    Order.stored_value_used.label("stored_value_used"),
    Order.total.label("cash"),
    Order.refunded_total.label("refunded"),
    Order.fee_total.label("fee"),
    Order.points_earned.label("points_earned"),
    Order.cashback_amount.label("cashback"),
    Order.channel.label("channel"),
    (Order.total + Order.stored_value_used).label("paid"),
)


def _orders(ctx: Context, params: dict[str, Any], *, with_lines: bool) -> sa.Subquery:
    scope = _line_scope(ctx, params)
    if not scope and not with_lines:
        return (
            sa.select(
                *_WHOLE_ORDER,
                (Order.subtotal - Order.discount_total).label("value"),
                Order.subtotal.label("subtotal"),
                Order.discount_total.label("discount"),
                sa.null().label("units"),
            )
            .where(*_order_filters(ctx, params))
            .subquery()
        )
    amount = OrderLine.unit_price * OrderLine.quantity
    return (
        sa.select(
            *_WHOLE_ORDER,
            sa.func.sum(amount - OrderLine.discount).label("value"),
            sa.func.sum(amount).label("subtotal"),
            sa.func.sum(OrderLine.discount).label("discount"),
            sa.func.sum(OrderLine.quantity).label("units"),
        )
        .join(OrderLine, OrderLine.order_id == Order.id)
        .where(*_order_filters(ctx, params), OrderLine.shop_id == ctx.shop_id, *scope)
        .group_by(Order.id)  # the other columns depend on the key (functional dependency)
        .subquery()
    )


def orders_source(ctx: Context, params: dict[str, Any]) -> sa.Subquery:
    """One row per counted order (see the module docstring)."""
    return _orders(ctx, params, with_lines=False)


def orders_items_source(ctx: Context, params: dict[str, Any]) -> sa.Subquery:
    """As ``orders_source``, always with ``items`` (units bought) from the lines."""
    return _orders(ctx, params, with_lines=True)


def lines_source(ctx: Context, params: dict[str, Any]) -> sa.Subquery:
    """One row per line in scope of a counted order."""
    return (
        sa.select(
            Order.customer_id.label("customer_id"),
            Order.id.label("order_id"),
            OrderLine.product_id.label("product_id"),
            OrderLine.sku_id.label("sku_id"),
            OrderLine.category_id.label("category_id"),
            OrderLine.quantity.label("quantity"),
            OrderLine.refunded_quantity.label("refunded_quantity"),
            OrderLine.unit_price.label("unit_price"),
            (OrderLine.unit_price * OrderLine.quantity - OrderLine.discount).label("amount"),
        )
        .join(OrderLine, OrderLine.order_id == Order.id)
        .where(*_order_filters(ctx, params), OrderLine.shop_id == ctx.shop_id, *_line_scope(ctx, params))
        .subquery()
    )


def refunds_source(ctx: Context, params: dict[str, Any]) -> sa.Subquery:
    """One row per succeeded refund made in the window (by the refund's time), of cash plus stored value."""
    return (
        sa.select(
            Order.customer_id.label("customer_id"),
            Refund.id.label("refund_id"),
            (Refund.amount + Refund.stored_value_amount).label("amount"),
            Refund.points_returned.label("points_returned"),
            Refund.created_at.label("at"),
        )
        .join(Order, Order.id == Refund.order_id)
        .where(
            Refund.shop_id == ctx.shop_id,
            Refund.status == "succeeded",
            Order.customer_id.is_not(None),
            *window(Refund.created_at, ctx, params),
        )
        .subquery()
    )


def _orders_in_status(status: str, at: Any) -> SourceBuilder:
    def build(ctx: Context, params: dict[str, Any]) -> sa.Subquery:
        return (
            sa.select(Order.customer_id.label("customer_id"), at.label("at"), Order.subtotal.label("subtotal"))
            .where(
                Order.shop_id == ctx.shop_id,
                Order.status == status,
                Order.customer_id.is_not(None),
                *window(at, ctx, params),
            )
            .subquery()
        )

    return build


def event_product_id() -> Any:
    return CustomerEvent.properties["product_id"].as_string()


def _events(event_type: str | None) -> SourceBuilder:
    def build(ctx: Context, params: dict[str, Any]) -> sa.Subquery:
        parts = [CustomerEvent.shop_id == ctx.shop_id, *window(CustomerEvent.occurred_at, ctx, params)]
        if event_type is not None:
            parts.append(CustomerEvent.type == event_type)
        parts.extend(event_filters(ctx, params))
        return (
            sa.select(
                CustomerEvent.customer_id.label("customer_id"),
                CustomerEvent.occurred_at.label("at"),
                sa.func.date(CustomerEvent.occurred_at).label("day"),
                event_product_id().label("product_id"),
                CustomerEvent.properties["query"].as_string().label("query"),
                CustomerEvent.properties["rating"].as_integer().label("rating"),
                CustomerEvent.properties["quantity"].as_integer().label("quantity"),
                CustomerEvent.properties["url"].as_string().label("url"),
                CustomerEvent.store.label("store"),
                CustomerEvent.campaign.label("campaign"),
                CustomerEvent.channel.label("channel"),
                CustomerEvent.type.label("type"),
            )
            .where(*parts)
            .subquery()
        )

    return build


def event_filters(ctx: Context, params: dict[str, Any]) -> list[sa.ColumnElement[bool]]:
    """The scene and subject filters of behaviour fields (a category is the product's category now)."""
    parts: list[sa.ColumnElement[bool]] = []
    if params.get("product_id"):
        parts.append(event_product_id() == params["product_id"])
    if params.get("category_id"):
        in_category = sa.select(Product.id).where(
            Product.shop_id == ctx.shop_id,
            Product.category_id.in_(category_subtree(ctx.shop_id, params["category_id"])),
        )
        parts.append(event_product_id().in_(in_category))
    if params.get("keyword"):
        query = sa.func.lower(CustomerEvent.properties["query"].as_string())
        parts.append(query.contains(params["keyword"].lower(), autoescape=True))
    for key in ("channel", "store", "campaign"):
        if params.get(key):
            parts.append(getattr(CustomerEvent, key) == params[key])
    return parts


def _ledger(account_kind: str, unit: Any) -> SourceBuilder:
    def build(ctx: Context, params: dict[str, Any]) -> sa.Subquery:
        return (
            sa.select(
                LedgerAccount.owner_id.label("customer_id"),
                LedgerEntry.amount.label("amount"),
                LedgerTransfer.kind.label("kind"),
                LedgerEntry.created_at.label("at"),
            )
            .join(LedgerAccount, LedgerAccount.id == LedgerEntry.account_id)
            .join(LedgerTransfer, LedgerTransfer.id == LedgerEntry.transfer_id)
            .where(
                LedgerAccount.shop_id == ctx.shop_id,
                LedgerAccount.kind == account_kind,
                unit(LedgerAccount),
                *window(LedgerEntry.created_at, ctx, params),
            )
            .subquery()
        )

    return build


def points_lots_source(ctx: Context, params: dict[str, Any]) -> sa.Subquery:
    """Lots with points left that expire within the next ``next_days`` (from now, inclusive)."""
    horizon = ctx.now + (params.get("next_days") or 30) * DAY
    return (
        sa.select(PointsLot.customer_id.label("customer_id"), PointsLot.remaining.label("remaining"))
        .where(
            PointsLot.shop_id == ctx.shop_id,
            PointsLot.remaining > 0,
            PointsLot.expires_at > ctx.now,
            PointsLot.expires_at <= horizon,
        )
        .subquery()
    )


def _shop_rows(
    ctx: Context,
    params: dict[str, Any],
    *,
    shop: Any,
    at: Any,
    columns: dict[str, Any],
    where: tuple[Any, ...] = (),
    narrowed_by: dict[str, Any] | None = None,
) -> sa.Subquery:
    """The shop's rows whose ``at`` falls in the leaf's window, narrowed by each parameter in ``narrowed_by``
    the leaf gives (``{"coupon_id": CouponRedemption.coupon_id}``), as a subquery of the labelled ``columns``
    (``at`` among them)."""
    parts = [shop == ctx.shop_id, *where, *window(at, ctx, params)]
    parts += [column == params[name] for name, column in (narrowed_by or {}).items() if params.get(name)]
    return sa.select(*(column.label(name) for name, column in {**columns, "at": at}.items())).where(*parts).subquery()


def level_changes_source(ctx: Context, params: dict[str, Any]) -> sa.Subquery:
    return _shop_rows(
        ctx,
        params,
        shop=MemberLevelChange.shop_id,
        at=MemberLevelChange.created_at,
        columns={
            "customer_id": MemberLevelChange.customer_id,
            "from_level": MemberLevelChange.from_level,
            "to_level": MemberLevelChange.to_level,
            "source": MemberLevelChange.source,
        },
    )


def coupons_source(ctx: Context, params: dict[str, Any]) -> sa.Subquery:
    """Coupons redeemed on paid orders (a redemption is ``redeemed`` once its order is paid)."""
    return _shop_rows(
        ctx,
        params,
        shop=CouponRedemption.shop_id,
        at=CouponRedemption.created_at,
        where=(CouponRedemption.status == "redeemed", CouponRedemption.customer_id.is_not(None)),
        narrowed_by={"coupon_id": CouponRedemption.coupon_id},
        columns={
            "customer_id": CouponRedemption.customer_id,
            "coupon_id": CouponRedemption.coupon_id,
            "order_id": CouponRedemption.order_id,
            "amount": CouponRedemption.amount,
        },
    )


def wallet_source(ctx: Context, params: dict[str, Any]) -> sa.Subquery:
    """Wallet entries (``customer_coupons``, §5.9) issued in the window, optionally of one coupon.

    ``live`` is 1 for an entry the customer holds unused now: issued and not past ``expires_at`` (the
    expiry timer may not have run yet), so "holding now" does not wait for it.
    """
    live = sa.and_(
        CustomerCoupon.status == "issued",
        sa.or_(CustomerCoupon.expires_at.is_(None), CustomerCoupon.expires_at > ctx.now),
    )
    expired = sa.or_(
        CustomerCoupon.status == "expired",
        sa.and_(CustomerCoupon.status == "issued", CustomerCoupon.expires_at <= ctx.now),
    )
    return _shop_rows(
        ctx,
        params,
        shop=CustomerCoupon.shop_id,
        at=CustomerCoupon.issued_at,
        narrowed_by={"coupon_id": CustomerCoupon.coupon_id},
        columns={
            "customer_id": CustomerCoupon.customer_id,
            "coupon_id": CustomerCoupon.coupon_id,
            "status": CustomerCoupon.status,
            "live": sa.case((live, 1), else_=0),
            "expired": sa.case((expired, 1), else_=0),
        },
    )


def benefit_grants_source(ctx: Context, params: dict[str, Any]) -> sa.Subquery:
    """Benefit grants (``benefit_grants``, §5.10) granted in the window, optionally of one package."""
    return _shop_rows(
        ctx,
        params,
        shop=BenefitGrant.shop_id,
        at=BenefitGrant.granted_at,
        narrowed_by={"package_id": BenefitGrant.package_id},
        columns={
            "customer_id": BenefitGrant.customer_id,
            "package_id": BenefitGrant.package_id,
            "status": BenefitGrant.status,
        },
    )


def customer_tags_source(ctx: Context, params: dict[str, Any]) -> sa.Subquery:
    return (
        sa.select(
            CustomerTag.customer_id.label("customer_id"),
            CustomerTag.tag_id.label("tag_id"),
            Tag.kind.label("kind"),
            CustomerTag.created_at.label("at"),
        )
        .join(Tag, Tag.id == CustomerTag.tag_id)
        .where(CustomerTag.shop_id == ctx.shop_id, *window(CustomerTag.created_at, ctx, params))
        .subquery()
    )


SOURCES: dict[str, SourceBuilder] = {
    "orders": orders_source,
    "orders_items": orders_items_source,
    "lines": lines_source,
    "refunds": refunds_source,
    "unpaid": _orders_in_status("pending_payment", Order.created_at),
    "cancelled": _orders_in_status("cancelled", Order.cancelled_at),
    "events": _events(None),
    **{f"events:{t}": _events(t) for t in EVENT_TYPES},
    "points": _ledger("customer.points", lambda a: a.unit == POINTS),
    "stored_value": _ledger("customer.stored_value", lambda a: a.unit != POINTS),
    "points_lots": points_lots_source,
    "level_changes": level_changes_source,
    "coupons": coupons_source,
    "wallet": wallet_source,
    "benefit_grants": benefit_grants_source,
    "customer_tags": customer_tags_source,
}
