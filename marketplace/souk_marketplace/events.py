"""The marketplace's webhook event types, added to the platform's catalogue when the extension registers.

Names follow the state tables, so a new state is documented (and subscribable) the moment it exists:
``requirement.<state>``, ``requirement_pledge.<what happened>``, ``service_order.<state>`` and
``service_order.<timeline entry>``. Each payload carries the object (its ``id`` at least).
"""

from __future__ import annotations

from souk_marketplace.requirements.services import TRANSITIONS as REQUIREMENT_STATES
from souk_marketplace.service_market.states import STATES as SERVICE_ORDER_STATES
from souk_platform.webhooks.catalogue import EventType, Schema

_OBJECT: Schema = {"type": "object", "required": ["id"], "properties": {"id": {"type": "string"}}}

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


EVENT_SCOPES: dict[str, str] = {
    "requirement": "read_requirements",
    "requirement_pledge": "read_requirements",
    "service_order": "read_services",
}
