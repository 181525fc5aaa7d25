"""Webhook problems, each with a stable problem ``type`` code."""

from __future__ import annotations

from souk_platform.core.errors import Conflict, NotFound, Unprocessable


class SubscriptionNotFound(NotFound):
    code = "webhook-subscription-not-found"
    title = "No such webhook subscription"


class DeliveryNotFound(NotFound):
    code = "webhook-delivery-not-found"
    title = "No such webhook delivery"


class InvalidSubscription(Unprocessable):
    code = "webhook-subscription-invalid"
    title = "The webhook subscription is not valid"


class SubscriptionDisabled(Conflict):
    code = "webhook-subscription-disabled"
    title = "The webhook subscription is disabled"


class SubscriptionFromManifest(Conflict):
    code = "webhook-subscription-from-manifest"
    title = "The app's manifest owns this webhook subscription"
