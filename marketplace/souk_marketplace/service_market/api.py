"""The service market for shops: browse services and providers, order, and act as the buyer.

Thin views over ``catalogue`` and ``services``. Providers work from their web pages (dashboard and
order pages); every route here acts for the token's shop as the buyer.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from flask import Response, current_app, request, url_for
from flask.views import MethodView

from souk_marketplace.service_market import catalogue, services
from souk_marketplace.service_market.errors import InvalidFile
from souk_marketplace.service_market.files import MAX_FILE_BYTES
from souk_marketplace.service_market.models import Service, ServiceOrder, ServiceOrderEvent
from souk_marketplace.service_market.schemas import (
    ServiceDisputeSchema,
    ServiceExtensionAnswerSchema,
    ServiceFileSchema,
    ServiceFileUploadSchema,
    ServiceMessageSchema,
    ServiceOfferAcceptSchema,
    ServiceOfferCreateSchema,
    ServiceOrderCancelSchema,
    ServiceOrderCreateSchema,
    ServiceOrderDetailSchema,
    ServiceOrderEventSchema,
    ServiceOrderQuerySchema,
    ServiceOrderRatingSchema,
    ServiceOrderSchema,
    ServiceProviderSchema,
    ServiceQuerySchema,
    ServiceRatingCreateSchema,
    ServiceRequirementsSchema,
    ServiceRevisionSchema,
    ServiceSchema,
)
from souk_marketplace.service_market.services import Party
from souk_platform.api import (
    PageArgs,
    current_principal,
    etag,
    expected_version,
    idempotent,
    page_of,
    page_schema,
    paginated,
    requires,
)
from souk_platform.api.parsing import Blueprint
from souk_platform.core.clock import app_now
from souk_platform.db import db

blp = Blueprint(
    "service_market_api", __name__, url_prefix="", description="服务市场: services, providers and service orders"
)

ORDER = "/service-orders/<service_order_id>"


@blp.before_request
def _room_for_files() -> None:
    # A file upload carries up to 5 MiB as base64; every other request keeps the app's body limit.
    if request.method == "POST" and request.path.endswith("/files"):
        request.max_content_length = 4 * ((MAX_FILE_BYTES + 2) // 3) + 64 * 1024


def _buyer() -> Party:
    return Party.buyer(current_principal().shop_id)


def _order_detail(order_id: str) -> Any:
    order = services.get_order(db.session, order_id, _buyer())
    return order, 200, etag(order.version)


@blp.route("/services")
class ServiceList(MethodView):
    @requires("read_services")
    @blp.arguments(ServiceQuerySchema, location="query")
    @blp.response(200, page_schema(ServiceSchema))
    def get(self, args: dict[str, Any]) -> Any:
        """The service catalogue: search words, filter by category, newest first"""
        stmt = catalogue.search_services_stmt(q=args.pop("q"), category=args.pop("category"))
        return paginated(page_of(db.session, stmt, Service.id, **args))


@blp.route("/services/<service_id>")
class ServiceResource(MethodView):
    @requires("read_services")
    @blp.response(200, ServiceSchema)
    def get(self, service_id: str) -> Any:
        """One service with its packages side by side (the catalogue is the same for every shop)"""
        service = catalogue.get_service(db.session, service_id)
        return service, 200, etag(service.version)


@blp.route("/service-providers/<provider_id>")
class ProviderResource(MethodView):
    @requires("read_services")
    @blp.response(200, ServiceProviderSchema)
    def get(self, provider_id: str) -> Any:
        """A provider's profile, services, portfolio and ratings (count, average, per star, recent)"""
        provider = catalogue.get_provider(db.session, provider_id)
        summary = catalogue.rating_summaries(db.session, [provider.id])[provider.id]
        portfolio = [
            {
                "id": item.id,
                "title": item.title,
                "text": item.text,
                "link": item.link,
                "image_url": url_for("service_market.portfolio_image", item_id=item.id, _external=True)
                if item.image_type
                else None,
            }
            for item in catalogue.portfolio_of(db.session, provider.id)
        ]
        return {
            "id": provider.id,
            "display_name": provider.display_name,
            "categories": provider.categories,
            "bio": provider.bio,
            "created_at": provider.created_at,
            "rating": {"count": summary.count, "average": summary.average, "by_stars": summary.by_stars},
            "services": catalogue.services_of(db.session, provider.id),
            "portfolio": portfolio,
            "recent_ratings": catalogue.recent_ratings(db.session, provider.id),
        }


