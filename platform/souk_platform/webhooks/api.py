from __future__ import annotations

from typing import Any

from flask import current_app
from flask.views import MethodView

from souk_platform.api import (
    PageArgs,
    current_principal,
    etag,
    expected_version,
    page_of,
    page_schema,
    paginated,
    requires,
    transactional,
)
from souk_platform.api.parsing import Blueprint
from souk_platform.core.clock import Clock
from souk_platform.db import db
from souk_platform.webhooks import catalogue, services
from souk_platform.webhooks.models import WebhookDelivery, WebhookSubscription
from souk_platform.webhooks.runtime import allow_loopback, runtime_for
from souk_platform.webhooks.schemas import (
    DeliveryDetailSchema,
    DeliveryQuerySchema,
    DeliverySchema,
    PrivacyRequestSchema,
    RecoverResultSchema,
    RecoverSchema,
    SubscriptionCreateSchema,
    SubscriptionSchema,
    SubscriptionUpdateSchema,
    SubscriptionWithSecretSchema,
)


class _WebhooksBlueprint(Blueprint):
    """Also writes the event catalogue into the OpenAPI 3.1 ``webhooks`` section when registered."""

    def register_views_in_doc(self, api: Any, app: Any, spec: Any, *, name: str, parameters: Any) -> None:
        super().register_views_in_doc(api, app, spec, name=name, parameters=parameters)
        spec.options.setdefault("webhooks", {}).update(catalogue.openapi_webhooks())


blp = _WebhooksBlueprint(
    "webhooks",
    __name__,
    url_prefix="",  # two collections: /webhook-subscriptions and /webhook-deliveries
    description=(
        "Webhook endpoints and their delivery log. Deliveries follow Standard Webhooks, at least once and "
        "in no promised order: deduplicate on `webhook-id`, drop stale updates with `data.version`."
    ),
)


def _clock() -> Clock:
    clock: Clock = current_app.extensions["souk.clock"]
    return clock


def _owner() -> dict[str, Any]:
    principal = current_principal()
    return {"shop_id": principal.shop_id, "installation_id": principal.installation_id}


def _with_secret(subscription: WebhookSubscription, secret: str) -> dict[str, Any]:
    return {name: getattr(subscription, name) for name in SubscriptionSchema().fields} | {"secret": secret}


def _detail(delivery: WebhookDelivery) -> dict[str, Any]:
    return {
        **{name: getattr(delivery, name) for name in DeliverySchema().fields},
        "body": delivery.body,
        "attempt_log": services.attempts_of(db.session, delivery),
    }


@blp.route("/webhook-subscriptions")
class SubscriptionList(MethodView):
    @requires("read_webhooks")
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, page_schema(SubscriptionSchema))
    def get(self, args: dict[str, Any]) -> Any:
        """Webhook subscriptions (an app sees only its own)"""
        owner = _owner()
        stmt = services.subscriptions_stmt(owner["shop_id"], installation_id=owner["installation_id"])
        return paginated(page_of(db.session, stmt, WebhookSubscription.id, **args))

    @requires("write_webhooks")
    @transactional
    @blp.arguments(SubscriptionCreateSchema)
    @blp.response(201, SubscriptionWithSecretSchema)
    def post(self, args: dict[str, Any]) -> Any:
        """Create a subscription; the response carries its signing secret, shown only this once"""
        subscription, secret = services.create_subscription(
            db.session,
            **_owner(),
            granted_scopes=current_principal().scopes,
            box=runtime_for(current_app._get_current_object()).box,  # type: ignore[attr-defined]
            clock=_clock(),
            allow_loopback=allow_loopback(current_app),
            **args,
        )
        return _with_secret(subscription, secret), 201, etag(subscription.version)


@blp.route("/webhook-subscriptions/<subscription_id>")
class SubscriptionResource(MethodView):
    @requires("read_webhooks")
    @blp.response(200, SubscriptionSchema)
    def get(self, subscription_id: str) -> Any:
        """One subscription"""
        subscription = services.get_subscription(db.session, subscription_id=subscription_id, **_owner())
        return subscription, 200, etag(subscription.version)

    @requires("write_webhooks")
    @transactional
    @blp.arguments(SubscriptionUpdateSchema)
    @blp.response(200, SubscriptionSchema)
    @blp.alt_response(412, description="If-Match names a stale version")
    def patch(self, changes: dict[str, Any], subscription_id: str) -> Any:
        """Change the URL, topics or description, or disable / re-enable the endpoint"""
        subscription = services.update_subscription(
            db.session,
            subscription_id=subscription_id,
            granted_scopes=current_principal().scopes,
            changes=changes,
            expected_version=expected_version(),
            allow_loopback=allow_loopback(current_app),
            **_owner(),
        )
        return subscription, 200, etag(subscription.version)

    @requires("write_webhooks")
    @transactional
    @blp.response(204)
    def delete(self, subscription_id: str) -> Any:
        """Delete a subscription and its delivery log"""
        services.delete_subscription(db.session, subscription_id=subscription_id, **_owner())
        return "", 204


