"""Webhook subscriptions, dispatch from the outbox, delivery attempts, resend and recover.

Delivery is at-least-once: a delivery row is created per (event, subscription) and its id is the
``webhook-id`` receivers deduplicate on. Ordering is not promised. The database is the only state:
queues merely hurry things along, and ``overdue_delivery_ids`` finds whatever they lost.

One module per section: ``subscriptions`` (topics, scopes, endpoints and their secrets), ``routing``
(which subscriptions get an event), ``dispatch`` (outbox rows -> deliveries), ``sending`` (claim, sign,
send), ``attempts`` (log each attempt; retry, give up or disable), ``delivery_log``, ``resend`` (resend,
recover, test), ``console`` (the console pages) and ``privacy`` (the privacy webhooks). This package
re-exports the public names, so callers import from ``services`` as before.
"""

from __future__ import annotations

from souk_platform.webhooks.services.attempts import FAILING_LIMIT, record_attempts
from souk_platform.webhooks.services.console import (
    ConsoleEndpoint,
    ConsoleOwner,
    console_deliveries_stmt,
    console_delivery,
    console_endpoints,
    console_subscription,
    console_subscriptions_stmt,
)
from souk_platform.webhooks.services.delivery_log import (
    PAYLOAD_RETENTION,
    attempts_of,
    deliveries_stmt,
    get_delivery,
    purge_expired_payloads,
)
from souk_platform.webhooks.services.dispatch import dispatch_outbox, message_body
from souk_platform.webhooks.services.privacy import (
    PRIVACY_REQUEST_KINDS,
    SHOP_REDACT_AFTER,
    request_customer_privacy,
    send_due_shop_redactions,
)
from souk_platform.webhooks.services.resend import TEST_EVENT_TYPE, recover_failed, resend_delivery, send_test_event
from souk_platform.webhooks.services.routing import Endpoint, route
from souk_platform.webhooks.services.sending import (
    CLAIM_LEASE,
    DELIVER_JOB,
    RESPONSE_KEEP_BYTES,
    AttemptResult,
    PreparedRequest,
    claim_due_deliveries,
    claim_requests,
    overdue_delivery_ids,
    release_claims,
    send,
)
from souk_platform.webhooks.services.subscriptions import (
    DISABLED_BY_REQUEST,
    DISABLED_FAILING,
    DISABLED_GONE,
    EVENT_SCOPES,
    MAX_TOPICS,
    ROTATION_OVERLAP,
    create_subscription,
    delete_subscription,
    get_subscription,
    register_event_scope,
    remove_subscription,
    required_scope,
    rotate_secret,
    signing_secrets,
    subscription_payload,
    subscriptions_stmt,
    topic_matches,
    update_subscription,
)

__all__ = [
    "CLAIM_LEASE",
    "DELIVER_JOB",
    "DISABLED_BY_REQUEST",
    "DISABLED_FAILING",
    "DISABLED_GONE",
    "EVENT_SCOPES",
    "FAILING_LIMIT",
    "MAX_TOPICS",
    "PAYLOAD_RETENTION",
    "PRIVACY_REQUEST_KINDS",
    "RESPONSE_KEEP_BYTES",
    "ROTATION_OVERLAP",
    "SHOP_REDACT_AFTER",
    "TEST_EVENT_TYPE",
    "AttemptResult",
    "ConsoleEndpoint",
    "ConsoleOwner",
    "Endpoint",
    "PreparedRequest",
    "attempts_of",
    "claim_due_deliveries",
    "claim_requests",
    "console_deliveries_stmt",
    "console_delivery",
    "console_endpoints",
    "console_subscription",
    "console_subscriptions_stmt",
    "create_subscription",
    "delete_subscription",
    "deliveries_stmt",
    "dispatch_outbox",
    "get_delivery",
    "get_subscription",
    "message_body",
    "overdue_delivery_ids",
    "purge_expired_payloads",
    "record_attempts",
    "recover_failed",
    "register_event_scope",
    "release_claims",
    "remove_subscription",
    "request_customer_privacy",
    "required_scope",
    "resend_delivery",
    "rotate_secret",
    "route",
    "send",
    "send_due_shop_redactions",
    "send_test_event",
    "signing_secrets",
    "subscription_payload",
    "subscriptions_stmt",
    "topic_matches",
    "update_subscription",
]
