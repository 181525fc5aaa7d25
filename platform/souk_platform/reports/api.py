from __future__ import annotations

import dataclasses
from typing import Any

import marshmallow as ma
from flask.views import MethodView

from souk_platform.api import current_principal, requires
from souk_platform.api.parsing import Blueprint
from souk_platform.db import db
from souk_platform.reports import services
from souk_platform.reports.schemas import (
    FunnelSchema,
    PeriodArgs,
    PeriodOverPeriodArgs,
    PeriodOverPeriodSchema,
    SalesTrendArgs,
    SalesTrendSchema,
    TopCustomersArgs,
    TopCustomersSchema,
    TopProductsArgs,
    TopProductsSchema,
)
from souk_platform.shops.models import Shop
from souk_platform.shops.services import get_shop

blp = Blueprint(
    "reports",
    __name__,
    url_prefix="/reports",
    description="Sales reports over whole days in the shop's timezone; money in integer fen of the shop's currency",
)


def _shop() -> Shop:
    return get_shop(db.session, current_principal().shop_id)


def _with_currency(report: Any, shop: Shop) -> dict[str, Any]:
    """The report's fields plus the shop's currency, which every money amount in it is in."""
    return {"currency": shop.currency, **{f.name: getattr(report, f.name) for f in dataclasses.fields(report)}}


@blp.route("/sales-trend")
class SalesTrend(MethodView):
    @requires("read_reports")
    @blp.arguments(SalesTrendArgs, location="query", unknown=ma.RAISE)
    @blp.response(200, SalesTrendSchema)
    def get(self, args: dict[str, Any]) -> Any:
        """Orders paid, revenue, refunds and average order value per day, week or month (every bucket listed)"""
        shop = _shop()
        report = services.sales_trend(
            db.session, shop_id=shop.id, period=args["period"], timezone=shop.timezone, granularity=args["granularity"]
        )
        return _with_currency(report, shop)


@blp.route("/funnel")
class Funnel(MethodView):
    @requires("read_reports")
    @blp.arguments(PeriodArgs, location="query", unknown=ma.RAISE)
    @blp.response(200, FunnelSchema)
    def get(self, args: dict[str, Any]) -> Any:
        """Carts created → orders created → orders paid, with conversion rates"""
        shop = _shop()
        report = services.funnel(db.session, shop_id=shop.id, period=args["period"], timezone=shop.timezone)
        return _with_currency(report, shop)


@blp.route("/top-products")
class TopProducts(MethodView):
    @requires("read_reports")
    @blp.arguments(TopProductsArgs, location="query", unknown=ma.RAISE)
    @blp.response(200, TopProductsSchema)
    def get(self, args: dict[str, Any]) -> Any:
        """Best-selling products by revenue or quantity"""
        shop = _shop()
        report = services.top_products(
            db.session,
            shop_id=shop.id,
            period=args["period"],
            timezone=shop.timezone,
            by=args["by"],
            limit=args["limit"],
        )
        return _with_currency(report, shop)


@blp.route("/top-customers")
class TopCustomers(MethodView):
    @requires("read_reports")
    @blp.arguments(TopCustomersArgs, location="query", unknown=ma.RAISE)
    @blp.response(200, TopCustomersSchema)
    def get(self, args: dict[str, Any]) -> Any:
        """Customers who brought the most revenue"""
        shop = _shop()
        report = services.top_customers(
            db.session, shop_id=shop.id, period=args["period"], timezone=shop.timezone, limit=args["limit"]
        )
        return _with_currency(report, shop)


@blp.route("/period-over-period")
class PeriodOverPeriod(MethodView):
    @requires("read_reports")
    @blp.arguments(PeriodOverPeriodArgs, location="query", unknown=ma.RAISE)
    @blp.response(200, PeriodOverPeriodSchema)
    def get(self, args: dict[str, Any]) -> Any:
        """A metric for the period against the previous period (环比) and the same days a year earlier (同比)"""
        shop = _shop()
        report = services.period_over_period(
            db.session, shop_id=shop.id, period=args["period"], timezone=shop.timezone, metric=args["metric"]
        )
        return _with_currency(report, shop)
