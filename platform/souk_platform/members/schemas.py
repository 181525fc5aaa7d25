"""Request and response shapes of the member-levels API."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from souk_platform.api.pagination import PageArgs
from souk_platform.catalog.models import MAX_PRICE


class CategoryThresholdSchema(ma.Schema):
    category_id = ma.fields.String(
        required=True,
        validate=ma.validate.Length(1, 64),
        metadata={"description": "Counts this category and its subcategories"},
    )
    spend = ma.fields.Integer(
        load_default=None,
        allow_none=True,
        validate=ma.validate.Range(0, 10**13),
        metadata={
            "description": "Spend in the category in the window (fen): the lines' price after perks and "
            "discounts, less refunded quantities"
        },
    )
    orders = ma.fields.Integer(
        load_default=None,
        allow_none=True,
        validate=ma.validate.Range(0, 10**7),
        metadata={"description": "Orders paid in the window with a line in the category"},
    )

    @ma.validates_schema
    def _at_least_one(self, fields: dict[str, Any], **kwargs: Any) -> None:
        if fields.get("spend") is None and fields.get("orders") is None:
            raise ma.ValidationError("Set spend or orders (or both).", field_name="_schema")


class ThresholdSchema(ma.Schema):
    match = ma.fields.String(
        load_default="any",
        validate=ma.validate.OneOf(["any", "all"]),
        metadata={"description": "any: one threshold reached is enough; all: every set threshold"},
    )
    spend = ma.fields.Integer(
        load_default=None,
        allow_none=True,
        validate=ma.validate.Range(0, 10**13),
        metadata={"description": "Spend (fen, net of refunds) in the window"},
    )
    orders = ma.fields.Integer(
        load_default=None,
        allow_none=True,
        validate=ma.validate.Range(0, 10**7),
        metadata={"description": "Orders in the window"},
    )
    points = ma.fields.Integer(
        load_default=None,
        allow_none=True,
        validate=ma.validate.Range(0, 10**12),
        metadata={"description": "Points balance"},
    )
    category = ma.fields.Nested(
        CategoryThresholdSchema,
        load_default=None,
        allow_none=True,
        metadata={"description": "Spend and/or orders in one category subtree (category contribution)"},
    )

    @ma.validates_schema
    def _at_least_one(self, fields: dict[str, Any], **kwargs: Any) -> None:
        if all(fields.get(metric) is None for metric in ("spend", "orders", "points", "category")):
            raise ma.ValidationError("Set at least one of spend, orders, points or category.", field_name="_schema")


class LevelSchema(ma.Schema):
    level = ma.fields.Integer(required=True, validate=ma.validate.Range(1, 5))
    name = ma.fields.String(required=True, validate=ma.validate.Length(1, 30), metadata={"example": "金卡"})
    upgrade = ma.fields.Nested(
        ThresholdSchema,
        load_default=None,
        allow_none=True,
        metadata={"description": "Reach this level (null: by hand only)"},
    )
    keep = ma.fields.Nested(
        ThresholdSchema,
        load_default=None,
        allow_none=True,
        metadata={"description": "Keep this level (null: never lost)"},
    )
    discount_bps = ma.fields.Integer(
        load_default=0,
        strict=True,
        validate=ma.validate.Range(0, 9999),
        metadata={
            "description": "Members of this level pay list prices less this many basis points (9.5折 = 500; "
            "per unit, rounded half up to the fen); a member price for the SKU wins over it"
        },
    )
    points_multiplier_percent = ma.fields.Integer(
        load_default=100,
        strict=True,
        validate=ma.validate.Range(0, 1000),
        metadata={"description": "Points earned on payment × this / 100 (150 = 1.5×, rounded down)"},
    )


class LevelConfigInputSchema(ma.Schema):
    window_days = ma.fields.Integer(
        load_default=365,
        validate=ma.validate.Range(1, 3650),
        metadata={"description": "The rules look at the last N days"},
    )
    downgrade_period_days = ma.fields.Integer(
        load_default=30,
        validate=ma.validate.Range(1, 3650),
        metadata={"description": "A level is re-judged for downgrade at most once per this many days"},
    )
    levels = ma.fields.List(ma.fields.Nested(LevelSchema), required=True, validate=ma.validate.Length(5, 5))


class LevelConfigSchema(LevelConfigInputSchema):
    configured = ma.fields.Boolean(metadata={"description": "False while the shop uses the defaults"})
    version = ma.fields.Integer()
    updated_at = ma.fields.DateTime(allow_none=True)


class SetLevelSchema(ma.Schema):
    level = ma.fields.Integer(required=True, validate=ma.validate.Range(1, 5))
    reason = ma.fields.String(required=True, validate=ma.validate.Length(1, 500))


class CategoryStatsSchema(ma.Schema):
    spend = ma.fields.Integer()
    orders = ma.fields.Integer()


class StatsSchema(ma.Schema):
    spend_in_window = ma.fields.Integer()
    orders_in_window = ma.fields.Integer()
    points_balance = ma.fields.Integer()
    current_level = ma.fields.Integer()
    categories = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.Nested(CategoryStatsSchema),
        metadata={"description": "Per category the rules name: spend and orders in its subtree over the window"},
    )


class LevelResultSchema(ma.Schema):
    customer_id = ma.fields.String()
    changed = ma.fields.Boolean()
    level = ma.fields.Integer(metadata={"description": "The customer's level now"})
    from_level = ma.fields.Integer(allow_none=True)
    to_level = ma.fields.Integer(allow_none=True)
    reason = ma.fields.String(allow_none=True)
    stats = ma.fields.Nested(StatsSchema, allow_none=True)


class LevelChangeSchema(ma.Schema):
    id = ma.fields.String()
    customer_id = ma.fields.String()
    from_level = ma.fields.Integer()
    to_level = ma.fields.Integer()
    source = ma.fields.String(metadata={"description": "rule or manual"})
    reason = ma.fields.String()
    stats = ma.fields.Dict(allow_none=True)
    created_at = ma.fields.DateTime()


class MemberPriceCreateSchema(ma.Schema):
    sku_id = ma.fields.String(required=True, validate=ma.validate.Length(1, 64))
    level = ma.fields.Integer(required=True, strict=True, validate=ma.validate.Range(1, 5))
    price = ma.fields.Integer(
        required=True,
        strict=True,
        validate=ma.validate.Range(0, MAX_PRICE),
        metadata={"description": "Fen of the SKU's currency; at most the SKU's list price"},
    )


class MemberPriceUpdateSchema(ma.Schema):
    price = ma.fields.Integer(required=True, strict=True, validate=ma.validate.Range(0, MAX_PRICE))


class MemberPriceSchema(ma.Schema):
    id = ma.fields.String()
    sku_id = ma.fields.String()
    product_id = ma.fields.String()
    level = ma.fields.Integer()
    price = ma.fields.Integer(metadata={"description": "What members of this level pay per unit, fen"})
    list_price = ma.fields.Integer(metadata={"description": "The SKU's price now, fen"})
    currency = ma.fields.String()
    version = ma.fields.Integer()
    created_at = ma.fields.DateTime()
    updated_at = ma.fields.DateTime()


class MemberPriceQuerySchema(PageArgs):
    sku_id = ma.fields.String(load_default=None, validate=ma.validate.Length(1, 64))
    product_id = ma.fields.String(load_default=None, validate=ma.validate.Length(1, 64))
    level = ma.fields.Integer(load_default=None, validate=ma.validate.Range(1, 5))
