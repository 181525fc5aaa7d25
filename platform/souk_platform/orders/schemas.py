from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import marshmallow as ma

from souk_platform.api.pagination import PageArgs
from souk_platform.orders.models import ORDER_CHANNELS, ORDER_STATUSES


class OrderLineSchema(ma.Schema):
    id = ma.fields.String()
    sku_id = ma.fields.String()
    product_id = ma.fields.String()
    title = ma.fields.String()
    unit_price = ma.fields.Integer(metadata={"description": "What the buyer's level pays per unit, fen"})
    list_price = ma.fields.Integer(metadata={"description": "The SKU's price at checkout, fen"})
    member_perk = ma.fields.String(
        allow_none=True,
        metadata={
            "description": "Which perk set unit_price: member_price, level_discount (the level's), "
            "benefit_price, benefit_discount (a benefit package's right), or null",
            "enum": ["member_price", "level_discount", "benefit_price", "benefit_discount", None],
        },
    )
    benefit_grant_id = ma.fields.String(
        allow_none=True,
        metadata={"description": "The benefit grant whose right set unit_price (null: none, or a level package)"},
    )
    benefit_package_id = ma.fields.String(
        allow_none=True, metadata={"description": "The benefit package whose right set unit_price, if any"}
    )
    member_discount = ma.fields.Integer(metadata={"description": "(list_price - unit_price) × quantity, fen"})
    quantity = ma.fields.Integer()
    discount = ma.fields.Integer(metadata={"description": "This line's share of the order discount, fen"})
    line_total = ma.fields.Integer(metadata={"description": "unit_price × quantity - discount"})
    refunded_quantity = ma.fields.Integer()


class PaymentSchema(ma.Schema):
    id = ma.fields.String()
    order_id = ma.fields.String()
    provider = ma.fields.String(metadata={"description": '"test", or "none" for an order with nothing to pay in cash'})
    provider_reference = ma.fields.String(allow_none=True)
    amount = ma.fields.Integer()
    currency = ma.fields.String()
    status = ma.fields.String(metadata={"description": "pending | succeeded | failed"})
    failure_reason = ma.fields.String(allow_none=True)
    created_at = ma.fields.DateTime()
    settled_at = ma.fields.DateTime(allow_none=True)


class RefundLineSchema(ma.Schema):
    line_id = ma.fields.String(required=True, validate=ma.validate.Length(1, 64))
    quantity = ma.fields.Integer(required=True, strict=True, validate=ma.validate.Range(1, 999))


class RefundSchema(ma.Schema):
    id = ma.fields.String()
    order_id = ma.fields.String()
    amount = ma.fields.Integer(metadata={"description": "Cash refunded, fen"})
    stored_value_amount = ma.fields.Integer(metadata={"description": "Stored value given back, fen"})
    points_returned = ma.fields.Integer(metadata={"description": "Spent points given back"})
    points_revoked = ma.fields.Integer(metadata={"description": "Earned points taken back"})
    reason = ma.fields.String()
    restock = ma.fields.Boolean()
    status = ma.fields.String()
    lines = ma.fields.List(ma.fields.Nested(RefundLineSchema))
    created_at = ma.fields.DateTime()


class FeeSchema(ma.Schema):
    label = ma.fields.String()
    amount = ma.fields.Integer(metadata={"description": "Charged, fen (0 when waived)"})
    kind = ma.fields.String(metadata={"description": "shipping or other, when the plugin named it"})
    waived = ma.fields.Boolean(metadata={"description": "A shipping fee the buyer's free-shipping right waived"})
    original_amount = ma.fields.Integer(metadata={"description": "A waived fee's amount before waiving, fen"})
    benefit_grant_id = ma.fields.String(
        allow_none=True, metadata={"description": "The grant of the free-shipping right (null: a level package)"}
    )
    benefit_package_id = ma.fields.String(metadata={"description": "The package of the free-shipping right"})


class OrderDiscountSchema(ma.Schema):
    coupon_id = ma.fields.String()
    code = ma.fields.String(allow_none=True)
    label = ma.fields.String()
    amount = ma.fields.Integer()


class OrderSchema(ma.Schema):
    id = ma.fields.String()
    status = ma.fields.String(metadata={"description": " | ".join(ORDER_STATUSES)})
    customer_id = ma.fields.String(allow_none=True)
    channel = ma.fields.String(
        metadata={
            "description": "Where the order was placed: " + " | ".join(ORDER_CHANNELS),
            "enum": list(ORDER_CHANNELS),
        }
    )
    currency = ma.fields.String()
    subtotal = ma.fields.Integer(metadata={"description": "The lines at their member-priced unit prices, fen"})
    discount_total = ma.fields.Integer()
    fee_total = ma.fields.Integer()
    points_spent = ma.fields.Integer()
    points_value = ma.fields.Integer()
    stored_value_used = ma.fields.Integer()
    total = ma.fields.Integer(metadata={"description": "Cash to pay, fen"})
    refunded_total = ma.fields.Integer()
    member_level = ma.fields.Integer(
        allow_none=True, metadata={"description": "The buyer's member level at checkout; null for a guest"}
    )
    member_discount_total = ma.fields.Integer(
        metadata={"description": "What member perks (level perks, benefit rights) took off list prices, fen"}
    )
    points_multiplier_percent = ma.fields.Integer(
        metadata={"description": "The level's points multiplier applied on payment (150 = 1.5×)"}
    )
    points_earned = ma.fields.Integer()
    cashback_amount = ma.fields.Integer()
    discounts = ma.fields.List(ma.fields.Nested(OrderDiscountSchema))
    fees = ma.fields.List(ma.fields.Nested(FeeSchema))
    cart_id = ma.fields.String(allow_none=True)
    cancel_reason = ma.fields.String(allow_none=True)
    reservation_expires_at = ma.fields.DateTime()
    created_at = ma.fields.DateTime()
    paid_at = ma.fields.DateTime(allow_none=True)
    cancelled_at = ma.fields.DateTime(allow_none=True)
    fulfilled_at = ma.fields.DateTime(allow_none=True)
    completed_at = ma.fields.DateTime(allow_none=True)
    version = ma.fields.Integer()


