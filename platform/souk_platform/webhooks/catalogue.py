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

LOW_STOCK_LEVEL = 5  # units available (on hand minus reserved); the platform has no per-SKU threshold yet

Schema = dict[str, Any]

_S: Schema = {"type": "string"}
_NS: Schema = {"type": ["string", "null"]}
_I: Schema = {"type": "integer"}
_NI: Schema = {"type": ["integer", "null"]}
_B: Schema = {"type": "boolean"}
_TS: Schema = {"type": "string", "format": "date-time"}
_NTS: Schema = {"type": ["string", "null"], "format": "date-time"}
_OBJ: Schema = {"type": "object"}
_NOBJ: Schema = {"type": ["object", "null"]}


def _object(properties: Mapping[str, Schema], *, required: tuple[str, ...] = ("id", "version")) -> Schema:
    """An object schema; extra properties are allowed so domains can add fields without breaking receivers."""
    return {"type": "object", "properties": dict(properties), "required": list(required)}


def _list(items: Schema) -> Schema:
    return {"type": "array", "items": items}


_SKU = _object(
    {
        "id": _S,
        "product_id": _S,
        "code": _S,
        "title": _S,
        "price": {**_I, "description": "Minor units (fen)"},
        "currency": _S,
        "on_hand": _I,
        "reserved": _I,
        "available": _I,
        "version": _I,
    }
)
_PRODUCT = _object(
    {
        "id": _S,
        "title": _S,
        "description": _S,
        "status": _S,
        "category_id": _S,
        "tags": _list(_S),
        "version": _I,
        "skus": _list(_SKU),
    },
)
_TASK_COMPLETION = _object(
    {
        "id": {**_S, "description": "The completion (ptc_…)"},
        "task_id": _S,
        "kind": {**_S, "description": "daily_sign_in, complete_profile, first_order, post_review or invite_friend"},
        "customer_id": _S,
        "reference": _NS,
        "date": {**_S, "format": "date", "description": "The shop-local day"},
        "points": {**_I, "description": "Points paid or held, the streak bonus included"},
        "bonus_points": _I,
        "streak": _NI,
        "status": {**_S, "description": "completed, in_review or rejected"},
        "decision_id": _NS,
        "created_at": _TS,
    },
    required=("id", "task_id", "customer_id", "status"),
)
_WALLET_COUPON = _object(
    {
        "id": {**_S, "description": "The wallet entry (ccp_…)"},
        "coupon_id": _S,
        "customer_id": _S,
        "status": {**_S, "description": "issued, reserved, used, expired or revoked"},
        "source": {**_S, "description": "issue, benefit, pack, api or demo"},
        "source_id": _NS,
        "issued_at": _TS,
        "expires_at": _NTS,
        "order_id": _NS,
        "used_at": _NTS,
        "version": _I,
    }
)
_COUPON_PACK = _object(
    {
        "id": _S,
        "name": _S,
        "price": {**_I, "description": "Fen"},
        "currency": _S,
        "items": _list(_object({"coupon_id": _S, "quantity": _I}, required=("coupon_id", "quantity"))),
        "stock": _NI,
        "sold": _I,
        "per_customer_limit": _NI,
        "refund_days": _I,
        "status": _S,
        "purchase": _object(
            {"id": _S, "customer_id": _S, "order_id": _S, "status": _S, "price": _I, "paid_at": _NTS, "version": _I},
            required=("id", "customer_id", "order_id"),
        ),
        "version": _I,
    }
)
_MALL_ITEM = _object(
    {
        "id": _S,
        "kind": {**_S, "description": "goods, coupon, benefit_package or app"},
        "title": _S,
        "sku_id": _NS,
        "coupon_id": _NS,
        "package_id": _NS,
        "installation_id": _NS,
        "app_item_code": _NS,
        "points": _I,
        "cash": {**_I, "description": "Fen on top of the points"},
        "currency": _S,
        "stock": _NI,
        "redeemed": _I,
        "per_member_limit": _NI,
        "limit_period": _S,
        "min_level": _NI,
        "starts_at": _NTS,
        "ends_at": _NTS,
        "status": {**_S, "description": "draft, on_sale or off_sale"},
        "version": _I,
    }
)
_REDEMPTION = _object(
    {
        "id": _S,
        "item_id": _S,
        "customer_id": _S,
        "order_id": {**_S, "description": "Its order (channel points_mall), which carries the cash part"},
        "kind": _S,
        "quantity": _I,
        "points": _I,
        "cash": {**_I, "description": "Fen"},
        "currency": _S,
        "status": {**_S, "description": "pending_payment, in_review, paid, fulfilled, cancelled or refunded"},
        "fulfilment": _OBJ,
        "created_at": _TS,
        "version": _I,
    }
)
_REDEMPTION_FULFILMENT = _object(
    {
        **_REDEMPTION["properties"],
        "installation_id": {**_S, "description": "Your installation, which provides the item"},
        "app_item_code": {**_S, "description": "Your own code of the item"},
        "title": _S,
    }
)
_CATEGORY = _object(
    {
        "id": _S,
        "parent_id": {**_NS, "description": "null for a top-level category"},
        "name": _S,
        "position": _I,
        "is_default": _B,
        "version": _I,
    }
)
_INVENTORY = _object(
    {
        "adjustment": _object(
            {"id": _S, "delta": _I, "reason": _S, "ref": _NS, "on_hand_after": _I}, required=("id", "delta")
        ),
        "sku": _SKU,
    },
    required=("adjustment", "sku"),
)
_STOCK = _object(
    {
        "ref": {**_S, "description": "The reservation's owner, usually an order id"},
        "lines": _list(
            _object({"reservation_id": _S, "sku_id": _S, "quantity": _I, "sku": _SKU}, required=("sku_id", "sku"))
        ),
    },
    required=("ref", "lines"),
)
_ORDER = _object(
    {
        "id": _S,
        "status": _S,
        "customer_id": _NS,
        "channel": {
            **_S,
            "enum": ["online", "store", "mini_program", "app", "social", "points_mall"],
            "description": "Where the order was placed (checkout's channel; default online)",
        },
        "currency": _S,
        "subtotal": _I,
        "discount_total": _I,
        "fee_total": _I,
        "points_spent": _I,
        "points_value": _I,
        "stored_value_used": _I,
        "total": _I,
        "refunded_total": _I,
        "member_level": {**_NI, "description": "The buyer's member level at checkout; null for a guest"},
        "member_discount_total": {**_I, "description": "What level perks took off the list prices, fen"},
        "points_multiplier_percent": {**_I, "description": "The level's points multiplier at checkout (150 = 1.5×)"},
        "lines": _list(_OBJ),
        "reason": {**_S, "description": "Why it was cancelled (order.cancelled only)"},
        "version": _I,
    }
)
_PAYMENT = _object(
    {
        "id": _S,
        "order_id": _S,
        "provider": _S,
        "amount": _I,
        "currency": _S,
        "status": _S,
        "failure_reason": _NS,
        "settled_at": _NTS,
    },
    required=("id", "order_id", "status"),
)
_CUSTOMER = _object(
    {
        "id": _S,
        "name": _NS,
        "phone": _NS,
        "email": _NS,
        "birthday": {"type": ["string", "null"], "format": "date"},
        "gender": {**_S, "enum": ["female", "male", "unknown"]},
        "source_channel": _NS,
        "level": _I,
        "orders_count": _I,
        "total_spent": _I,
        "last_order_at": _NTS,
        "changed": {**_list(_S), "description": "The fields this update changed (customer.updated only)"},
        "version": _I,
    }
)
_LEVEL_CHANGE = _object(
    {**_CUSTOMER["properties"], "from_level": _I, "to_level": _I, "source": _S, "reason": _NS},
)
_CUSTOMER_IDENTITY = _object(
    {"id": _S, "customer_id": _S, "provider": _S, "external_id": _S}, required=("id", "customer_id", "provider")
)
_MEMBER_LEVELS = _object(
    {"id": _S, "window_days": _I, "downgrade_period_days": _I, "levels": _list(_OBJ), "version": _I}
)
_MEMBER_PRICE = _object(
    {
        "id": _S,
        "sku_id": _S,
        "level": _I,
        "price": {**_I, "description": "Minor units (fen) members of this level pay per unit"},
        "currency": _S,
        "version": _I,
    }
)
_BALANCE_MOVE = _object(
    {"customer_id": _S, "balance": _I, "currency": _S, "amount": _I, "points": _I, "order_id": _NS, "reference": _NS},
    required=("customer_id", "balance"),
)
_CASHBACK = _object(
    {
        "id": _S,
        "order_id": _S,
        "customer_id": _S,
        "amount": _I,
        "original_amount": _I,
        "currency": _S,
        "due_at": _TS,
        "status": _S,
        "version": _I,
    }
)
_COUPON = _object(
    {
        "id": _S,
        "code": _NS,
        "name": _S,
        "kind": _S,
        "value": _I,
        "min_spend": _I,
        "max_discount": _NI,
        "auto_apply": _B,
        "stackable": _B,
        "per_customer_limit": _NI,
        "total_limit": _NI,
        "starts_at": _NTS,
        "ends_at": _NTS,
        "status": _S,
        "redeemed_count": _I,
        "distribution": {**_S, "description": "public (a code anyone may type) or issued (only its holders)"},
        "valid_days": _NI,
        "issued_count": _I,
        "redemption": _object({"id": _S, "order_id": _S, "customer_id": _NS, "amount": _I}, required=("id",)),
        "version": _I,
    }
)
_BENEFIT_PACKAGE = _object(
    {
        "id": _S,
        "name": _S,
        "description": _NS,
        "trigger": _S,
        "trigger_params": _OBJ,
        "items": _list(_OBJ),
        "status": _S,
        "version": _I,
    }
)
_JOURNEY = _object(
    {
        "id": _S,
        "name": _S,
        "description": _NS,
        "status": {**_S, "description": "draft, active, paused or archived"},
        "template_key": _NS,
        "current_version_id": {**_NS, "description": "The version new enrolments take"},
        "current_version_number": _NI,
        "version": _I,
    }
)
_JOURNEY_VERSION = _object(
    {
        "id": {**_S, "description": "The version (jvr_…)"},
        "journey_id": _S,
        "number": _I,
        "version": {**_I, "description": "The same as number: a version never changes"},
    }
)
_BENEFIT_GRANT = _object(
    {
        "id": _S,
        "package_id": _S,
        "package_name": _NS,
        "customer_id": _S,
        "trigger": _S,
        "period": _S,
        "status": _S,
        "items": {
            **_list(_OBJ),
            "description": "The items as granted; an app_item names its installation_id, item_id and name",
        },
        "granted_at": _TS,
        "expires_at": _NTS,
        "used_at": _NTS,
        "note": _NS,
        "version": _I,
    }
)
_JOURNEY_ENROLLMENT = _object(
    {
        "id": {**_S, "description": "The enrolment (jen_…)"},
        "journey_id": _S,
        "version_id": _S,
        "customer_id": _S,
        "status": {**_S, "description": "ready, waiting, completed or exited"},
        "current_node": _S,
        "variant": {**_NS, "description": "The split branch taken (a variant key or holdout)"},
        "entered_at": _TS,
        "exited_at": _NTS,
        "exit_reason": {**_NS, "description": "completed, goal, exit_rule, manual or archived"},
        "goal_revenue": {**_I, "description": "The goal event's order total, fen"},
        "version": _I,
    }
)
_JOURNEY_ACTION = _object(
    {
        "id": {**_S, "description": "The step key journey:<enrollment>:<seq>; the same for a redelivery"},
        "journey_id": _S,
        "enrollment_id": _S,
        "customer_id": _S,
        "node_id": _S,
        "label": {**_S, "description": "The action node's label, for the app to decide what to do"},
        "variant": _NS,
        "version": _I,
    }
)
_MESSAGE_CHANNEL = _object(
    {
        "id": _S,
        "kind": {**_S, "description": "email, inbox or app"},
        "name": _S,
        "status": {**_S, "description": "active, disabled or retired (its app was uninstalled)"},
        "key": _S,
        "installation_id": _NS,
        "config": _OBJ,
        "daily_cap": _NI,
        "built_in": _B,
        "version": _I,
    }
)
_MESSAGE_TEMPLATE = _object(
    {
        "id": _S,
        "name": _S,
        "channel_kind": _S,
        "subject": _S,
        "body": _S,
        "variables": _list(_S),
        "version": _I,
    }
)
_MESSAGE = _object(
    {
        "id": _S,
        "customer_id": _S,
        "channel_id": _S,
        "channel_kind": _S,
        "template_id": _NS,
        "subject": _S,
        "body": _S,
        "recipient": _NS,
        "status": {
            **_S,
            "description": "scheduled, queued, sent, delivered, failed, clicked or suppressed",
        },
        "reason": _NS,
        "source": _S,
        "source_id": _NS,
        "attempts": _I,
        "send_at": _NTS,
        "sent_at": _NTS,
        "delivered_at": _NTS,
        "clicked_at": _NTS,
        "failed_at": _NTS,
        "read_at": _NTS,
        "created_at": _TS,
        "version": _I,
    }
)
_RISK_DECISION = _object(
    {
        "id": _S,
        "action": {**_S, "description": "checkout (redemption, coupon_claim, sign_in as they arrive)"},
        "subject_type": _S,
        "subject_id": _S,
        "customer_id": _NS,
        "ip": _NS,
        "device_id": _NS,
        "outcome": {**_S, "description": "review or deny"},
        "rules": {**_list(_OBJ), "description": "The rules that fired: rule, source, outcome, reason, seen, threshold"},
        "created_at": _TS,
    },
    required=("id", "action", "outcome"),
)
_RISK_REVIEW = _object(
    {
        "id": _S,
        "action": _S,
        "decision_id": _S,
        "order_id": _S,
        "customer_id": _NS,
        "status": {**_S, "description": "open, approved or rejected"},
        "expires_at": _TS,
        "closed_by": {**_NS, "description": "staff, api or expiry"},
        "note": _NS,
        "closed_at": _NTS,
        "created_at": _TS,
        "version": _I,
    }
)
_MESSAGE_SEND_REQUESTED = _object(
    {
        **_MESSAGE["properties"],
        "installation_id": {**_S, "description": "Your installation, which provides the channel"},
        "channel_key": {**_S, "description": "The key of the channel in your manifest's message_channels"},
        "customer": _object({"id": _S, "name": _S, "phone": _NS, "email": _NS}, required=("id",)),
    }
)
_TAG = _object(
    {
        "id": _S,
        "name": _S,
        "kind": _S,
        "description": _NS,
        "condition": _NOBJ,
        "customer_ids": _list(_S),
        "added": _I,
        "removed": _I,
        "customers_count": _I,
        "version": _I,
    }
)
_TAG_IMPORT = _object({"id": _S}, required=("id",))
_SEGMENT = _object({"id": _S, "name": _S, "description": _NS, "condition": _NOBJ, "version": _I})
_SEGMENT_SNAPSHOT = _object(
    {
        "id": _S,
        "segment_id": _NS,
        "segment_name": _S,
        "name": _S,
        "condition": _NOBJ,
        "member_count": _I,
        "taken_at": _TS,
    }
)
_CART = _object(
    {"id": _S, "customer_id": _NS, "status": _S, "lines": _list(_OBJ), "converted_order_id": _NS, "version": _I}
)
_SHOP = _object({"id": _S, "name": _S, "currency": _S, "version": _I})
_INSTALLATION = _object(
    {
        "id": _S,
        "app_id": _S,
        "shop_id": _S,
        "status": _S,
        "granted_scopes": _list(_S),
        "installed_at": _TS,
        "uninstalled_at": _NTS,
        "version": _I,
    }
)
_SUBSCRIPTION = _object(
    {
        "id": _S,
        "url": _S,
        "topics": _list(_S),
        "status": _S,
        "disabled_reason": _NS,
        "installation_id": _NS,
        "disabled_at": _TS,
        "version": _I,
    }
)
_DATA_REQUEST = _object(
    {
        "id": {**_S, "description": "The request id (stable; answer or log against it)"},
        "customer": _object(
            {
                "id": _S,
                "email": _NS,
                "phone": _NS,
                "identities": {
                    **_list(_object({"provider": _S, "external_id": _S}, required=("provider", "external_id"))),
                    "description": "The ids other systems know the customer by (WeChat openid, an app's user id…)",
                },
            },
            required=("id",),
        ),
        "orders_requested": {**_list(_S), "description": "Ids of the customer's orders"},
        "requested_at": _TS,
        "version": _I,
    },
    required=("id", "customer", "orders_requested", "version"),
)
_SHOP_REDACT = _object(
    {
        "id": _S,
        "shop_id": _S,
        "installation_id": {**_S, "description": "The uninstalled installation whose shop data must be erased"},
        "uninstalled_at": _TS,
        "version": _I,
    },
    required=("id", "shop_id", "installation_id", "version"),
)
_PLUGIN = _object({"id": _S, "name": _S, "point": _S, "sha256": _S, "version": _I})
_PLUGIN_ACTIVATION = _object(
    {"id": _S, "plugin_id": _S, "point": _S, "position": _I, "enabled": _B, "on_failure": _S, "version": _I}
)
_PLUGIN_FAILING = _object(
    {
        "plugin_id": _S,
        "name": _S,
        "point": _S,
        "app_version_id": _NS,
        "failures": _I,
        "window_minutes": _I,
        "version": _I,
    },
    required=("plugin_id", "failures", "version"),
)
_TEST = _object({"subscription_id": _S, "message": _S, "version": _I})


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
        _e("order.created", "A checkout created an order awaiting payment.", _ORDER),
        _e("order.paid", "An order was paid in full.", _ORDER),
        _e("order.released", "An order held by risk review was approved and now awaits payment.", _ORDER),
        _e("order.cancelled", "An order was cancelled (by staff, the customer or payment timeout).", _ORDER),
        _e("order.fulfilled", "An order was shipped or handed over.", _ORDER),
        _e("order.completed", "An order was completed.", _ORDER),
        _e("order.refunded", "Part or all of an order was refunded.", _ORDER),
        _e("payment.created", "A payment was started for an order.", _PAYMENT),
        _e("payment.succeeded", "A payment succeeded.", _PAYMENT),
        _e("payment.failed", "A payment failed.", _PAYMENT),
        _e("cart.created", "A cart was created.", _CART),
        _e("cart.updated", "A cart's lines changed.", _CART),
        # catalog
        _e("category.created", "A product category was created.", _CATEGORY),
        _e("category.updated", "A product category was renamed, reordered or moved.", _CATEGORY),
        _e("category.deleted", "A product category was deleted.", _CATEGORY),
        _e("product.created", "A product was created.", _PRODUCT),
        _e("product.updated", "A product changed.", _PRODUCT),
        _e("product.archived", "A product was archived (taken off sale).", _PRODUCT),
        _e(
            "product.deleted",
            "A product was removed from sale; sent when it is archived.",
            _PRODUCT,
            "product.archived",
        ),
        _e("sku.created", "A SKU was added to a product.", _SKU),
        _e("sku.updated", "A SKU changed.", _SKU),
        _e("inventory.adjusted", "A SKU's on-hand quantity was adjusted.", _INVENTORY),
        _e(
            "inventory.low",
            f"A SKU's available quantity is {LOW_STOCK_LEVEL} or fewer after a change; the data is that change's.",
            {"oneOf": [_INVENTORY, _SKU, _STOCK]},
            *_STOCK_EVENTS,
            applies=_is_low_stock,
        ),
        _e("stock.reserved", "Stock was reserved for an unpaid order.", _STOCK),
        _e("stock.released", "Reserved stock was released.", _STOCK),
        _e("stock.committed", "Reserved stock was taken by a paid order.", _STOCK),
        # customers and members
        _e("customer.created", "A customer was created.", _CUSTOMER),
        _e("customer.updated", "A customer changed.", _CUSTOMER),
        _e(
            "customer.identity_added",
            "An external identity (WeChat openid, an app's user id…) was linked to a customer.",
            _CUSTOMER_IDENTITY,
        ),
        _e("customer.identity_removed", "An external identity was unlinked from a customer.", _CUSTOMER_IDENTITY),
        _e("customer.level_changed", "A customer's member level changed.", _LEVEL_CHANGE),
        _e("member.level_changed", "A customer's member level changed.", _LEVEL_CHANGE, "customer.level_changed"),
        _e("member_levels.updated", "The shop's member level rules changed.", _MEMBER_LEVELS),
        _e("member_price.created", "A member price (per SKU and level) was set.", _MEMBER_PRICE),
        _e("member_price.updated", "A member price changed.", _MEMBER_PRICE),
        _e("member_price.deleted", "A member price was removed.", _MEMBER_PRICE),
        _e("tag.created", "A customer tag was created.", _TAG),
        _e("tag.updated", "A customer tag changed.", _TAG),
        _e("tag.deleted", "A customer tag was deleted.", _TAG),
        _e("tag.customers_added", "Customers were tagged.", _TAG),
        _e("tag.customers_removed", "A customer was untagged.", _TAG),
        _e("tag.evaluated", "A rule-based tag was re-evaluated.", _TAG),
        _e("tag_import.completed", "A tag import finished.", _TAG_IMPORT),
        _e("segment.created", "A segment was created.", _SEGMENT),
        _e("segment.updated", "A segment changed.", _SEGMENT),
        _e("segment.deleted", "A segment was deleted.", _SEGMENT),
        _e("segment.snapshot_created", "A segment's members were frozen into a snapshot (人群包).", _SEGMENT_SNAPSHOT),
        _e("segment.snapshot_deleted", "A segment snapshot was deleted.", _SEGMENT_SNAPSHOT),
        # points, stored value, coupons
        *(_e(t, f"Points movement: {t.split('.')[1].replace('_', ' ')}.", _BALANCE_MOVE) for t in _POINTS),
        _e("points.changed", "A customer's points balance changed (any points movement).", _BALANCE_MOVE, *_POINTS),
        _e(
            "points_task.completed",
            "A customer completed an earning task (sign-in, profile, first order, review, invitation) and was paid.",
            _TASK_COMPLETION,
        ),
        _e(
            "customer.signed_in",
            "A customer signed in for the day (data.status in_review: the points are held for a person).",
            _TASK_COMPLETION,
        ),
        *(
            _e(t, f"Stored value movement: {t.split('.')[1].replace('_', ' ')}.", _BALANCE_MOVE)
            for t in _STORED_VALUE[:4]
        ),
        _e("cashback.scheduled", "Cashback into stored value was scheduled for an order.", _CASHBACK),
        _e("cashback.reduced", "Scheduled cashback was reduced by a refund.", _CASHBACK),
        _e("cashback.cancelled", "Scheduled cashback was cancelled.", _CASHBACK),
        _e("cashback.credited", "Cashback was credited into stored value.", _CASHBACK),
        _e(
            "stored_value.changed",
            "A customer's stored value balance changed (top-up, spend, refund, gift or cashback credit).",
            {"oneOf": [_BALANCE_MOVE, _CASHBACK]},
            *_STORED_VALUE,
        ),
        _e("coupon.created", "A coupon was created.", _COUPON),
        _e("coupon.updated", "A coupon changed.", _COUPON),
        _e("coupon.deleted", "A coupon was deleted.", _COUPON),
        _e("coupon.redeemed", "A coupon was redeemed by a paid order (data.redemption says which).", _COUPON),
        _e("coupon.issued", "A coupon was put into a customer's wallet.", _WALLET_COUPON),
        _e("coupon.used", "A wallet coupon was used by a paid order.", _WALLET_COUPON),
        _e("coupon.returned", "A used wallet coupon came back: its order was refunded in full.", _WALLET_COUPON),
        _e("coupon.expired", "A wallet coupon expired unused.", _WALLET_COUPON),
        _e("coupon_pack.purchased", "A coupon pack was paid for; its coupons are in the buyer's wallet.", _COUPON_PACK),
        _e("coupon_pack.refunded", "A coupon pack was refunded; its unused coupons were revoked.", _COUPON_PACK),
        _e("coupon.revoked", "A wallet coupon was taken back unused (its coupon pack was refunded).", _WALLET_COUPON),
        # points mall (积分商城)
        _e("points_mall.item_updated", "A points-mall item was created or changed.", _MALL_ITEM),
        _e("points_mall.item_deleted", "A points-mall item nobody redeemed was deleted.", _MALL_ITEM),
        _e("points_mall.redeemed", "A customer redeemed a points-mall item (points debited).", _REDEMPTION),
        _e(
            "points_mall.fulfilment_requested",
            "Deliver your item for this redemption: sent only to the app whose installation provides the item, "
            "which then reports through POST /api/v1/app/points-mall/redemptions/{id}/fulfilment.",
            _REDEMPTION_FULFILMENT,
        ),
        _e(
            "points_mall.fulfilled",
            "A redemption was fulfilled (wallet coupon, grant, shipped, app delivered).",
            _REDEMPTION,
        ),
        _e("points_mall.cancelled", "A redemption was cancelled; its points, cash and stock came back.", _REDEMPTION),
        _e("points_mall.refunded", "A redemption's order was refunded in full; its points came back.", _REDEMPTION),
        # benefits (权益)
        _e("benefit_package.created", "A benefit package was created.", _BENEFIT_PACKAGE),
        _e("benefit_package.updated", "A benefit package changed.", _BENEFIT_PACKAGE),
        _e("benefit_package.deleted", "A benefit package was deleted.", _BENEFIT_PACKAGE),
        _e(
            "benefit.granted",
            "A benefit package was granted to a customer; an app whose item it holds delivers that item.",
            _BENEFIT_GRANT,
        ),
        _e("benefit.used", "A customer's benefit grant was used.", _BENEFIT_GRANT),
        _e("benefit.expired", "A customer's benefit grant expired unused.", _BENEFIT_GRANT),
        # journeys (营销画布): the engine
        _e("journey.enrolled", "A customer entered a journey.", _JOURNEY_ENROLLMENT),
        _e(
            "journey.exited",
            "A customer left a journey (completed, goal, exit rule, by hand, archived).",
            _JOURNEY_ENROLLMENT,
        ),
        _e(
            "journey.goal_reached", "A customer in a journey reached its goal (data.goal_revenue).", _JOURNEY_ENROLLMENT
        ),
        _e("journey.action", "A journey's notify-apps step: the app acts for the customer.", _JOURNEY_ACTION),
        # journeys (营销画布)
        _e("journey.created", "A journey was created (a draft).", _JOURNEY),
        _e("journey.updated", "A journey's name, description or graph changed.", _JOURNEY),
        _e("journey.deleted", "A draft journey was deleted.", _JOURNEY),
        _e("journey.activated", "A journey was activated: customers now enter it.", _JOURNEY),
        _e("journey.paused", "A journey was paused: nobody enters, customers inside wait.", _JOURNEY),
        _e("journey.resumed", "A paused journey was resumed.", _JOURNEY),
        _e("journey.archived", "A journey was archived: customers inside leave it.", _JOURNEY),
        _e(
            "journey.version_created",
            "A journey's graph was frozen as a new version; new enrolments take it.",
            _JOURNEY_VERSION,
        ),
        # messages (消息触达)
        _e("message_channel.created", "A message channel became available to the shop.", _MESSAGE_CHANNEL),
        _e("message_channel.updated", "A message channel's settings, cap or status changed.", _MESSAGE_CHANNEL),
        _e("message_template.created", "A message template was created.", _MESSAGE_TEMPLATE),
        _e("message_template.updated", "A message template changed.", _MESSAGE_TEMPLATE),
        _e("message_template.deleted", "A message template was deleted.", _MESSAGE_TEMPLATE),
        _e(
            "message.send_requested",
            "Deliver this message to the customer: sent only to the app whose channel it is on, which then "
            "reports delivered, failed or clicked through POST /api/v1/app/messages/{id}/status.",
            _MESSAGE_SEND_REQUESTED,
        ),
        _e("message.scheduled", "A message waits for the end of the shop's quiet hours.", _MESSAGE),
        _e("message.suppressed", "A message was not sent: the channel's daily cap was reached.", _MESSAGE),
        _e("message.sent", "A message was handed to its channel (SMTP server, inbox or app).", _MESSAGE),
        _e("message.delivered", "A message reached the customer.", _MESSAGE),
        _e("message.failed", "A message could not be delivered (data.reason says why).", _MESSAGE),
        _e("message.clicked", "The customer opened a link in a message.", _MESSAGE),
        _e("message.read", "The customer read an inbox message.", _MESSAGE),
        # risk control (风控)
        _e(
            "risk.decided", "Risk control held an action for review or denied it (data.rules says why).", _RISK_DECISION
        ),
        _e("risk.review_opened", "An order was held for a person's review.", _RISK_REVIEW),
        _e("risk.review_closed", "A review was approved or rejected (by staff, an app or its expiry).", _RISK_REVIEW),
        # shop, apps, webhooks
        _e("shop.created", "The shop was created.", _SHOP),
        _e("shop.updated", "The shop's settings changed.", _SHOP),
        _e("app.installed", "An app was installed (an app hears only of its own installation).", _INSTALLATION),
        _e("app.installation_updated", "An installation's version or scopes changed.", _INSTALLATION),
        _e("app.uninstalled", "An app was uninstalled (the app itself is told too).", _INSTALLATION),
        _e("plugin.uploaded", "A merchant uploaded a private Wasm plugin.", _PLUGIN),
        _e("plugin.activated", "A plugin was activated at an extension point.", _PLUGIN_ACTIVATION),
        _e(
            "plugin_activation.updated",
            "A plugin activation's position, state or failure policy changed.",
            _PLUGIN_ACTIVATION,
        ),
        _e("plugin.failing", "A plugin keeps failing at its extension point.", _PLUGIN_FAILING),
        _e("webhook_subscription.disabled", "A webhook endpoint was disabled after failing.", _SUBSCRIPTION),
        # privacy (mandatory for every installed app)
        _e(
            "customers.data_request",
            "The merchant asks, for a customer, for the personal data your app holds (PIPL, GDPR). "
            "Every installed app receives it.",
            _DATA_REQUEST,
            privacy=True,
        ),
        _e(
            "customers.redact",
            "Erase the personal data your app holds about a customer. Every installed app receives it.",
            _DATA_REQUEST,
            privacy=True,
        ),
        _e(
            "shop.redact",
            "Sent 48 hours after your app was uninstalled: erase the shop's data you hold.",
            _SHOP_REDACT,
            privacy=True,
        ),
    )
}

TEST_EVENT = _e("webhook.test", "A test event sent from the console or the API; never in the event log.", _TEST)

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
                "created_at": _TS,
                "shop_id": _S,
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
