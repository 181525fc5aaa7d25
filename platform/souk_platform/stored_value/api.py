"""Customers' stored value (储值金) and cashback."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from souk_platform.api import PageArgs, current_principal, idempotent, page_of, page_schema, paginated, requires
from souk_platform.api.parsing import Blueprint
from souk_platform.db import db
from souk_platform.stored_value import services
from souk_platform.stored_value.models import CashbackSchedule
from souk_platform.stored_value.schemas import CashbackSchema, StoredValueSchema, TopUpResultSchema, TopUpSchema

blp = Blueprint("stored_value", __name__, url_prefix="/customers", description="Customers' stored value and cashback")


@blp.route("/<customer_id>/stored-value")
class StoredValue(MethodView):
    @requires("read_stored_value")
    @blp.response(200, StoredValueSchema)
    def get(self, customer_id: str) -> Any:
        """A customer's stored-value balance and recent movements"""
        return services.stored_value_summary(db.session, shop_id=current_principal().shop_id, customer_id=customer_id)


@blp.route("/<customer_id>/stored-value/top-ups")
class TopUps(MethodView):
    @requires("write_stored_value")
    @idempotent
    @blp.arguments(TopUpSchema)
    @blp.response(201, TopUpResultSchema)
    def post(self, body: dict[str, Any], customer_id: str) -> Any:
        """Sell stored value paid in cash (send an Idempotency-Key to retry safely)"""
        return services.sell_stored_value(
            db.session,
            shop_id=current_principal().shop_id,
            customer_id=customer_id,
            amount=body["amount"],
            reference=body["reference"],
        )


@blp.route("/<customer_id>/cashback")
class CashbackList(MethodView):
    @requires("read_stored_value")
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, page_schema(CashbackSchema))
    def get(self, args: dict[str, Any], customer_id: str) -> Any:
        """A customer's order cashback: pending, credited and cancelled, newest first"""
        shop_id = current_principal().shop_id
        stmt = services.cashback_stmt(db.session, shop_id=shop_id, customer_id=customer_id)
        return paginated(page_of(db.session, stmt, CashbackSchedule.id, **args))
