"""Request and response schemas of the points mall (docs/architecture.md §5.14)."""

from __future__ import annotations

import datetime as dt

import marshmallow as ma

from souk_platform.api.pagination import PageArgs
from souk_platform.points_mall.lifecycle import TRANSITIONS
from souk_platform.points_mall.models import ITEM_KINDS, ITEM_STATUSES, LIMIT_PERIODS

MAX_POINTS = 100_000_000
MAX_FEN = 10_000_000_000
REDEMPTION_STATUSES = tuple(TRANSITIONS)
_ID = ma.validate.Length(1, 64)


def _when() -> ma.fields.AwareDateTime:
    return ma.fields.AwareDateTime(default_timezone=dt.UTC, allow_none=True)


def _ref(description: str) -> ma.fields.String:
    return ma.fields.String(allow_none=True, validate=_ID, metadata={"description": description})


class MallItemUpdateSchema(ma.Schema):
    """What may change on an item: everything but its kind and what it gives."""

    title = ma.fields.String(validate=ma.validate.Length(1, 200))
    description = ma.fields.String(validate=ma.validate.Length(0, 2000))
    image_url = ma.fields.Url(allow_none=True, validate=ma.validate.Length(1, 500))
    points = ma.fields.Integer(strict=True, validate=ma.validate.Range(1, MAX_POINTS), metadata={"description": "> 0"})
    cash = ma.fields.Integer(
        strict=True, validate=ma.validate.Range(0, MAX_FEN), metadata={"description": "Fen on top of the points"}
    )
    stock = ma.fields.Integer(
        strict=True,
        allow_none=True,
        validate=ma.validate.Range(0, 10_000_000),
        metadata={"description": "Units in all, for non-goods kinds; null: unlimited (goods use the SKU's stock)"},
    )
    per_member_limit = ma.fields.Integer(strict=True, allow_none=True, validate=ma.validate.Range(1, 10_000))
    limit_period = ma.fields.String(
        validate=ma.validate.OneOf(LIMIT_PERIODS),
        metadata={"description": "The period of per_member_limit, in the shop's timezone"},
    )
    min_level = ma.fields.Integer(
        strict=True,
        allow_none=True,
        validate=ma.validate.Range(1, 5),
        metadata={"description": "Only members of this level (V1–V5) and above may redeem"},
    )
    starts_at = _when()
    ends_at = _when()
    status = ma.fields.String(validate=ma.validate.OneOf(ITEM_STATUSES))
    sort = ma.fields.Integer(strict=True, validate=ma.validate.Range(-1_000_000, 1_000_000))


class MallItemSchema(MallItemUpdateSchema):
    id = ma.fields.String(dump_only=True)
    kind = ma.fields.String(required=True, validate=ma.validate.OneOf(ITEM_KINDS))
    title = ma.fields.String(required=True, validate=ma.validate.Length(1, 200))
    points = ma.fields.Integer(
        required=True, strict=True, validate=ma.validate.Range(1, MAX_POINTS), metadata={"description": "> 0"}
    )
    sku_id = _ref("goods: the SKU of the shop's catalog")
    coupon_id = _ref("coupon: an issued coupon of the shop, put into the wallet (source points_mall)")
    package_id = _ref("benefit_package: the package granted")
    installation_id = _ref("app: the installation of the app that delivers the item")
    app_item_code = ma.fields.String(
        allow_none=True, validate=ma.validate.Length(1, 100), metadata={"description": "app: the app's own item code"}
    )
    currency = ma.fields.String(dump_only=True)
    redeemed = ma.fields.Integer(dump_only=True, metadata={"description": "Units held by live redemptions"})
    created_at = ma.fields.DateTime(dump_only=True)
    version = ma.fields.Integer(dump_only=True)


class MallItemQuerySchema(PageArgs):
    status = ma.fields.String(load_default=None, validate=ma.validate.OneOf(ITEM_STATUSES))
    kind = ma.fields.String(load_default=None, validate=ma.validate.OneOf(ITEM_KINDS))


class RedemptionCreateSchema(ma.Schema):
    customer_id = ma.fields.String(required=True, validate=_ID)
    item_id = ma.fields.String(required=True, validate=_ID)
    quantity = ma.fields.Integer(load_default=1, strict=True, validate=ma.validate.Range(1, 100))
    ip = ma.fields.String(load_default=None, allow_none=True, validate=ma.validate.Length(1, 64))
    device_id = ma.fields.String(load_default=None, allow_none=True, validate=ma.validate.Length(1, 128))


class RedemptionSchema(ma.Schema):
    id = ma.fields.String()
    item_id = ma.fields.String()
    customer_id = ma.fields.String()
    order_id = ma.fields.String(
        metadata={"description": "Its order (channel points_mall): pay the cash part with POST /orders/{id}/payments"}
    )
    kind = ma.fields.String()
    quantity = ma.fields.Integer()
    points = ma.fields.Integer(metadata={"description": "Points debited, all units together"})
    cash = ma.fields.Integer(metadata={"description": "Fen to pay, all units together"})
    currency = ma.fields.String()
    status = ma.fields.String(metadata={"description": " | ".join(REDEMPTION_STATUSES)})
    ip = ma.fields.String(allow_none=True)
    device_id = ma.fields.String(allow_none=True)
    risk_decision_id = ma.fields.String(allow_none=True)
    fulfilment = ma.fields.Dict(
        metadata={"description": "What fulfilment made: wallet_coupon_ids, benefit_grant_ids, an app's report"}
    )
    created_at = ma.fields.DateTime()
    paid_at = ma.fields.DateTime(allow_none=True)
    fulfilled_at = ma.fields.DateTime(allow_none=True)
    cancelled_at = ma.fields.DateTime(allow_none=True)
    refunded_at = ma.fields.DateTime(allow_none=True)
    version = ma.fields.Integer()


class RedemptionQuerySchema(PageArgs):
    customer_id = ma.fields.String(load_default=None, validate=_ID)
    item_id = ma.fields.String(load_default=None, validate=_ID)
    status = ma.fields.String(load_default=None, validate=ma.validate.OneOf(REDEMPTION_STATUSES))


class RedemptionCancelSchema(ma.Schema):
    reason = ma.fields.String(load_default=None, allow_none=True, validate=ma.validate.Length(1, 200))


class FulfilmentReportSchema(ma.Schema):
    status = ma.fields.String(required=True, validate=ma.validate.OneOf(("fulfilled", "failed")))
    reference = ma.fields.String(
        load_default=None, allow_none=True, validate=ma.validate.Length(1, 200), metadata={"description": "Your id"}
    )
    reason = ma.fields.String(load_default=None, allow_none=True, validate=ma.validate.Length(1, 500))