@blp.route("/service-orders")
class OrderList(MethodView):
    @requires("read_services")
    @blp.arguments(ServiceOrderQuerySchema, location="query")
    @blp.response(200, page_schema(ServiceOrderSchema))
    def get(self, args: dict[str, Any]) -> Any:
        """This shop's service orders, newest first"""
        stmt = services.orders_stmt(shop_id=current_principal().shop_id, state=args.pop("state"))
        return paginated(page_of(db.session, stmt, ServiceOrder.id, **args))

    @requires("write_services")
    @idempotent
    @blp.arguments(ServiceOrderCreateSchema)
    @blp.response(201, ServiceOrderDetailSchema)
    @blp.alt_response(422, description="Unknown package, another currency, or a shop balance that cannot pay")
    def post(self, body: dict[str, Any]) -> Any:
        """Order a package: its price moves from the shop's balance into escrow at once (send Idempotency-Key)"""
        principal = current_principal()
        order = services.place_order(
            db.session,
            shop_id=principal.shop_id,
            package_id=body["package_id"],
            requirements=body["requirements"],
            now=app_now(),
            fee_bps=services.fee_bps(current_app.config),
            placed_by=principal.token_id,
        )
        return order, 201, etag(order.version)


@blp.route(ORDER)
class OrderResource(MethodView):
    @requires("read_services")
    @blp.response(200, ServiceOrderDetailSchema)
    def get(self, service_order_id: str) -> Any:
        """A service order with its milestones, pending extension request, files and rating"""
        return _order_detail(service_order_id)


@blp.route(ORDER + "/timeline")
class OrderTimeline(MethodView):
    @requires("read_services")
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, page_schema(ServiceOrderEventSchema))
    def get(self, args: dict[str, Any], service_order_id: str) -> Any:
        """Everything that happened on the order (state changes, messages, files, extensions, offers), newest first"""
        order = services.get_order(db.session, service_order_id, _buyer())
        return paginated(page_of(db.session, services.timeline_stmt(order.id), ServiceOrderEvent.id, **args))


def _action_doc(description: str) -> Any:
    return blp.alt_response(409, description=description)


@blp.route(ORDER + "/requirements")
class OrderRequirements(MethodView):
    @requires("write_services")
    @idempotent
    @blp.arguments(ServiceRequirementsSchema)
    @blp.response(200, ServiceOrderDetailSchema)
    @_action_doc("The order is not waiting for requirements")
    def post(self, body: dict[str, Any], service_order_id: str) -> Any:
        """Send the requirements: the work starts and the due date runs"""
        services.submit_requirements(
            db.session,
            order_id=service_order_id,
            party=_buyer(),
            requirements=body["requirements"],
            now=app_now(),
            expected_version=expected_version(),
        )
        return _order_detail(service_order_id)


@blp.route(ORDER + "/accept")
class OrderAccept(MethodView):
    @requires("write_services")
    @idempotent
    @blp.response(200, ServiceOrderDetailSchema)
    @_action_doc("Nothing is delivered")
    def post(self, service_order_id: str) -> Any:
        """Accept the delivered milestone: the next milestone starts (the accepted one is paid), or the
        order goes into 14 days of clearing"""
        services.accept_delivery(
            db.session, order_id=service_order_id, party=_buyer(), now=app_now(), expected_version=expected_version()
        )
        return _order_detail(service_order_id)


@blp.route(ORDER + "/revision-requests")
class OrderRevision(MethodView):
    @requires("write_services")
    @idempotent
    @blp.arguments(ServiceRevisionSchema)
    @blp.response(200, ServiceOrderDetailSchema)
    @_action_doc("Nothing is delivered, or the package's revisions are used up")
    def post(self, body: dict[str, Any], service_order_id: str) -> Any:
        """Ask for changes to the delivery (counted against the package's revisions)"""
        services.request_revision(
            db.session,
            order_id=service_order_id,
            party=_buyer(),
            note=body["note"],
            now=app_now(),
            expected_version=expected_version(),
        )
        return _order_detail(service_order_id)


@blp.route(ORDER + "/cancel")
class OrderCancel(MethodView):
    @requires("write_services")
    @idempotent
    @blp.arguments(ServiceOrderCancelSchema)
    @blp.response(200, ServiceOrderDetailSchema)
    @_action_doc("Work has started and is not overdue by more than 24 hours")
    def post(self, body: dict[str, Any], service_order_id: str) -> Any:
        """Cancel for a full refund of what is held: before the requirements are sent, or when overdue > 24 h"""
        services.cancel_order(
            db.session,
            order_id=service_order_id,
            party=_buyer(),
            reason=body["reason"],
            now=app_now(),
            expected_version=expected_version(),
        )
        return _order_detail(service_order_id)


@blp.route(ORDER + "/extension-answer")
class OrderExtensionAnswer(MethodView):
    @requires("write_services")
    @idempotent
    @blp.arguments(ServiceExtensionAnswerSchema)
    @blp.response(200, ServiceOrderDetailSchema)
    @_action_doc("No extension request is waiting (or it expired)")
    def post(self, body: dict[str, Any], service_order_id: str) -> Any:
        """Accept or decline the provider's request for more days (requests expire after 4 days)"""
        services.answer_extension(
            db.session, order_id=service_order_id, party=_buyer(), accept=body["accept"], now=app_now()
        )
        return _order_detail(service_order_id)