class OrderDetailSchema(OrderSchema):
    lines = ma.fields.List(ma.fields.Nested(OrderLineSchema))
    payments = ma.fields.List(ma.fields.Nested(PaymentSchema))
    refunds = ma.fields.List(ma.fields.Nested(RefundSchema))


class OrderQuerySchema(PageArgs):
    status = ma.fields.String(load_default=None, validate=ma.validate.OneOf(ORDER_STATUSES))
    customer_id = ma.fields.String(load_default=None, validate=ma.validate.Length(1, 64))


class CancelSchema(ma.Schema):
    reason = ma.fields.String(load_default=None, validate=ma.validate.Length(1, 500))


class PaymentCreateSchema(ma.Schema):
    provider = ma.fields.String(load_default="test", validate=ma.validate.OneOf(["test"]))


class PaymentCallbackSchema(ma.Schema):
    outcome = ma.fields.String(required=True, validate=ma.validate.OneOf(["succeeded", "failed"]))


class RefundCreateSchema(ma.Schema):
    amount = ma.fields.Integer(
        load_default=None,
        strict=True,
        validate=ma.validate.Range(1, 10**12),
        metadata={"description": "Fen to refund; default: the value of `lines`, or everything left"},
    )
    lines = ma.fields.List(ma.fields.Nested(RefundLineSchema), load_default=None, validate=ma.validate.Length(1, 200))
    reason = ma.fields.String(required=True, validate=ma.validate.Length(1, 500))
    restock = ma.fields.Boolean(load_default=False, metadata={"description": "Put the refunded lines back in stock"})


# --- the fast read path (docs/architecture.md §4.8): what the schemas above dump, built directly

_ORDER_SCALARS = tuple(
    name for name, field in OrderSchema._declared_fields.items() if not isinstance(field, ma.fields.List)
)


def _stored(
    items: Iterable[Mapping[str, Any]] | None, fields: tuple[tuple[str, type], ...]
) -> list[dict[str, Any]] | None:
    """What ``List(Nested(...))`` of String/Integer fields dumps of stored JSON objects: their known keys only."""
    if items is None:
        return None
    return [
        {key: None if item[key] is None else kind(item[key]) for key, kind in fields if key in item} for item in items
    ]


_FEE_FIELDS = (
    ("label", str),
    ("amount", int),
    ("kind", str),
    ("waived", bool),
    ("original_amount", int),
    ("benefit_grant_id", str),
    ("benefit_package_id", str),
)


def order_json(order: Any) -> dict[str, Any]:
    """``OrderSchema().dump(order)`` for an ``Order`` or a row of ``services.ORDER_COLUMNS``."""
    body: dict[str, Any] = {name: getattr(order, name) for name in _ORDER_SCALARS}  # datetimes: the encoder's
    body["discounts"] = _stored(order.discounts, (("coupon_id", str), ("code", str), ("label", str), ("amount", int)))
    body["fees"] = _stored(order.fees, _FEE_FIELDS)
    return body


def order_detail_json(order: Any) -> dict[str, Any]:
    """``OrderDetailSchema().dump(order)`` for an ``Order`` with its lines, payments and refunds."""
    body = order_json(order)
    body["lines"] = [
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
            "member_discount": line.member_discount,
            "quantity": line.quantity,
            "discount": line.discount,
            "line_total": line.line_total,
            "refunded_quantity": line.refunded_quantity,
        }
        for line in order.lines
    ]
    body["payments"] = [
        {
            "id": payment.id,
            "order_id": payment.order_id,
            "provider": payment.provider,
            "provider_reference": payment.provider_reference,
            "amount": payment.amount,
            "currency": payment.currency,
            "status": payment.status,
            "failure_reason": payment.failure_reason,
            "created_at": payment.created_at,
            "settled_at": payment.settled_at,
        }
        for payment in order.payments
    ]
    body["refunds"] = [
        {
            "id": refund.id,
            "order_id": refund.order_id,
            "amount": refund.amount,
            "stored_value_amount": refund.stored_value_amount,
            "points_returned": refund.points_returned,
            "points_revoked": refund.points_revoked,
            "reason": refund.reason,
            "restock": refund.restock,
            "status": refund.status,
            "lines": _stored(refund.lines, (("line_id", str), ("quantity", int))),
            "created_at": refund.created_at,
        }
        for refund in order.refunds
    ]
    return body
