from __future__ import annotations

from typing import Any

import marshmallow as ma

from souk_platform.reports import services

# --- query arguments ---------------------------------------------------------------------------------------


class PeriodArgs(ma.Schema):
    """``from``/``to``: local dates in the shop's timezone, both included, at most 366 days apart."""

    from_ = ma.fields.Date(
        required=True, data_key="from", metadata={"description": "First day (YYYY-MM-DD, shop timezone)"}
    )
    to = ma.fields.Date(required=True, metadata={"description": "Last day, included (YYYY-MM-DD, shop timezone)"})

    @ma.validates_schema
    def _check_period(self, data: dict[str, Any], **kwargs: Any) -> None:
        if "from_" in data and "to" in data:
            problems = services.period_problems(data["from_"], data["to"])
            if problems:
                raise ma.ValidationError(problems)

    @ma.post_load
    def _to_period(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        data["period"] = services.ReportPeriod(data.pop("from_"), data.pop("to"))
        return data


class SalesTrendArgs(PeriodArgs):
    granularity = ma.fields.String(
        load_default="day",
        validate=ma.validate.OneOf(services.GRANULARITIES),
        metadata={"description": "Bucket size: day, week (ISO, Monday first) or month"},
    )


class TopProductsArgs(PeriodArgs):
    by = ma.fields.String(
        load_default="revenue",
        validate=ma.validate.OneOf(services.PRODUCT_RANKINGS),
        metadata={"description": "Rank by revenue (fen) or by quantity sold"},
    )
    limit = ma.fields.Integer(load_default=10, validate=ma.validate.Range(1, 100), metadata={"description": "1–100"})


class TopCustomersArgs(PeriodArgs):
    limit = ma.fields.Integer(load_default=10, validate=ma.validate.Range(1, 100), metadata={"description": "1–100"})


class PeriodOverPeriodArgs(PeriodArgs):
    metric = ma.fields.String(
        load_default="revenue",
        validate=ma.validate.OneOf(services.PERIOD_METRICS),
        metadata={"description": "revenue (fen), orders (paid) or customers (distinct paying customers)"},
    )


# --- responses -----------------------------------------------------------------------------------------------


class ReportSchema(ma.Schema):
    """What every report says about itself: its days, the timezone they are in, and the money's currency."""

    from_ = ma.fields.Date(data_key="from", attribute="period.start", dump_only=True)
    to = ma.fields.Date(attribute="period.end", dump_only=True)
    timezone = ma.fields.String(dump_only=True, metadata={"description": "The shop's timezone, used for days"})
    currency = ma.fields.String(dump_only=True, metadata={"description": "Currency of every money amount (fen)"})


class SalesFiguresSchema(ma.Schema):
    orders_paid = ma.fields.Integer()
    gross_sales = ma.fields.Integer(metadata={"description": "Paid in cash and stored value, fen"})
    refunds = ma.fields.Integer(metadata={"description": "Refunded so far on these sales, fen"})
    revenue = ma.fields.Integer(metadata={"description": "gross_sales − refunds, fen"})
    average_order_value = ma.fields.Integer(metadata={"description": "revenue ÷ orders_paid, fen (0 with no order)"})


class TrendBucketSchema(SalesFiguresSchema):
    start = ma.fields.Date()
    end = ma.fields.Date()
    label = ma.fields.String(metadata={"description": "2026-03-02, 2026-W10 or 2026-03"})

    @ma.pre_dump
    def _flatten(self, bucket: services.TrendBucket, **kwargs: Any) -> dict[str, Any]:
        figures = bucket.figures
        return {"start": bucket.start, "end": bucket.end, "label": bucket.label, **_figures(figures)}


def _figures(figures: services.SalesFigures) -> dict[str, int]:
    return {name: getattr(figures, name) for name in SalesFiguresSchema().fields}


class SalesTrendSchema(ReportSchema):
    granularity = ma.fields.String()
    totals = ma.fields.Nested(SalesFiguresSchema)
    buckets = ma.fields.List(ma.fields.Nested(TrendBucketSchema))


class FunnelSchema(ReportSchema):
    carts_created = ma.fields.Integer()
    orders_created = ma.fields.Integer()
    orders_paid = ma.fields.Integer(metadata={"description": "Orders created in the period that were paid"})
    cart_to_order_rate = ma.fields.String(allow_none=True, metadata={"description": "4-place decimal, or null"})
    order_to_paid_rate = ma.fields.String(allow_none=True)
    cart_to_paid_rate = ma.fields.String(allow_none=True)


class ProductRankSchema(ma.Schema):
    rank = ma.fields.Integer(metadata={"description": "1 is best; ties share a rank"})
    product_id = ma.fields.String()
    name = ma.fields.String()
    quantity = ma.fields.Integer(metadata={"description": "Units sold and not refunded"})
    revenue = ma.fields.Integer(metadata={"description": "Line revenue after discounts, not refunded, fen"})
    orders = ma.fields.Integer()


class TopProductsSchema(ReportSchema):
    by = ma.fields.String()
    items = ma.fields.List(ma.fields.Nested(ProductRankSchema))


class CustomerRankSchema(ma.Schema):
    rank = ma.fields.Integer(metadata={"description": "1 is best; ties share a rank"})
    customer_id = ma.fields.String()
    name = ma.fields.String(allow_none=True)
    orders = ma.fields.Integer()
    revenue = ma.fields.Integer(metadata={"description": "fen, net of refunds"})


class TopCustomersSchema(ReportSchema):
    by = ma.fields.String()
    items = ma.fields.List(ma.fields.Nested(CustomerRankSchema))


class PeriodValueSchema(ma.Schema):
    from_ = ma.fields.Date(data_key="from", attribute="period.start")
    to = ma.fields.Date(attribute="period.end")
    value = ma.fields.Integer()


class ComparisonSchema(PeriodValueSchema):
    change = ma.fields.Integer(metadata={"description": "current value − this value"})
    relative_change = ma.fields.String(
        allow_none=True, metadata={"description": "change ÷ this value, 4-place decimal; null when this value is 0"}
    )


class PeriodOverPeriodSchema(ReportSchema):
    metric = ma.fields.String()
    current = ma.fields.Nested(PeriodValueSchema)
    previous_period = ma.fields.Nested(ComparisonSchema, metadata={"description": "环比: the period just before"})
    year_earlier = ma.fields.Nested(ComparisonSchema, metadata={"description": "同比: the same days a year earlier"})