@blp.route("/webhook-subscriptions/<subscription_id>/rotate-secret")
class RotateSecret(MethodView):
    @requires("write_webhooks")
    @transactional
    @blp.response(200, SubscriptionWithSecretSchema)
    def post(self, subscription_id: str) -> Any:
        """Issue a new secret (shown once); the previous one keeps signing for 24 hours"""
        subscription, secret = services.rotate_secret(
            db.session,
            subscription_id=subscription_id,
            box=runtime_for(current_app._get_current_object()).box,  # type: ignore[attr-defined]
            clock=_clock(),
            **_owner(),
        )
        return _with_secret(subscription, secret), 200, etag(subscription.version)


@blp.route("/webhook-subscriptions/<subscription_id>/test")
class SendTest(MethodView):
    @requires("write_webhooks")
    @transactional
    @blp.response(202, DeliverySchema)
    def post(self, subscription_id: str) -> Any:
        """Send a `webhook.test` event to this endpoint"""
        return services.send_test_event(db.session, subscription_id=subscription_id, clock=_clock(), **_owner()), 202


@blp.route("/webhook-subscriptions/<subscription_id>/recover")
class Recover(MethodView):
    @requires("write_webhooks")
    @transactional
    @blp.arguments(RecoverSchema)
    @blp.response(202, RecoverResultSchema)
    def post(self, args: dict[str, Any], subscription_id: str) -> Any:
        """Send again every failed delivery created since a time (within the 14 days payloads are kept)"""
        ids = services.recover_failed(
            db.session, subscription_id=subscription_id, since=args["since"], clock=_clock(), **_owner()
        )
        return {"recovered": len(ids), "delivery_ids": ids}, 202


@blp.route("/webhook-deliveries")
class DeliveryList(MethodView):
    @requires("read_webhooks")
    @blp.arguments(DeliveryQuerySchema, location="query")
    @blp.response(200, page_schema(DeliverySchema))
    def get(self, args: dict[str, Any]) -> Any:
        """The delivery log, newest first (filter by subscription, status or event type)"""
        owner = _owner()
        stmt = services.deliveries_stmt(
            owner["shop_id"],
            installation_id=owner["installation_id"],
            subscription_id=args.pop("subscription_id"),
            status=args.pop("status"),
            event_type=args.pop("event_type"),
        )
        return paginated(page_of(db.session, stmt, WebhookDelivery.id, **args))


@blp.route("/webhook-deliveries/<delivery_id>")
class DeliveryResource(MethodView):
    @requires("read_webhooks")
    @blp.response(200, DeliveryDetailSchema)
    def get(self, delivery_id: str) -> Any:
        """One delivery with its body and every attempt (request, response status, first 4 KiB, latency)"""
        return _detail(services.get_delivery(db.session, delivery_id=delivery_id, **_owner()))


@blp.route("/webhook-deliveries/<delivery_id>/resend")
class Resend(MethodView):
    @requires("write_webhooks")
    @transactional
    @blp.response(202, DeliverySchema)
    def post(self, delivery_id: str) -> Any:
        """Send a delivery again now, with the same webhook-id"""
        return services.resend_delivery(db.session, delivery_id=delivery_id, clock=_clock(), **_owner()), 202


@blp.route("/customers/<customer_id>/data-requests")
class CustomerDataRequest(MethodView):
    @requires("write_customers")
    @transactional
    @blp.response(202, PrivacyRequestSchema)
    def post(self, customer_id: str) -> Any:
        """Ask every installed app for the personal data it holds on a customer (`customers.data_request`)"""
        return services.request_customer_privacy(
            db.session, shop_id=_owner()["shop_id"], customer_id=customer_id, kind="data_request", clock=_clock()
        ), 202


@blp.route("/customers/<customer_id>/redactions")
class CustomerRedaction(MethodView):
    @requires("write_customers")
    @transactional
    @blp.response(202, PrivacyRequestSchema)
    def post(self, customer_id: str) -> Any:
        """Ask every installed app to erase a customer's personal data (`customers.redact`)"""
        return services.request_customer_privacy(
            db.session, shop_id=_owner()["shop_id"], customer_id=customer_id, kind="redact", clock=_clock()
        ), 202
