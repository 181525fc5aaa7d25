"""Request and response shapes of the benefits API (docs/architecture.md §5.10)."""

from __future__ import annotations

import marshmallow as ma

from souk_platform.api.pagination import PageArgs
from souk_platform.benefits.models import GRANT_STATUSES, ITEM_TYPES, TRIGGERS

_ITEM_DOC = (
    "One of: {type: points, points}, {type: stored_value, amount (fen)}, {type: member_discount, percent_off, "
    "valid_days}, {type: member_price, sku_id, price (fen), valid_days}, {type: free_shipping, valid_days}, "
    "{type: app_item, installation_id, item_id, name, valid_days}. valid_days defaults to 30."
)
_TRIGGER_DOC = (
    "join (a gift on joining), level (on reaching {level: 2–5}), birthday ({when: day|month}), "
    "dormant ({days: 7–3650} without a purchase), manual (by hand or API only)"
)


class BenefitItemSchema(ma.Schema):
    """One item of a package; which fields besides ``type`` it needs depends on the type (the service checks)."""

    type = ma.fields.String(required=True, validate=ma.validate.OneOf([t for t in ITEM_TYPES if t != "coupon"]))
    points = ma.fields.Integer(validate=ma.validate.Range(1, 1_000_000))
    amount = ma.fields.Integer(validate=ma.validate.Range(1, 10_000_000), metadata={"description": "fen"})
    percent_off = ma.fields.Integer(validate=ma.validate.Range(1, 90), metadata={"description": "95折 is 5"})
    sku_id = ma.fields.String(validate=ma.validate.Length(1, 64))
    price = ma.fields.Integer(validate=ma.validate.Range(0, 100_000_000), metadata={"description": "fen"})
    valid_days = ma.fields.Integer(validate=ma.validate.Range(1, 3650))
    installation_id = ma.fields.String(validate=ma.validate.Length(1, 64))
    item_id = ma.fields.String(validate=ma.validate.Length(1, 64))
    name = ma.fields.String(validate=ma.validate.Length(1, 100))
    expires_at = ma.fields.String(dump_only=True, metadata={"description": "On a grant: when this right ends"})
    transfer_id = ma.fields.String(dump_only=True, metadata={"description": "On a grant: the ledger transfer"})


class BenefitPackageSchema(ma.Schema):
    id = ma.fields.String(dump_only=True)
    name = ma.fields.String(required=True, validate=ma.validate.Length(1, 100))
    description = ma.fields.String(load_default=None, allow_none=True, validate=ma.validate.Length(max=500))
    trigger = ma.fields.String(
        required=True, validate=ma.validate.OneOf(TRIGGERS), metadata={"description": _TRIGGER_DOC}
    )
    trigger_params = ma.fields.Dict(keys=ma.fields.String(), load_default=dict)
    items = ma.fields.List(
        ma.fields.Nested(BenefitItemSchema),
        required=True,
        validate=ma.validate.Length(1, 20),
        metadata={"description": _ITEM_DOC},
    )
    status = ma.fields.String(load_default="active", validate=ma.validate.OneOf(("active", "disabled")))
    version = ma.fields.Integer(dump_only=True)
    created_at = ma.fields.DateTime(dump_only=True)
    updated_at = ma.fields.DateTime(dump_only=True)


class BenefitPackageUpdateSchema(ma.Schema):
    name = ma.fields.String(validate=ma.validate.Length(1, 100))
    description = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=500))
    trigger = ma.fields.String(validate=ma.validate.OneOf(TRIGGERS), metadata={"description": _TRIGGER_DOC})
    trigger_params = ma.fields.Dict(keys=ma.fields.String())
    items = ma.fields.List(
        ma.fields.Nested(BenefitItemSchema), validate=ma.validate.Length(1, 20), metadata={"description": _ITEM_DOC}
    )
    status = ma.fields.String(validate=ma.validate.OneOf(("active", "disabled")))


class BenefitPackageQuerySchema(PageArgs):
    trigger = ma.fields.String(load_default=None, validate=ma.validate.OneOf(TRIGGERS))
    status = ma.fields.String(load_default=None, validate=ma.validate.OneOf(("active", "disabled")))


class BenefitGrantSchema(ma.Schema):
    id = ma.fields.String()
    package_id = ma.fields.String()
    package_name = ma.fields.String(allow_none=True)
    customer_id = ma.fields.String()
    trigger = ma.fields.String()
    period = ma.fields.String(metadata={"description": "join, level:<n>, birthday:<year>, dormant:<date>, manual:<…>"})
    status = ma.fields.String(metadata={"description": "active, used or expired"})
    items = ma.fields.List(
        ma.fields.Nested(BenefitItemSchema),
        metadata={"description": "The items as granted, each right with expires_at"},
    )
    granted_at = ma.fields.DateTime()
    expires_at = ma.fields.DateTime(allow_none=True)
    used_at = ma.fields.DateTime(allow_none=True)
    note = ma.fields.String(allow_none=True)
    version = ma.fields.Integer()


class GrantRequestSchema(ma.Schema):
    customer_ids = ma.fields.List(
        ma.fields.String(validate=ma.validate.Length(1, 64)), required=True, validate=ma.validate.Length(1, 500)
    )
    period = ma.fields.String(
        load_default=None,
        allow_none=True,
        validate=ma.validate.Regexp(r"^[A-Za-z0-9_.:\-]{1,60}$"),
        metadata={"description": "The occasion (e.g. 2026-spring): once per customer per period"},
    )
    note = ma.fields.String(load_default=None, allow_none=True, validate=ma.validate.Length(max=200))


class GrantResultSchema(ma.Schema):
    period = ma.fields.String()
    granted = ma.fields.List(ma.fields.Nested(BenefitGrantSchema))
    already_granted = ma.fields.List(
        ma.fields.String(), metadata={"description": "Customers given it for this period already"}
    )


class BenefitGrantQuerySchema(PageArgs):
    customer_id = ma.fields.String(load_default=None)
    package_id = ma.fields.String(load_default=None)
    status = ma.fields.String(load_default=None, validate=ma.validate.OneOf(GRANT_STATUSES))


class EntitlementSchema(ma.Schema):
    type = ma.fields.String(
        metadata={
            "description": "A package's right (member_discount, member_price, free_shipping, app_item) or a level "
            "perk (level_discount, points_multiplier, member_price)"
        }
    )
    expires_at = ma.fields.String(allow_none=True, metadata={"description": "null: while the level is held"})
    because = ma.fields.Dict(metadata={"description": "kind grant (grant_id, package…) or level (level, package…)"})
    percent_off = ma.fields.Integer()
    sku_id = ma.fields.String()
    price = ma.fields.Integer()
    valid_days = ma.fields.Integer()
    installation_id = ma.fields.String()
    item_id = ma.fields.String()
    name = ma.fields.String()
    discount_bps = ma.fields.Integer(metadata={"description": "level_discount: off list prices, 100 = 1%"})
    points_multiplier_percent = ma.fields.Integer(metadata={"description": "points_multiplier: 150 = 1.5×"})


class CustomerBenefitsSchema(ma.Schema):
    customer_id = ma.fields.String()
    level = ma.fields.Integer()
    entitlements = ma.fields.List(ma.fields.Nested(EntitlementSchema))
    best_discount_percent_off = ma.fields.Integer(allow_none=True)
    free_shipping = ma.fields.Boolean()
    active_grants = ma.fields.Integer()
