"""The marketplace's webhook event types, added to the platform's catalogue when the extension registers.

App billing's ``app.subscription.*`` and ``charge.*`` are addressed to the installation, so only that app
(and the shop) hears them. The others' names follow the state tables, so a new state is documented (and
subscribable) the moment it exists: ``requirement.<state>``, ``requirement_pledge.<what happened>``,
``service_order.<state>`` and ``service_order.<timeline entry>``. Each payload carries the object (its ``id``
at least).
"""

from __future__ import annotations

from souk_marketplace.requirements.services import TRANSITIONS as REQUIREMENT_STATES
from souk_marketplace.service_market.states import STATES as SERVICE_ORDER_STATES
from souk_platform.webhooks.catalogue import EventType, Schema

_OBJECT: Schema = {"type": "object", "required": ["id"], "properties": {"id": {"type": "string"}}}

_STRING: Schema = {"type": "string"}
_NULLABLE_STRING: Schema = {"type": ["string", "null"]}
_INTEGER: Schema = {"type": "integer"}
_NULLABLE_TIME: Schema = {"type": ["string", "null"], "format": "date-time"}
_APP_SUBSCRIPTION: Schema = {
    "type": "object",
    "required": ["id", "version"],
    "properties": {
        "id": _STRING,
        "app_id": _STRING,
        "installation_id": _STRING,
        "plan_id": _STRING,
        "kind": {**_STRING, "description": "free | recurring | usage"},
        "status": {**_STRING, "description": "pending | trial | active | frozen | declined | cancelled | replaced"},
        "price": {**_INTEGER, "description": "Minor units per interval"},
        "currency": _STRING,
        "interval": _STRING,
        "usage_cap": {"type": ["integer", "null"]},
        "usage_used": _INTEGER,
        "trial_ends_at": _NULLABLE_TIME,
        "current_period_end": _NULLABLE_TIME,
        "version": _INTEGER,
    },
}
_APP_CHARGE: Schema = {
    "type": "object",
    "required": ["id", "version"],
    "properties": {
        "id": _STRING,
        "app_id": _STRING,
        "subscription_id": _NULLABLE_STRING,
        "kind": {**_STRING, "description": "one_time | recurring | usage | proration"},
        "description": _STRING,
        "amount": {**_INTEGER, "description": "Minor units"},
        "currency": _STRING,
        "status": _STRING,
        "refunded": _INTEGER,
        "refund": {
            "type": "object",
            "required": ["id", "amount"],
            "properties": {"id": _STRING, "amount": _INTEGER, "kind": _STRING, "reason": _STRING},
        },
        "version": _INTEGER,
    },
}

# Timeline entries of a service order that are not state changes.
SERVICE_ORDER_NOTES = {
    "message": "A message was posted on the order.",
    "file_uploaded": "A file (a deliverable or a requirement) was attached to the order.",
    "extension_requested": "The provider asked for more time.",
    "extension_accepted": "The buyer accepted the provider's extension request.",
    "extension_declined": "The buyer declined the provider's extension request.",
    "extension_expired": "An extension request went unanswered for 4 days and lapsed.",
    "offer_made": "A party proposed a split of the escrowed money in mediation.",
    "milestone_released": "A milestone was accepted and its escrow released to the provider.",
    "rated": "The buyer rated the provider.",
}

PLEDGE_EVENTS = {
    "created": "A merchant pledged to a requirement; the money is held in the pledge's own escrow account.",
    "withdrawn": "A pledge was withdrawn and its money returned in full.",
    "refunded": "A pledge was refunded in full (deadline passed, arbitration, or a surplus returned).",
    "released": "A pledge's money was released to the developer after the delivery was accepted.",
}


def event_types() -> list[EventType]:
    types = [
        EventType(
            "app.subscription.created", "An app asked the merchant for a plan (it awaits approval).", _APP_SUBSCRIPTION
        ),
        EventType(
            "app.subscription.updated",
            "An app subscription changed: approved (trial or active), declined, renewed, frozen or replaced.",
            _APP_SUBSCRIPTION,
        ),
        EventType("app.subscription.cancelled", "An app subscription was cancelled.", _APP_SUBSCRIPTION),
        EventType("charge.succeeded", "An app charge was paid from the shop's balance.", _APP_CHARGE),
        EventType(
            "charge.refunded", "Part or all of an app charge was refunded (data.refund says how much).", _APP_CHARGE
        ),
        EventType("requirement.created", "A merchant posted a custom requirement on the board.", _OBJECT),
        EventType("requirement.proposal_submitted", "A developer proposed to build a requirement.", _OBJECT),
    ]
    types += [
        EventType(f"requirement.{state}", f"A requirement moved to the state {state}.", _OBJECT)
        for state in REQUIREMENT_STATES
    ]
    types += [EventType(f"requirement_pledge.{name}", text, _OBJECT) for name, text in PLEDGE_EVENTS.items()]
    types += [
        EventType(f"service_order.{state}", f"A service order moved to the state {state}.", _OBJECT)
        for state in SERVICE_ORDER_STATES
    ]
    types += [EventType(f"service_order.{name}", text, _OBJECT) for name, text in SERVICE_ORDER_NOTES.items()]
    return types


# domain -> the scope an app needs to hear it; None: addressed to the installation (an app hears its own).
EVENT_SCOPES: dict[str, str | None] = {
    "charge": None,
    "requirement": "read_requirements",
    "requirement_pledge": "read_requirements",
    "service_order": "read_services",
}
