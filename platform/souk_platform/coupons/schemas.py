from __future__ import annotations

import datetime as dt

import marshmallow as ma

from souk_platform.api.pagination import PageArgs
from souk_platform.core.money import CURRENCIES
from souk_platform.coupons.issues import MAX_LISTED, RESULT_OUTCOMES
from souk_platform.coupons.models import COUPON_DISTRIBUTIONS, COUPON_KINDS, COUPON_STATUSES
from souk_platform.coupons.packs import MAX_ITEMS as MAX_PACK_ITEMS
from souk_platform.coupons.services import MAX_CODES
from souk_platform.coupons.wallet import WALLET_STATUSES

MAX_FEN = 10_000_000_000  # 100 million yuan: a sanity bound on any amount
_CODE = ma.validate.Regexp(r"^[A-Za-z0-9_-]+$", error="Letters, digits, '-' and '_' only.")


def _when(**kw: object) -> ma.fields.AwareDateTime:
    return ma.fields.AwareDateTime(default_timezone=dt.UTC, allow_none=True, **kw)  # type: ignore[arg-type]


class CouponSchema(ma.Schema):
    id = ma.fields.String(dump_only=True)
    code = ma.fields.String(
        allow_none=True,
        validate=[ma.validate.Length(1, 64), _CODE],
        metadata={"description": "What buyers type (case-insensitive, stored upper case); null for a promotion"},
    )
    name = ma.fields.String(required=True, validate=ma.validate.Length(1, 200))
    kind = ma.fields.String(
        required=True,
        validate=ma.validate.OneOf(COUPON_KINDS),
        metadata={"description": "fixed (amount off), percent (basis points off), threshold (满减: spend ≥ min_spend)"},
    )
    value = ma.fields.Integer(
        required=True,
        strict=True,
        validate=ma.validate.Range(1, MAX_FEN),
        metadata={"description": "Minor units off (fixed, threshold) or basis points off (percent: 9折 = 1000)"},
    )
    min_spend = ma.fields.Integer(strict=True, load_default=0, validate=ma.validate.Range(0, MAX_FEN))
    max_discount = ma.fields.Integer(
        strict=True,
        allow_none=True,
        validate=ma.validate.Range(1, MAX_FEN),
        metadata={"description": "Cap on a percent coupon's discount, minor units"},
    )
    auto_apply = ma.fields.Boolean(load_default=False, metadata={"description": "A promotion applied without a code"})
    stackable = ma.fields.Boolean(
        load_default=True, metadata={"description": "Combines with other stackable discounts"}
    )
    per_customer_limit = ma.fields.Integer(strict=True, allow_none=True, validate=ma.validate.Range(1, 1_000_000))
    total_limit = ma.fields.Integer(strict=True, allow_none=True, validate=ma.validate.Range(1, 1_000_000_000))
    starts_at = _when()
    ends_at = _when()
    status = ma.fields.String(load_default="active", validate=ma.validate.OneOf(COUPON_STATUSES))
    distribution = ma.fields.String(
        load_default="public",
        validate=ma.validate.OneOf(COUPON_DISTRIBUTIONS),
        metadata={
            "description": "public: a code anyone may type; issued: works only for customers holding it in their "
            "wallet (POST /coupons/{id}/issues). Cannot change after creation."
        },
    )
    valid_days = ma.fields.Integer(
        strict=True,
        allow_none=True,
        validate=ma.validate.Range(1, 3650),
        metadata={"description": "Issued coupons: an entry expires this many days after issue, never after ends_at"},
    )
    redeemed_count = ma.fields.Integer(dump_only=True)
    issued_count = ma.fields.Integer(
        dump_only=True, metadata={"description": "Wallet entries issued and not revoked (issued coupons)"}
    )
    version = ma.fields.Integer(dump_only=True)
    created_at = ma.fields.DateTime(dump_only=True)


class CouponUpdateSchema(ma.Schema):
    """Every field optional; the code and kind of a coupon cannot change."""

    name = ma.fields.String(validate=ma.validate.Length(1, 200))
    value = ma.fields.Integer(strict=True, validate=ma.validate.Range(1, MAX_FEN))
    min_spend = ma.fields.Integer(strict=True, validate=ma.validate.Range(0, MAX_FEN))
    max_discount = ma.fields.Integer(strict=True, allow_none=True, validate=ma.validate.Range(1, MAX_FEN))
    auto_apply = ma.fields.Boolean()
    stackable = ma.fields.Boolean()
    per_customer_limit = ma.fields.Integer(strict=True, allow_none=True, validate=ma.validate.Range(1, 1_000_000))
    total_limit = ma.fields.Integer(strict=True, allow_none=True, validate=ma.validate.Range(1, 1_000_000_000))
    starts_at = _when()
    ends_at = _when()
    status = ma.fields.String(validate=ma.validate.OneOf(COUPON_STATUSES))
    valid_days = ma.fields.Integer(strict=True, allow_none=True, validate=ma.validate.Range(1, 3650))