@blp.route(ORDER + "/disputes")
class OrderDispute(MethodView):
    @requires("write_services")
    @idempotent
    @blp.arguments(ServiceDisputeSchema)
    @blp.response(200, ServiceOrderDetailSchema)
    @_action_doc("The order is not delivered, accepted or clearing")
    def post(self, body: dict[str, Any], service_order_id: str) -> Any:
        """Dispute a delivery (or an accepted order still clearing); the provider has 5 days to answer"""
        services.open_dispute(
            db.session,
            order_id=service_order_id,
            party=_buyer(),
            reason=body["reason"],
            now=app_now(),
            expected_version=expected_version(),
        )
        return _order_detail(service_order_id)


@blp.route(ORDER + "/offers")
class OrderOffer(MethodView):
    @requires("write_services")
    @idempotent
    @blp.arguments(ServiceOfferCreateSchema)
    @blp.response(200, ServiceOrderDetailSchema)
    @_action_doc("The order is not in mediation")
    def post(self, body: dict[str, Any], service_order_id: str) -> Any:
        """In mediation, propose a split: ``refund`` fen back to the shop, the rest to the provider"""
        services.make_offer(
            db.session,
            order_id=service_order_id,
            party=_buyer(),
            refund=body["refund"],
            note=body["note"],
            now=app_now(),
        )
        return _order_detail(service_order_id)


@blp.route(ORDER + "/offer-acceptance")
class OrderOfferAcceptance(MethodView):
    @requires("write_services")
    @idempotent
    @blp.arguments(ServiceOfferAcceptSchema)
    @blp.response(200, ServiceOrderDetailSchema)
    @_action_doc("No offer of the provider stands, or it changed")
    def post(self, body: dict[str, Any], service_order_id: str) -> Any:
        """Agree to the provider's standing offer: escrow is split accordingly and the order ends"""
        services.accept_offer(
            db.session, order_id=service_order_id, party=_buyer(), refund=body["refund"], now=app_now()
        )
        return _order_detail(service_order_id)


@blp.route(ORDER + "/escalation")
class OrderEscalation(MethodView):
    @requires("write_services")
    @idempotent
    @blp.response(200, ServiceOrderDetailSchema)
    @_action_doc("The order is not in mediation")
    def post(self, service_order_id: str) -> Any:
        """Take the dispute to platform arbitration without waiting for mediation's 30 days"""
        services.escalate_dispute(db.session, order_id=service_order_id, party=_buyer(), now=app_now())
        return _order_detail(service_order_id)


@blp.route(ORDER + "/messages")
class OrderMessages(MethodView):
    @requires("write_services")
    @idempotent
    @blp.arguments(ServiceMessageSchema)
    @blp.response(201, ServiceOrderEventSchema)
    def post(self, body: dict[str, Any], service_order_id: str) -> Any:
        """Write to the provider (the message joins the order's timeline)"""
        return services.post_message(
            db.session, order_id=service_order_id, party=_buyer(), body=body["body"], now=app_now()
        ), 201


@blp.route(ORDER + "/files")
class OrderFiles(MethodView):
    @requires("write_services")
    @idempotent
    @blp.arguments(ServiceFileUploadSchema)
    @blp.response(201, ServiceFileSchema)
    @blp.alt_response(422, description="Not base64, empty, over 5 MiB, or not an accepted kind of file")
    def post(self, body: dict[str, Any], service_order_id: str) -> Any:
        """Attach a file for the provider (≤ 5 MiB; PDF, images, ZIP or UTF-8 text, recognised by content)"""
        try:
            content = base64.b64decode(body["content_base64"], validate=True)
        except (binascii.Error, ValueError):
            raise InvalidFile(
                "content_base64 is not valid base64 (standard alphabet, with padding).",
                errors={"content_base64": ["Not valid base64."]},
            ) from None
        return services.upload_file(
            db.session,
            order_id=service_order_id,
            party=_buyer(),
            filename=body["filename"],
            content=content,
            now=app_now(),
        ), 201


@blp.route(ORDER + "/files/<service_file_id>")
class OrderFile(MethodView):
    @requires("read_services")
    @blp.doc(
        responses={
            "200": {
                "description": "The file's bytes, as an attachment",
                "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    )
    def get(self, service_order_id: str, service_file_id: str) -> Any:
        """Download a file of the order (only the order's two parties and platform admins can)"""
        stored = services.get_file(db.session, order_id=service_order_id, file_id=service_file_id, party=_buyer())
        return file_response(stored.content, stored.content_type, stored.filename)


def file_response(content: bytes, content_type: str, filename: str) -> Response:
    """Bytes as a download that a browser never renders in the page (so nothing in it can run)."""
    response = Response(content, mimetype=content_type)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers.set("Content-Disposition", "attachment", filename=filename)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@blp.route(ORDER + "/rating")
class OrderRating(MethodView):
    @requires("write_services")
    @idempotent
    @blp.arguments(ServiceRatingCreateSchema)
    @blp.response(201, ServiceOrderRatingSchema)
    @_action_doc("The work is not done yet, or the order is rated already")
    def post(self, body: dict[str, Any], service_order_id: str) -> Any:
        """Rate the provider (1–5 stars and text), once per order, after the work is accepted"""
        return services.rate_provider(
            db.session,
            order_id=service_order_id,
            party=_buyer(),
            stars=body["stars"],
            text=body["text"],
            now=app_now(),
        ), 201
