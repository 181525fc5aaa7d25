"""Orders, payments (test provider) and refunds: thin views over ``orders.services``."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from souk_platform.api import (
    Page,
    current_principal,
    etag,
    expected_version,
    fast_response,
    idempotent,
    page_schema,
    paginated,
    requires,
    row_page_of,
    transactional,
)
from souk_platform.api.parsing import Blueprint
from souk_platform.core.clock import app_now
from souk_platform.db import db
from souk_platform.orders import services
from souk_platform.orders.models import Order
from souk_platform.orders.schemas import (
    CancelSchema,
    OrderDetailSchema,
    OrderQuerySchema,
    OrderSchema,
    PaymentCallbackSchema,
    PaymentCreateSchema,
    PaymentSchema,
    RefundCreateSchema,
    RefundSchema,
    order_detail_json,
    order_json,
)

# Routes live under /orders and /payments, so the blueprint has no prefix of its own.
blp = Blueprint("orders", __name__, url_prefix="", description="Orders, their payments and refunds")


@blp.route("/orders")
class OrderList(MethodView):
    @requires("read_orders")
    @blp.arguments(OrderQuerySchema, location="query")
    @fast_response(blp, 200, page_schema(OrderSchema))
    def get(self, args: dict[str, Any]) -> Any:
        """Orders in this shop, newest first"""
        stmt = services.list_order_rows_stmt(
            current_principal().shop_id, status=args.pop("status"), customer_id=args.pop("customer_id")
        )
        page = row_page_of(db.session, stmt, Order.id, **args)
        return paginated(Page([order_json(order) for order in page.items], page.next_cursor))


@blp.route("/orders/<order_id>")
class OrderResource(MethodView):
    @requires("read_orders")
    @fast_response(blp, 200, OrderDetailSchema)
    def get(self, order_id: str) -> Any:
        """An order with its lines, payments and refunds"""
        order = services.get_order(db.session, shop_id=current_principal().shop_id, order_id=order_id)
        return order_detail_json(order), 200, etag(order.version)


@blp.route("/orders/<order_id>/cancel")
class OrderCancel(MethodView):
    @requires("write_orders")
    @transactional
    @blp.arguments(CancelSchema)
    @blp.response(200, OrderDetailSchema)
    @blp.alt_response(409, description="The order is not awaiting payment")
    def post(self, body: dict[str, Any], order_id: str) -> Any:
        """Cancel an unpaid order: stock, coupons, points and stored value are given back"""
        order = services.cancel_order(
            db.session,
            shop_id=current_principal().shop_id,
            order_id=order_id,
            reason=body["reason"],
            now=app_now(),
            expected_version=expected_version(),
        )
        return order, 200, etag(order.version)


@blp.route("/orders/<order_id>/fulfil")
class OrderFulfil(MethodView):
    @requires("write_orders")
    @transactional
    @blp.response(200, OrderDetailSchema)
    @blp.alt_response(409, description="The order is not paid")
    def post(self, order_id: str) -> Any:
        """Mark a paid order fulfilled (shipped)"""
        order = services.fulfil_order(
            db.session,
            shop_id=current_principal().shop_id,
            order_id=order_id,
            now=app_now(),
            expected_version=expected_version(),
        )
        return order, 200, etag(order.version)


@blp.route("/orders/<order_id>/complete")
class OrderComplete(MethodView):
    @requires("write_orders")
    @transactional
    @blp.response(200, OrderDetailSchema)
    @blp.alt_response(409, description="The order is not fulfilled")
    def post(self, order_id: str) -> Any:
        """Mark a fulfilled order completed"""
        order = services.complete_order(
            db.session,
            shop_id=current_principal().shop_id,
            order_id=order_id,
            now=app_now(),
            expected_version=expected_version(),
        )
        return order, 200, etag(order.version)


@blp.route("/orders/<order_id>/payments")
class OrderPayments(MethodView):
    @requires("write_orders")
    @idempotent
    @blp.arguments(PaymentCreateSchema)
    @blp.response(201, PaymentSchema)
    @blp.alt_response(200, schema=PaymentSchema, description="The payment already pending for this order")
    @blp.alt_response(409, description="The order is not awaiting payment")
    def post(self, body: dict[str, Any], order_id: str) -> Any:
        """Start paying an order's cash total (a pending payment already open is returned, with 200).

        An order with nothing to pay in cash is paid at once (provider "none")."""
        payment, created = services.start_payment(
            db.session, shop_id=current_principal().shop_id, order_id=order_id, now=app_now(), provider=body["provider"]
        )
        return payment, 201 if created else 200


@blp.route("/payments/<payment_id>/callback")
class PaymentCallback(MethodView):
    @requires("write_orders")
    @transactional
    @blp.arguments(PaymentCallbackSchema)
    @blp.response(200, PaymentSchema)
    @blp.alt_response(409, description="The payment already has the other outcome")
    def post(self, body: dict[str, Any], payment_id: str) -> Any:
        """The test provider's callback: report a payment succeeded or failed (repeating it changes nothing)"""
        return services.settle_payment(
            db.session, shop_id=current_principal().shop_id, payment_id=payment_id, callback=body, now=app_now()
        )


@blp.route("/orders/<order_id>/refunds")
class OrderRefunds(MethodView):
    @requires("write_orders")
    @idempotent
    @blp.arguments(RefundCreateSchema)
    @blp.response(201, RefundSchema)
    @blp.alt_response(409, description="The order is not paid, or the shop's balance cannot cover the cash")
    @blp.alt_response(422, description="Invalid lines, or more than is left to refund")
    def post(self, body: dict[str, Any], order_id: str) -> Any:
        """Refund part or all of a paid order"""
        return services.create_refund(
            db.session,
            shop_id=current_principal().shop_id,
            order_id=order_id,
            amount=body["amount"],
            lines=body["lines"],
            reason=body["reason"],
            restock=body["restock"],
            now=app_now(),
        ), 201