class CouponQuerySchema(PageArgs):
    status = ma.fields.String(load_default=None, validate=ma.validate.OneOf(COUPON_STATUSES))
    auto_apply = ma.fields.Boolean(load_default=None)
    code = ma.fields.String(load_default=None, validate=ma.validate.Length(1, 64))


class CouponRedemptionSchema(ma.Schema):
    id = ma.fields.String()
    coupon_id = ma.fields.String()
    customer_id = ma.fields.String(allow_none=True)
    order_id = ma.fields.String()
    amount = ma.fields.Integer()
    status = ma.fields.String(metadata={"description": "reserved (order placed), redeemed (paid) or released"})
    created_at = ma.fields.DateTime()
    updated_at = ma.fields.DateTime()


class DiscountPreviewSchema(ma.Schema):
    customer_id = ma.fields.String(load_default=None, allow_none=True, validate=ma.validate.Length(1, 64))
    subtotal = ma.fields.Integer(
        required=True, strict=True, validate=ma.validate.Range(0, MAX_FEN), metadata={"description": "Minor units"}
    )
    codes = ma.fields.List(
        ma.fields.String(validate=ma.validate.Length(1, 64)),
        load_default=list,
        validate=ma.validate.Length(max=MAX_CODES),
    )


class AppliedDiscountSchema(ma.Schema):
    coupon_id = ma.fields.String()
    code = ma.fields.String(allow_none=True)
    label = ma.fields.String()
    amount = ma.fields.Integer()


class DiscountPreviewResultSchema(ma.Schema):
    subtotal = ma.fields.Integer()
    currency = ma.fields.String()
    discounts = ma.fields.List(ma.fields.Nested(AppliedDiscountSchema))
    total_discount = ma.fields.Integer()
    payable = ma.fields.Integer(metadata={"description": "subtotal − total_discount"})


class WalletCouponSummarySchema(ma.Schema):
    """The coupon a wallet entry is of, as a holder needs to see it."""

    id = ma.fields.String()
    code = ma.fields.String(allow_none=True)
    name = ma.fields.String()
    kind = ma.fields.String()
    value = ma.fields.Integer()
    min_spend = ma.fields.Integer()
    max_discount = ma.fields.Integer(allow_none=True)


class WalletCouponSchema(ma.Schema):
    id = ma.fields.String(metadata={"description": "The wallet entry (ccp_…)"})
    coupon_id = ma.fields.String()
    customer_id = ma.fields.String()
    status = ma.fields.String(
        metadata={"description": "issued (usable), reserved (held by an unpaid order), used, expired or revoked"}
    )
    source = ma.fields.String(metadata={"description": "issue, benefit, pack, api or demo"})
    source_id = ma.fields.Function(lambda entry: entry.source_id or None, metadata={"type": ["string", "null"]})
    issued_at = ma.fields.DateTime()
    expires_at = ma.fields.DateTime(allow_none=True)
    order_id = ma.fields.String(allow_none=True)
    used_at = ma.fields.DateTime(allow_none=True)
    version = ma.fields.Integer()
    coupon = ma.fields.Nested(WalletCouponSummarySchema)


class CouponClaimRequestSchema(ma.Schema):
    coupon_id = ma.fields.String(required=True, validate=ma.validate.Length(1, 64))
    ip = ma.fields.String(load_default=None, allow_none=True, validate=ma.validate.Length(1, 64))
    device_id = ma.fields.String(load_default=None, allow_none=True, validate=ma.validate.Length(1, 128))


class WalletQuerySchema(PageArgs):
    status = ma.fields.String(load_default=None, validate=ma.validate.OneOf(WALLET_STATUSES))


class CouponIssueCreateSchema(ma.Schema):
    customer_ids = ma.fields.List(
        ma.fields.String(validate=ma.validate.Length(1, 64)),
        load_default=None,
        validate=ma.validate.Length(1, MAX_LISTED),
        metadata={"description": f"Customers to issue to (1–{MAX_LISTED}); or give segment_id or snapshot_id"},
    )
    segment_id = ma.fields.String(
        load_default=None,
        validate=ma.validate.Length(1, 64),
        metadata={"description": "A segment whose members (when the job starts) get the coupon"},
    )
    snapshot_id = ma.fields.String(
        load_default=None,
        validate=ma.validate.Length(1, 64),
        metadata={"description": "A segment snapshot (固化人群包) whose frozen members get the coupon"},
    )


class CouponIssueSchema(ma.Schema):
    id = ma.fields.String()
    coupon_id = ma.fields.String()
    segment_id = ma.fields.String(allow_none=True)
    snapshot_id = ma.fields.String(allow_none=True)
    customer_ids = ma.fields.List(ma.fields.String(), allow_none=True)
    status = ma.fields.String(metadata={"description": "pending, running or done"})
    total = ma.fields.Integer(allow_none=True, metadata={"description": "Customers targeted, once the job started"})
    done = ma.fields.Integer()
    issued = ma.fields.Integer()
    skipped = ma.fields.Integer()
    created_at = ma.fields.DateTime()
    started_at = ma.fields.DateTime(allow_none=True)
    finished_at = ma.fields.DateTime(allow_none=True)
    version = ma.fields.Integer()


