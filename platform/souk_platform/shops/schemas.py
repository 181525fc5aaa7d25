from __future__ import annotations

from typing import Any

import marshmallow as ma

from souk_platform.shops.services import DEFAULT_SETTINGS


class ShopSchema(ma.Schema):
    id = ma.fields.String(dump_only=True)
    name = ma.fields.String()
    currency = ma.fields.String(dump_only=True)
    timezone = ma.fields.String(dump_only=True)
    settings = ma.fields.Dict(keys=ma.fields.String(), dump_only=True)
    version = ma.fields.Integer(dump_only=True)
    created_at = ma.fields.DateTime(dump_only=True)


class ShopSettingsSchema(ma.Schema):
    discount_merge = ma.fields.String(validate=ma.validate.OneOf(["stack", "best_of"]))
    points_per_yuan = ma.fields.Integer(validate=ma.validate.Range(0, 1000))
    points_value_fen = ma.fields.Integer(validate=ma.validate.Range(1, 10000))
    points_max_ratio_bp = ma.fields.Integer(validate=ma.validate.Range(0, 10000))
    points_expiry_days = ma.fields.Integer(validate=ma.validate.Range(1, 3650))
    points_expiry_policy = ma.fields.String(validate=ma.validate.OneOf(["days", "end_of_year"]))
    points_max_per_order = ma.fields.Integer(validate=ma.validate.Range(0, 100_000_000))
    cashback_bp = ma.fields.Integer(validate=ma.validate.Range(0, 10000))
    refund_window_days = ma.fields.Integer(validate=ma.validate.Range(0, 90))
    reservation_minutes = ma.fields.Integer(validate=ma.validate.Range(1, 7 * 24 * 60))
    risk_customer_orders_max = ma.fields.Integer(validate=ma.validate.Range(0, 100_000))
    risk_customer_orders_window_minutes = ma.fields.Integer(validate=ma.validate.Range(1, 30 * 24 * 60))
    risk_ip_customers_max = ma.fields.Integer(validate=ma.validate.Range(0, 100_000))
    risk_ip_customers_window_minutes = ma.fields.Integer(validate=ma.validate.Range(1, 30 * 24 * 60))
    risk_customer_ips_max = ma.fields.Integer(validate=ma.validate.Range(0, 100_000))
    risk_customer_ips_window_minutes = ma.fields.Integer(validate=ma.validate.Range(1, 30 * 24 * 60))
    quiet_hours_start = ma.fields.String(
        allow_none=True,
        validate=ma.validate.Regexp(r"^([01][0-9]|2[0-3]):[0-5][0-9]$"),
        metadata={"description": "HH:MM shop-local: messages asked for from then wait until quiet_hours_end"},
    )
    quiet_hours_end = ma.fields.String(
        allow_none=True,
        validate=ma.validate.Regexp(r"^([01][0-9]|2[0-3]):[0-5][0-9]$"),
        metadata={"description": "HH:MM shop-local: the end of the quiet hours"},
    )
    risk_customer_orders_outcome = ma.fields.String(validate=ma.validate.OneOf(["review", "deny"]))
    risk_ip_customers_outcome = ma.fields.String(validate=ma.validate.OneOf(["review", "deny"]))
    risk_customer_ips_outcome = ma.fields.String(validate=ma.validate.OneOf(["review", "deny"]))
    risk_device_customers_max = ma.fields.Integer(validate=ma.validate.Range(0, 100_000))
    risk_device_customers_window_minutes = ma.fields.Integer(validate=ma.validate.Range(1, 30 * 24 * 60))
    risk_device_customers_outcome = ma.fields.String(validate=ma.validate.OneOf(["review", "deny"]))
    risk_new_account_hours = ma.fields.Integer(validate=ma.validate.Range(1, 30 * 24))
    risk_new_account_order_min = ma.fields.Integer(validate=ma.validate.Range(0, 1_000_000_000))
    risk_new_account_outcome = ma.fields.String(validate=ma.validate.OneOf(["review", "deny"]))
    risk_review_expiry_hours = ma.fields.Integer(validate=ma.validate.Range(1, 30 * 24))
    risk_review_expiry_action = ma.fields.String(validate=ma.validate.OneOf(["release", "cancel"]))


assert set(ShopSettingsSchema().fields) == set(DEFAULT_SETTINGS), "settings schema and defaults disagree"


class ShopUpdateSchema(ma.Schema):
    name = ma.fields.String(validate=ma.validate.Length(1, 200))
    settings = ma.fields.Nested(ShopSettingsSchema)


class StaffSchema(ma.Schema):
    id = ma.fields.String()
    user_id = ma.fields.String()
    role = ma.fields.String()
    created_at = ma.fields.DateTime()


def shop_json(shop: Any) -> dict[str, Any]:
    """``ShopSchema().dump(shop)`` for a ``Shop`` or a row of ``services.SHOP_COLUMNS`` (docs/architecture.md §4.8)."""
    return {
        "id": shop.id,
        "name": shop.name,
        "currency": shop.currency,
        "timezone": shop.timezone,
        "settings": shop.settings,
        "version": shop.version,
        "created_at": shop.created_at,
    }
