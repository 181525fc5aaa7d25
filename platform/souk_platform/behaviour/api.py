"""The customer-events API: record behaviour events in idempotent batches, and list them (docs/architecture.md §5.4)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import current_app
from flask.views import MethodView

from souk_platform.api import current_principal, idempotent, page_schema, paginated, requires
from souk_platform.api.pagination import sorted_page_of
from souk_platform.api.parsing import Blueprint
from souk_platform.behaviour import services
from souk_platform.behaviour.models import CustomerEvent
from souk_platform.behaviour.schemas import (
    CustomerEventBatchResultSchema,
    CustomerEventBatchSchema,
    CustomerEventQuerySchema,
    CustomerEventSchema,
)
from souk_platform.core.clock import app_now
from souk_platform.db import db

blp = Blueprint(
    "customer_events",
    __name__,
    url_prefix="",
    description="Customers' behaviour events (views, carts, searches, visits…) with their scene",
)


@blp.route("/customer-events")
class CustomerEventList(MethodView):
    @requires("read_customer_events")
    @blp.arguments(CustomerEventQuerySchema, location="query")
    @blp.response(200, page_schema(CustomerEventSchema))
    def get(self, args: dict[str, Any]) -> Any:
        """Behaviour events, latest occurred_at first, by customer, type or since a time"""
        stmt = services.list_events_stmt(
            current_principal().shop_id,
            customer_id=args.pop("customer_id"),
            type=args.pop("type"),
            since=args.pop("since"),
        )
        page = sorted_page_of(db.session, stmt, CustomerEvent.occurred_at, CustomerEvent.id, descending=True, **args)
        return paginated(page)

    @requires("write_customer_events")
    @idempotent
    @blp.arguments(CustomerEventBatchSchema)
    @blp.response(200, CustomerEventBatchResultSchema)
    def post(self, body: dict[str, Any]) -> Any:
        """Record 1–500 events; an event id already stored or repeated is skipped, any bad event stores none"""
        recorded = services.record_events(
            db.session,
            shop_id=current_principal().shop_id,
            events=body["events"],
            now=app_now(),
            retention=dt.timedelta(days=current_app.config["SOUK_CUSTOMER_EVENTS_DAYS"]),
        )
        return {"accepted": recorded.accepted, "duplicates": recorded.duplicates}