class CouponIssueResultSchema(ma.Schema):
    id = ma.fields.String()
    customer_id = ma.fields.String()
    outcome = ma.fields.String(metadata={"description": "pending, issued or skipped"})
    reason = ma.fields.String(allow_none=True, metadata={"description": "Why it was skipped"})
    reason_code = ma.fields.String(
        allow_none=True,
        metadata={
            "description": "Why it was skipped, as a code: no_customer, public, disabled, ended, total_limit, "
            "per_customer_limit"
        },
    )
    customer_coupon_id = ma.fields.String(allow_none=True, metadata={"description": "The wallet entry issued"})


class IssueResultQuerySchema(PageArgs):
    outcome = ma.fields.String(load_default=None, validate=ma.validate.OneOf(RESULT_OUTCOMES))


class CouponPackItemSchema(ma.Schema):
    coupon_id = ma.fields.String(required=True, validate=ma.validate.Length(1, 64))
    quantity = ma.fields.Integer(required=True, strict=True, validate=ma.validate.Range(1, 100))


class CouponPackSchema(ma.Schema):
    id = ma.fields.String(dump_only=True)
    name = ma.fields.String(required=True, validate=ma.validate.Length(1, 200))
    price = ma.fields.Integer(
        required=True, strict=True, validate=ma.validate.Range(1, MAX_FEN), metadata={"description": "Fen"}
    )
    currency = ma.fields.String(
        load_default=None,
        validate=ma.validate.OneOf(sorted(CURRENCIES)),
        metadata={"description": "The shop's currency (the default)"},
    )
    items = ma.fields.List(
        ma.fields.Nested(CouponPackItemSchema),
        required=True,
        validate=ma.validate.Length(1, MAX_PACK_ITEMS),
        metadata={"description": "Issued coupons of the shop, each with how many copies the pack holds"},
    )
    stock = ma.fields.Integer(
        strict=True,
        allow_none=True,
        validate=ma.validate.Range(0, 10_000_000),
        metadata={"description": "Packs on sale in all; null: no limit"},
    )
    sold = ma.fields.Integer(dump_only=True, metadata={"description": "Purchases paid or awaiting payment"})
    per_customer_limit = ma.fields.Integer(strict=True, allow_none=True, validate=ma.validate.Range(1, 1000))
    sale_starts_at = _when()
    sale_ends_at = _when()
    refund_days = ma.fields.Integer(
        strict=True,
        load_default=7,
        validate=ma.validate.Range(0, 365),
        metadata={"description": "Refundable this many days after payment, while none of its coupons was used"},
    )
    status = ma.fields.String(load_default="active", validate=ma.validate.OneOf(COUPON_STATUSES))
    version = ma.fields.Integer(dump_only=True)
    created_at = ma.fields.DateTime(dump_only=True)


class CouponPackUpdateSchema(ma.Schema):
    """The sale can change; the price and contents of a pack cannot."""

    name = ma.fields.String(validate=ma.validate.Length(1, 200))
    stock = ma.fields.Integer(strict=True, allow_none=True, validate=ma.validate.Range(0, 10_000_000))
    per_customer_limit = ma.fields.Integer(strict=True, allow_none=True, validate=ma.validate.Range(1, 1000))
    sale_starts_at = _when()
    sale_ends_at = _when()
    refund_days = ma.fields.Integer(strict=True, validate=ma.validate.Range(0, 365))
    status = ma.fields.String(validate=ma.validate.OneOf(COUPON_STATUSES))


class CouponPackQuerySchema(PageArgs):
    status = ma.fields.String(load_default=None, validate=ma.validate.OneOf(COUPON_STATUSES))


class CouponPackPurchaseCreateSchema(ma.Schema):
    customer_id = ma.fields.String(required=True, validate=ma.validate.Length(1, 64))


class CouponPackPurchaseSchema(ma.Schema):
    id = ma.fields.String()
    pack_id = ma.fields.String()
    customer_id = ma.fields.String()
    order_id = ma.fields.String(
        metadata={"description": "Pay it as any order: POST /orders/{order_id}/payments; refund it there too"}
    )
    status = ma.fields.String(metadata={"description": "pending (awaiting payment), paid, refunded or cancelled"})
    price = ma.fields.Integer()
    problems = ma.fields.List(
        ma.fields.Dict(), metadata={"description": "Coupons that could not be issued at payment, and why"}
    )
    created_at = ma.fields.DateTime()
    paid_at = ma.fields.DateTime(allow_none=True)
    ended_at = ma.fields.DateTime(allow_none=True)
    version = ma.fields.Integer()
