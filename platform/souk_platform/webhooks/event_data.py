"""The ``data`` schemas of the event catalogue (``webhooks/catalogue.py``, docs/architecture.md §8): JSON Schema for
each payload shape the domains emit, and the small helpers that build them. Plain Python (no Flask).

Objects allow extra properties, so a domain can add a field to its payload without breaking receivers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

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


SKU = _object(
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
PRODUCT = _object(
    {
        "id": _S,
        "title": _S,
        "description": _S,
        "status": _S,
        "category_id": _S,
        "tags": _list(_S),
        "version": _I,
        "skus": _list(SKU),
    },
)
TASK_COMPLETION = _object(
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
WALLET_COUPON = _object(
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
COUPON_PACK = _object(
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
MALL_ITEM = _object(
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
REDEMPTION = _object(
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
REDEMPTION_FULFILMENT = _object(
    {
        **REDEMPTION["properties"],
        "installation_id": {**_S, "description": "Your installation, which provides the item"},
        "app_item_code": {**_S, "description": "Your own code of the item"},
        "title": _S,
    }
)
CATEGORY = _object(
    {
        "id": _S,
        "parent_id": {**_NS, "description": "null for a top-level category"},
        "name": _S,
        "position": _I,
        "is_default": _B,
        "version": _I,
    }
)
INVENTORY = _object(
    {
        "adjustment": _object(
            {"id": _S, "delta": _I, "reason": _S, "ref": _NS, "on_hand_after": _I}, required=("id", "delta")
        ),
        "sku": SKU,
    },
    required=("adjustment", "sku"),
)
STOCK = _object(
    {
        "ref": {**_S, "description": "The reservation's owner, usually an order id"},
        "lines": _list(
            _object({"reservation_id": _S, "sku_id": _S, "quantity": _I, "sku": SKU}, required=("sku_id", "sku"))
        ),
    },
    required=("ref", "lines"),
)
ORDER = _object(
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
PAYMENT = _object(
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
CUSTOMER = _object(
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
LEVEL_CHANGE = _object(
    {**CUSTOMER["properties"], "from_level": _I, "to_level": _I, "source": _S, "reason": _NS},
)
CUSTOMER_IDENTITY = _object(
    {"id": _S, "customer_id": _S, "provider": _S, "external_id": _S}, required=("id", "customer_id", "provider")
)
MEMBER_LEVELS = _object(
    {"id": _S, "window_days": _I, "downgrade_period_days": _I, "levels": _list(_OBJ), "version": _I}
)
MEMBER_PRICE = _object(
    {
        "id": _S,
        "sku_id": _S,
        "level": _I,
        "price": {**_I, "description": "Minor units (fen) members of this level pay per unit"},
        "currency": _S,
        "version": _I,
    }
)
BALANCE_MOVE = _object(
    {"customer_id": _S, "balance": _I, "currency": _S, "amount": _I, "points": _I, "order_id": _NS, "reference": _NS},
    required=("customer_id", "balance"),
)
CASHBACK = _object(
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
COUPON = _object(
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
BENEFIT_PACKAGE = _object(
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
JOURNEY = _object(
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
JOURNEY_VERSION = _object(
    {
        "id": {**_S, "description": "The version (jvr_…)"},
        "journey_id": _S,
        "number": _I,
        "version": {**_I, "description": "The same as number: a version never changes"},
    }
)
BENEFIT_GRANT = _object(
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
JOURNEY_ENROLLMENT = _object(
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
JOURNEY_ACTION = _object(
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
MESSAGE_CHANNEL = _object(
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
MESSAGE_TEMPLATE = _object(
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
MESSAGE = _object(
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
RISK_DECISION = _object(
    {
        "id": _S,
        "action": {**_S, "description": "checkout (redemption, coupon_claim, sign_in as they arrive)"},
        "subject_type": _S,
        "subject_id": _S,
        "customer_id": _NS,
        "ip": _NS,
        "device_id": _NS,
        "outcome": {**_S, "description": "review or deny"},
        "rules": {
            **_list(_OBJ),
            "description": "The rules that fired: rule, source, outcome, reason, seen, threshold",
        },
        "created_at": _TS,
    },
    required=("id", "action", "outcome"),
)
RISK_REVIEW = _object(
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
MESSAGE_SEND_REQUESTED = _object(
    {
        **MESSAGE["properties"],
        "installation_id": {**_S, "description": "Your installation, which provides the channel"},
        "channel_key": {**_S, "description": "The key of the channel in your manifest's message_channels"},
        "customer": _object({"id": _S, "name": _S, "phone": _NS, "email": _NS}, required=("id",)),
    }
)
TAG = _object(
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
TAG_IMPORT = _object({"id": _S}, required=("id",))
SEGMENT = _object({"id": _S, "name": _S, "description": _NS, "condition": _NOBJ, "version": _I})
SEGMENT_SNAPSHOT = _object(
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
CART = _object(
    {"id": _S, "customer_id": _NS, "status": _S, "lines": _list(_OBJ), "converted_order_id": _NS, "version": _I}
)
SHOP = _object({"id": _S, "name": _S, "currency": _S, "version": _I})
INSTALLATION = _object(
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
SUBSCRIPTION = _object(
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
DATA_REQUEST = _object(
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
SHOP_REDACT = _object(
    {
        "id": _S,
        "shop_id": _S,
        "installation_id": {**_S, "description": "The uninstalled installation whose shop data must be erased"},
        "uninstalled_at": _TS,
        "version": _I,
    },
    required=("id", "shop_id", "installation_id", "version"),
)
PLUGIN = _object({"id": _S, "name": _S, "point": _S, "sha256": _S, "version": _I})
PLUGIN_ACTIVATION = _object(
    {"id": _S, "plugin_id": _S, "point": _S, "position": _I, "enabled": _B, "on_failure": _S, "version": _I}
)
PLUGIN_FAILING = _object(
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
TEST = _object({"subscription_id": _S, "message": _S, "version": _I})
