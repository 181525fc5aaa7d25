"""The event catalogue: every event type a subscription may name, what it means and its ``data`` schema.

Plain Python (no Flask): the dispatcher, topic validation and the OpenAPI ``webhooks`` section all read
this one table. Most types are exactly the outbox types the domains emit. A few names the platform
promises (issue 6) are *derived*: they are delivered for outbox events of other types, with the same
``data`` (see ``EventType.derived_from``):

- ``product.deleted``       ← ``product.archived`` (products are archived, never hard-deleted)
- ``member.level_changed``  ← ``customer.level_changed``
- ``points.changed``        ← every ``points.*`` movement
- ``stored_value.changed``  ← every ``stored_value.*`` movement and ``cashback.credited``
- ``inventory.low``         ← ``inventory.adjusted``, ``sku.updated`` and ``stock.*`` when a SKU's
  available quantity is at or below ``LOW_STOCK_LEVEL`` after the change

A subscription naming both a type and a type derived from the same event gets one delivery, of the
type it named first in this order: the emitted type, then the derived ones.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from souk_platform.webhooks import event_data as data
from souk_platform.webhooks.event_data import Schema

LOW_STOCK_LEVEL = 5  # units available (on hand minus reserved); the platform has no per-SKU threshold yet


def _available_values(payload: Mapping[str, Any]) -> Iterator[int]:
    """Available quantities of every SKU a catalog/stock payload carries."""
    skus: list[Any] = []
    if isinstance(payload.get("sku"), Mapping):
        skus.append(payload["sku"])
    if "available" in payload:
        skus.append(payload)
    for line in payload.get("lines") or ():
        if isinstance(line, Mapping) and isinstance(line.get("sku"), Mapping):
            skus.append(line["sku"])
    for sku in skus:
        if isinstance(sku.get("available"), int):
            yield sku["available"]


def _is_low_stock(payload: Mapping[str, Any]) -> bool:
    return any(available <= LOW_STOCK_LEVEL for available in _available_values(payload))


def _always(payload: Mapping[str, Any]) -> bool:
    return True


@dataclass(frozen=True, slots=True)
class EventType:
    """One catalogue entry. ``derived_from``: the outbox types it is delivered for (empty: emitted as is)."""

    name: str
    description: str
    data: Schema
    derived_from: tuple[str, ...] = ()
    applies: Callable[[Mapping[str, Any]], bool] = field(default=_always)
    privacy: bool = False  # mandatory: every installed app gets it, whatever it subscribed to


def _e(name: str, description: str, data: Schema, *derived_from: str, **extra: Any) -> EventType:
    return EventType(name, description, data, derived_from, **extra)


_POINTS = ("points.awarded", "points.spent", "points.deducted", "points.revoked", "points.refunded", "points.expired")
_STORED_VALUE = (
    "stored_value.topped_up",
    "stored_value.spent",
    "stored_value.refunded",
    "stored_value.granted",
    "cashback.credited",
)
_STOCK_EVENTS = ("inventory.adjusted", "sku.updated", "stock.reserved", "stock.committed")

PRIVACY_TYPES = ("customers.data_request", "customers.redact", "shop.redact")

CATALOGUE: dict[str, EventType] = {
    e.name: e
    for e in (
        # orders and payments
        _e("order.created", "A checkout created an order awaiting payment.", data.ORDER),
        _e("order.paid", "An order was paid in full.", data.ORDER),
        _e("order.released", "An order held by risk review was approved and now awaits payment.", data.ORDER),
        _e("order.cancelled", "An order was cancelled (by staff, the customer or payment timeout).", data.ORDER),
        _e("order.fulfilled", "An order was shipped or handed over.", data.ORDER),
        _e("order.completed", "An order was completed.", data.ORDER),
        _e("order.refunded", "Part or all of an order was refunded.", data.ORDER),
        _e("payment.created", "A payment was started for an order.", data.PAYMENT),
        _e("payment.succeeded", "A payment succeeded.", data.PAYMENT),
        _e("payment.failed", "A payment failed.", data.PAYMENT),
        _e("cart.created", "A cart was created.", data.CART),
        _e("cart.updated", "A cart's lines changed.", data.CART),
        # catalog
        _e("category.created", "A product category was created.", data.CATEGORY),
        _e("category.updated", "A product category was renamed, reordered or moved.", data.CATEGORY),
        _e("category.deleted", "A product category was deleted.", data.CATEGORY),
        _e("product.created", "A product was created.", data.PRODUCT),
        _e("product.updated", "A product changed.", data.PRODUCT),
        _e("product.archived", "A product was archived (taken off sale).", data.PRODUCT),
        _e(
            "product.deleted",
            "A product was removed from sale; sent when it is archived.",
            data.PRODUCT,
            "product.archived",
        ),
        _e("sku.created", "A SKU was added to a product.", data.SKU),
        _e("sku.updated", "A SKU changed.", data.SKU),
        _e("inventory.adjusted", "A SKU's on-hand quantity was adjusted.", data.INVENTORY),
        _e(
            "inventory.low",
            f"A SKU's available quantity is {LOW_STOCK_LEVEL} or fewer after a change; the data is that change's.",
            {"oneOf": [data.INVENTORY, data.SKU, data.STOCK]},
            *_STOCK_EVENTS,
            applies=_is_low_stock,
        ),
        _e("stock.reserved", "Stock was reserved for an unpaid order.", data.STOCK),
        _e("stock.released", "Reserved stock was released.", data.STOCK),
        _e("stock.committed", "Reserved stock was taken by a paid order.", data.STOCK),
        # customers and members
        _e("customer.created", "A customer was created.", data.CUSTOMER),
        _e("customer.updated", "A customer changed.", data.CUSTOMER),
        _e(
            "customer.identity_added",
            "An external identity (WeChat openid, an app's user id…) was linked to a customer.",
            data.CUSTOMER_IDENTITY,
        ),
        _e("customer.identity_removed", "An external identity was unlinked from a customer.", data.CUSTOMER_IDENTITY),
        _e("customer.level_changed", "A customer's member level changed.", data.LEVEL_CHANGE),
        _e("member.level_changed", "A customer's member level changed.", data.LEVEL_CHANGE, "customer.level_changed"),
        _e("member_levels.updated", "The shop's member level rules changed.", data.MEMBER_LEVELS),
        _e("member_price.created", "A member price (per SKU and level) was set.", data.MEMBER_PRICE),
        _e("member_price.updated", "A member price changed.", data.MEMBER_PRICE),
        _e("member_price.deleted", "A member price was removed.", data.MEMBER_PRICE),
        _e("tag.created", "A customer tag was created.", data.TAG),
        _e("tag.updated", "A customer tag changed.", data.TAG),
        _e("tag.deleted", "A customer tag was deleted.", data.TAG),
        _e("tag.customers_added", "Customers were tagged.", data.TAG),
        _e("tag.customers_removed", "A customer was untagged.", data.TAG),
        _e("tag.evaluated", "A rule-based tag was re-evaluated.", data.TAG),
        _e("tag_import.completed", "A tag import finished.", data.TAG_IMPORT),
        _e("segment.created", "A segment was created.", data.SEGMENT),
        _e("segment.updated", "A segment changed.", data.SEGMENT),
        _e("segment.deleted", "A segment was deleted.", data.SEGMENT),
        _e(
            "segment.snapshot_created",
            "A segment's members were frozen into a snapshot (人群包).",
            data.SEGMENT_SNAPSHOT,
        ),
        _e("segment.snapshot_deleted", "A segment snapshot was deleted.", data.SEGMENT_SNAPSHOT),
        # points, stored value, coupons
        *(_e(t, f"Points movement: {t.split('.')[1].replace('_', ' ')}.", data.BALANCE_MOVE) for t in _POINTS),
        _e("points.changed", "A customer's points balance changed (any points movement).", data.BALANCE_MOVE, *_POINTS),
        _e(
            "points_task.completed",
            "A customer completed an earning task (sign-in, profile, first order, review, invitation) and was paid.",
            data.TASK_COMPLETION,
        ),
        _e(
            "customer.signed_in",
            "A customer signed in for the day (data.status in_review: the points are held for a person).",
            data.TASK_COMPLETION,
        ),
        *(
            _e(t, f"Stored value movement: {t.split('.')[1].replace('_', ' ')}.", data.BALANCE_MOVE)
            for t in _STORED_VALUE[:4]
        ),
        _e("cashback.scheduled", "Cashback into stored value was scheduled for an order.", data.CASHBACK),
        _e("cashback.reduced", "Scheduled cashback was reduced by a refund.", data.CASHBACK),
        _e("cashback.cancelled", "Scheduled cashback was cancelled.", data.CASHBACK),
        _e("cashback.credited", "Cashback was credited into stored value.", data.CASHBACK),
        _e(
            "stored_value.changed",
            "A customer's stored value balance changed (top-up, spend, refund, gift or cashback credit).",
            {"oneOf": [data.BALANCE_MOVE, data.CASHBACK]},
            *_STORED_VALUE,
        ),
        _e("coupon.created", "A coupon was created.", data.COUPON),
        _e("coupon.updated", "A coupon changed.", data.COUPON),
        _e("coupon.deleted", "A coupon was deleted.", data.COUPON),
        _e("coupon.redeemed", "A coupon was redeemed by a paid order (data.redemption says which).", data.COUPON),
        _e("coupon.issued", "A coupon was put into a customer's wallet.", data.WALLET_COUPON),
        _e("coupon.used", "A wallet coupon was used by a paid order.", data.WALLET_COUPON),
        _e("coupon.returned", "A used wallet coupon came back: its order was refunded in full.", data.WALLET_COUPON),
        _e("coupon.expired", "A wallet coupon expired unused.", data.WALLET_COUPON),
        _e(
            "coupon_pack.purchased",
            "A coupon pack was paid for; its coupons are in the buyer's wallet.",
            data.COUPON_PACK,
        ),
        _e("coupon_pack.refunded", "A coupon pack was refunded; its unused coupons were revoked.", data.COUPON_PACK),
        _e(
            "coupon.revoked",
            "A wallet coupon was taken back unused (its coupon pack was refunded).",
            data.WALLET_COUPON,
        ),
        # points mall (积分商城)
        _e("points_mall.item_updated", "A points-mall item was created or changed.", data.MALL_ITEM),
        _e("points_mall.item_deleted", "A points-mall item nobody redeemed was deleted.", data.MALL_ITEM),
        _e("points_mall.redeemed", "A customer redeemed a points-mall item (points debited).", data.REDEMPTION),
        _e(
            "points_mall.fulfilment_requested",
            "Deliver your item for this redemption: sent only to the app whose installation provides the item, "
            "which then reports through POST /api/v1/app/points-mall/redemptions/{id}/fulfilment.",
            data.REDEMPTION_FULFILMENT,
        ),
        _e(
            "points_mall.fulfilled",
            "A redemption was fulfilled (wallet coupon, grant, shipped, app delivered).",
            data.REDEMPTION,
        ),
        _e(
            "points_mall.cancelled",
            "A redemption was cancelled; its points, cash and stock came back.",
            data.REDEMPTION,
        ),
        _e("points_mall.refunded", "A redemption's order was refunded in full; its points came back.", data.REDEMPTION),
        # benefits (权益)
        _e("benefit_package.created", "A benefit package was created.", data.BENEFIT_PACKAGE),
        _e("benefit_package.updated", "A benefit package changed.", data.BENEFIT_PACKAGE),
        _e("benefit_package.deleted", "A benefit package was deleted.", data.BENEFIT_PACKAGE),
        _e(
            "benefit.granted",
            "A benefit package was granted to a customer; an app whose item it holds delivers that item.",
            data.BENEFIT_GRANT,
        ),
        _e("benefit.used", "A customer's benefit grant was used.", data.BENEFIT_GRANT),
        _e("benefit.expired", "A customer's benefit grant expired unused.", data.BENEFIT_GRANT),
        # journeys (营销画布): the engine
        _e("journey.enrolled", "A customer entered a journey.", data.JOURNEY_ENROLLMENT),
        _e(
            "journey.exited",
            "A customer left a journey (completed, goal, exit rule, by hand, archived).",
            data.JOURNEY_ENROLLMENT,
        ),
        _e(
            "journey.goal_reached",
            "A customer in a journey reached its goal (data.goal_revenue).",
            data.JOURNEY_ENROLLMENT,
        ),
        _e("journey.action", "A journey's notify-apps step: the app acts for the customer.", data.JOURNEY_ACTION),
        # journeys (营销画布)
        _e("journey.created", "A journey was created (a draft).", data.JOURNEY),
        _e("journey.updated", "A journey's name, description or graph changed.", data.JOURNEY),
        _e("journey.deleted", "A draft journey was deleted.", data.JOURNEY),
        _e("journey.activated", "A journey was activated: customers now enter it.", data.JOURNEY),
        _e("journey.paused", "A journey was paused: nobody enters, customers inside wait.", data.JOURNEY),
        _e("journey.resumed", "A paused journey was resumed.", data.JOURNEY),
        _e("journey.archived", "A journey was archived: customers inside leave it.", data.JOURNEY),
        _e(
            "journey.version_created",
            "A journey's graph was frozen as a new version; new enrolments take it.",
            data.JOURNEY_VERSION,
        ),
        # messages (消息触达)
        _e("message_channel.created", "A message channel became available to the shop.", data.MESSAGE_CHANNEL),
        _e("message_channel.updated", "A message channel's settings, cap or status changed.", data.MESSAGE_CHANNEL),
        _e("message_template.created", "A message template was created.", data.MESSAGE_TEMPLATE),
        _e("message_template.updated", "A message template changed.", data.MESSAGE_TEMPLATE),
        _e("message_template.deleted", "A message template was deleted.", data.MESSAGE_TEMPLATE),
        _e(
            "message.send_requested",
            "Deliver this message to the customer: sent only to the app whose channel it is on, which then "
            "reports delivered, failed or clicked through POST /api/v1/app/messages/{id}/status.",
            data.MESSAGE_SEND_REQUESTED,
        ),
        _e("message.scheduled", "A message waits for the end of the shop's quiet hours.", data.MESSAGE),
        _e("message.suppressed", "A message was not sent: the channel's daily cap was reached.", data.MESSAGE),
        _e("message.sent", "A message was handed to its channel (SMTP server, inbox or app).", data.MESSAGE),
        _e("message.delivered", "A message reached the customer.", data.MESSAGE),
        _e("message.failed", "A message could not be delivered (data.reason says why).", data.MESSAGE),
        _e("message.clicked", "The customer opened a link in a message.", data.MESSAGE),
        _e("message.read", "The customer read an inbox message.", data.MESSAGE),
        # risk control (风控)
        _e(
            "risk.decided",
            "Risk control held an action for review or denied it (data.rules says why).",
            data.RISK_DECISION,
        ),
        _e("risk.review_opened", "An order was held for a person's review.", data.RISK_REVIEW),
        _e(
            "risk.review_closed",
            "A review was approved or rejected (by staff, an app or its expiry).",
            data.RISK_REVIEW,
        ),
        # shop, apps, webhooks
        _e("shop.created", "The shop was created.", data.SHOP),
        _e("shop.updated", "The shop's settings changed.", data.SHOP),
        _e("app.installed", "An app was installed (an app hears only of its own installation).", data.INSTALLATION),
        _e("app.installation_updated", "An installation's version or scopes changed.", data.INSTALLATION),
        _e("app.uninstalled", "An app was uninstalled (the app itself is told too).", data.INSTALLATION),
        _e("plugin.uploaded", "A merchant uploaded a private Wasm plugin.", data.PLUGIN),
        _e("plugin.activated", "A plugin was activated at an extension point.", data.PLUGIN_ACTIVATION),
        _e(
            "plugin_activation.updated",
            "A plugin activation's position, state or failure policy changed.",
            data.PLUGIN_ACTIVATION,
        ),
        _e("plugin.failing", "A plugin keeps failing at its extension point.", data.PLUGIN_FAILING),
        _e("webhook_subscription.disabled", "A webhook endpoint was disabled after failing.", data.SUBSCRIPTION),
        # privacy (mandatory for every installed app)
        _e(
            "customers.data_request",
            "The merchant asks, for a customer, for the personal data your app holds (PIPL, GDPR). "
            "Every installed app receives it.",
            data.DATA_REQUEST,
            privacy=True,
        ),
        _e(
            "customers.redact",
            "Erase the personal data your app holds about a customer. Every installed app receives it.",
            data.DATA_REQUEST,
            privacy=True,
        ),
        _e(
            "shop.redact",
            "Sent 48 hours after your app was uninstalled: erase the shop's data you hold.",
            data.SHOP_REDACT,
            privacy=True,
        ),
    )
}

TEST_EVENT = _e("webhook.test", "A test event sent from the console or the API; never in the event log.", data.TEST)

# outbox type -> the derived catalogue types it may also be delivered as
_DERIVED: dict[str, tuple[EventType, ...]] = {}
for _entry in CATALOGUE.values():
    for _source in _entry.derived_from:
        _DERIVED[_source] = (*_DERIVED.get(_source, ()), _entry)


def register_event_types(entries: Iterable[EventType]) -> None:
    """Let an extension (the marketplace) document the event types it emits; idempotent by name."""
    for entry in entries:
        if CATALOGUE.get(entry.name, entry) != entry:
            raise ValueError(f"event type {entry.name!r} is already in the catalogue with another definition")
        CATALOGUE[entry.name] = entry
        for source in entry.derived_from:
            if entry not in _DERIVED.get(source, ()):
                _DERIVED[source] = (*_DERIVED.get(source, ()), entry)


def is_known(name: str) -> bool:
    return name in CATALOGUE


def matches_any(topic: str) -> bool:
    """True when a subscription topic (exact, ``prefix.*`` or ``*``) names at least one catalogue type."""
    if topic == "*":
        return True
    if topic.endswith(".*"):
        return any(name.startswith(topic[:-1]) for name in CATALOGUE)
    return topic in CATALOGUE


def delivered_types(event_type: str, payload: Mapping[str, Any]) -> list[str]:
    """The catalogue names an outbox event is delivered as: its own type first, then derived ones that apply."""
    return [event_type, *(e.name for e in _DERIVED.get(event_type, ()) if e.applies(payload))]


def openapi_webhooks() -> dict[str, Any]:
    """The OpenAPI 3.1 ``webhooks`` section: one POST per type, body ``{type, created_at, shop_id, data}``."""
    section: dict[str, Any] = {}
    for entry in (*CATALOGUE.values(), TEST_EVENT):
        body = {
            "type": "object",
            "required": ["type", "created_at", "shop_id", "data"],
            "properties": {
                "type": {"type": "string", "const": entry.name},
                "created_at": {"type": "string", "format": "date-time"},
                "shop_id": {"type": "string"},
                "data": entry.data,
            },
        }
        extra = f" Delivered for: {', '.join(entry.derived_from)}." if entry.derived_from else ""
        section[entry.name] = {
            "post": {
                "summary": entry.description,
                "description": (
                    entry.description
                    + extra
                    + " Signed per Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature); "
                    "at least once, unordered: deduplicate on webhook-id and compare data.version."
                ),
                "operationId": "webhook_" + entry.name.replace(".", "_"),
                "tags": ["webhook events"],
                "requestBody": {"required": True, "content": {"application/json": {"schema": body}}},
                "responses": {
                    "2XX": {"description": "Received; any 2xx counts as delivered."},
                    "410": {"description": "Gone: the endpoint is disabled."},
                },
            }
        }
    return section
