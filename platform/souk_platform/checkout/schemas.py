from __future__ import annotations

import marshmallow as ma

from souk_platform.checkout.services import MAX_LINES, MAX_QUANTITY
from souk_platform.orders.models import CHECKOUT_CHANNELS

_ID = ma.validate.Length(1, 64)
_QUANTITY = ma.validate.Range(1, MAX_QUANTITY)


class CartLineInSchema(ma.Schema):
    sku_id = ma.fields.String(required=True, validate=_ID)
    quantity = ma.fields.Integer(required=True, strict=True, validate=_QUANTITY)


class CartCreateSchema(ma.Schema):
    customer_id = ma.fields.String(load_default=None, allow_none=True, validate=_ID)
    lines = ma.fields.List(
        ma.fields.Nested(CartLineInSchema), load_default=list, validate=ma.validate.Length(max=MAX_LINES)
    )


class CartLineQuantitySchema(ma.Schema):
    quantity = ma.fields.Integer(required=True, strict=True, validate=_QUANTITY)


class CheckoutSchema(ma.Schema):
    customer_id = ma.fields.String(
        load_default=None, allow_none=True, validate=_ID, metadata={"description": "Defaults to the cart's customer"}
    )
    coupon_codes = ma.fields.List(
        ma.fields.String(validate=ma.validate.Length(1, 64)), load_default=list, validate=ma.validate.Length(max=10)
    )
    points = ma.fields.Integer(
        load_default=0,
        strict=True,
        validate=ma.validate.Range(0, 100_000_000),
        metadata={"description": "Points to spend"},
    )
    stored_value = ma.fields.Integer(
        load_default=0,
        strict=True,
        validate=ma.validate.Range(0, 10**12),
        metadata={"description": "Stored value to spend, in fen"},
    )
    channel = ma.fields.String(
        load_default="online",
        validate=ma.validate.OneOf(CHECKOUT_CHANNELS),
        metadata={"description": "Where the order is placed: " + ", ".join(CHECKOUT_CHANNELS)},
    )
    device_id = ma.fields.String(
        load_default=None,
        allow_none=True,
        validate=ma.validate.Length(1, 128),
        metadata={
            "description": "The buyer's device id, if the client knows it (risk control counts accounts per device)"
        },
    )


class CartLineSchema(ma.Schema):
    id = ma.fields.String()
    sku_id = ma.fields.String()
    quantity = ma.fields.Integer()


class CartDiscountSchema(ma.Schema):
    coupon_id = ma.fields.String()
    code = ma.fields.String(allow_none=True)
    label = ma.fields.String()
    amount = ma.fields.Integer()


class PricedLineSchema(ma.Schema):
    line_id = ma.fields.String()
    sku_id = ma.fields.String()
    quantity = ma.fields.Integer()
    title = ma.fields.String(allow_none=True)
    unit_price = ma.fields.Integer(metadata={"description": "Per unit after the customer's member perk"})
    list_price = ma.fields.Integer(metadata={"description": "The SKU's price"})
    member_perk = ma.fields.String(
        allow_none=True,
        metadata={
            "description": "member_price, level_discount (the level's), benefit_price, benefit_discount "
            "(a benefit package's right), or null (the list price)",
            "enum": ["member_price", "level_discount", "benefit_price", "benefit_discount", None],
        },
    )
    benefit_grant_id = ma.fields.String(
        allow_none=True, metadata={"description": "The benefit grant whose right set unit_price, if any"}
    )
    benefit_package_id = ma.fields.String(
        allow_none=True, metadata={"description": "The benefit package whose right set unit_price, if any"}
    )
    amount = ma.fields.Integer(metadata={"description": "unit_price × quantity, before discounts"})
    discount = ma.fields.Integer()
    available = ma.fields.Integer()
    problem = ma.fields.String(allow_none=True, metadata={"description": "Why this line cannot be bought now"})


class CartPreviewSchema(ma.Schema):
    currency = ma.fields.String()
    subtotal = ma.fields.Integer(metadata={"description": "At the customer's member prices"})
    member_discount_total = ma.fields.Integer(metadata={"description": "What member perks took off list prices"})
    free_shipping = ma.fields.Boolean(
        metadata={"description": "The customer holds a free-shipping right: checkout waives shipping fees"}
    )
    discounts = ma.fields.List(ma.fields.Nested(CartDiscountSchema))
    discount_total = ma.fields.Integer()
    total = ma.fields.Integer(metadata={"description": "Before coupon codes, points and stored value"})
    purchasable = ma.fields.Boolean()
    lines = ma.fields.List(ma.fields.Nested(PricedLineSchema))


class CartSchema(ma.Schema):
    """A cart and its preview (dumped from ``PricedCart``)."""

    id = ma.fields.String(attribute="cart.id")
    customer_id = ma.fields.String(attribute="cart.customer_id", allow_none=True)
    status = ma.fields.String(attribute="cart.status")
    converted_order_id = ma.fields.String(attribute="cart.converted_order_id", allow_none=True)
    lines = ma.fields.List(ma.fields.Nested(CartLineSchema), attribute="cart.lines")
    version = ma.fields.Integer(attribute="cart.version")
    created_at = ma.fields.DateTime(attribute="cart.created_at")
    updated_at = ma.fields.DateTime(attribute="cart.updated_at", allow_none=True)
    preview = ma.fields.Nested(CartPreviewSchema)
