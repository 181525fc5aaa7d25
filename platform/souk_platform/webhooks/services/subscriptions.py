"""Webhook subscriptions: which topics an endpoint hears (and the scopes an app needs for them), creating,
changing, deleting an endpoint, and the secrets that sign its deliveries."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import sqlalchemy as sa

from souk_platform.auth.scopes import grants
from souk_platform.core.clock import Clock
from souk_platform.core.versions import check_version
from souk_platform.db import DbSession
from souk_platform.webhooks import catalogue, errors
from souk_platform.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookSubscription
from souk_platform.webhooks.secret_box import SecretBox
from souk_platform.webhooks.signing import new_secret
from souk_platform.webhooks.ssrf import registration_problem

ROTATION_OVERLAP = dt.timedelta(hours=24)
MAX_TOPICS = 50
# Why an endpoint is disabled (``disabled_reason``); the console pages translate these.
DISABLED_BY_REQUEST = "Disabled by request."
DISABLED_GONE = "The endpoint answered 410 Gone."
DISABLED_FAILING = "The endpoint failed every delivery for 5 days."

_TOPIC = re.compile(r"^(\*|[a-z][a-z_]*(\.[a-z][a-z_]*)*\.\*|[a-z][a-z_]*(\.[a-z][a-z_]*)+)$")

# The read scope an app needs to receive an event, by the event type's first segment. An app's
# subscription only gets the events its installation may read; a shop's own subscription gets all.
EVENT_SCOPES: dict[str, str | None] = {
    "shop": "read_shop",
    "product": "read_products",
    "sku": "read_products",
    "inventory": "read_products",
    "customer": "read_customers",
    "customers": "read_customers",
    "member": "read_members",
    "member_levels": "read_members",
    "member_price": "read_members",
    "tag": "read_tags",
    "tag_import": "read_tags",
    "segment": "read_tags",
    "coupon": "read_coupons",
    "coupon_pack": "read_coupons",
    "benefit": "read_benefits",
    "benefit_package": "read_benefits",
    "journey": "read_journeys",
    "message": "read_messages",
    "message_channel": "read_messages",
    "message_template": "read_messages",
    "points": "read_points",
    "points_task": "read_points",
    "stored_value": "read_stored_value",
    "cart": "read_orders",
    "checkout": "read_orders",
    "order": "read_orders",
    "payment": "read_orders",
    "refund": "read_orders",
    "risk": "read_risk",
    "points_mall": "read_points_mall",
    "webhook_subscription": "read_webhooks",
    "webhook": "read_webhooks",
    "app": None,  # an app hears about its own installation
}


def register_event_scope(domain: str, scope: str | None) -> None:
    """Let an extension say which scope an app needs to hear ``<domain>.*`` events (idempotent)."""
    if EVENT_SCOPES.get(domain, scope) != scope:
        raise ValueError(f"events of {domain!r} already need {EVENT_SCOPES[domain]!r}")
    EVENT_SCOPES[domain] = scope


def required_scope(event_type: str) -> str | None:
    """The scope an app's installation needs to receive ``event_type``; unknown domains need ``write_shop``."""
    return EVENT_SCOPES.get(event_type.split(".", 1)[0], "write_shop")


def topic_matches(topics: list[Any], event_type: str) -> bool:
    """True when ``event_type`` is one of ``topics`` (exact, ``prefix.*`` or ``*``)."""
    for topic in topics:
        if topic == "*" or topic == event_type:
            return True
        if topic.endswith(".*") and event_type.startswith(topic[:-1]):
            return True
    return False


def _validate_topics(topics: list[str], granted_scopes: tuple[str, ...] | None) -> list[str]:
    bad = [t for t in topics if not _TOPIC.match(t)]
    unknown = [t for t in topics if t not in bad and not catalogue.matches_any(t)]
    if unknown:
        detail = (
            f"No event type is called {', '.join(unknown)}: see the webhooks section of /api/v1/openapi.json "
            "for the catalogue."
        )
        raise errors.InvalidSubscription(detail, errors={"topics": [detail]})
    if bad or not topics or len(topics) > MAX_TOPICS:
        detail = (
            f"Topics look like 'order.paid', 'order.*' or '*': {', '.join(bad)} is not one."
            if bad
            else f"Give between 1 and {MAX_TOPICS} topics."
        )
        raise errors.InvalidSubscription(detail, errors={"topics": [detail]})
    if granted_scopes is not None:
        missing = sorted(
            {
                scope
                for t in topics
                if t != "*" and (scope := required_scope(t.removesuffix(".*"))) and not grants(granted_scopes, scope)
            }
        )
        if missing:
            detail = f"This app cannot subscribe to these topics without the scope(s) {', '.join(missing)}."
            raise errors.InvalidSubscription(detail, errors={"topics": [detail]})
    return sorted(set(topics))


def _validate_url(url: str, *, allow_loopback: bool) -> str:
    problem = registration_problem(url, allow_loopback=allow_loopback)
    if problem:
        raise errors.InvalidSubscription(problem, errors={"url": [problem]})
    return url


def create_subscription(
    session: DbSession,
    *,
    shop_id: str,
    url: str,
    topics: list[str],
    description: str = "",
    installation_id: str | None,
    granted_scopes: tuple[str, ...] | None,
    box: SecretBox,
    clock: Clock,
    allow_loopback: bool = False,
) -> tuple[WebhookSubscription, str]:
    """Create a subscription; return it and its ``whsec_`` secret (shown once, stored sealed).

    ``installation_id`` set: the subscription belongs to that app installation, and ``granted_scopes``
    (the installation's scopes) must allow each topic. A URL whose host is an address the SSRF guard
    refuses is 422 here (loopback only with ``allow_loopback``, the development setting); names are
    resolved and checked again on every attempt, because DNS can change after today.
    """
    secret = new_secret()
    subscription = WebhookSubscription(
        shop_id=shop_id,
        installation_id=installation_id,
        url=_validate_url(url, allow_loopback=allow_loopback),
        topics=_validate_topics(topics, granted_scopes if installation_id else None),
        description=description,
        secret_sealed=box.seal(secret),
        created_at=clock.now(),
    )
    session.add(subscription)
    session.flush()
    return subscription, secret


def subscriptions_stmt(shop_id: str, *, installation_id: str | None) -> sa.Select[Any]:
    """The subscriptions a caller may see: an app sees its own, the shop's staff see all the shop's."""
    stmt = sa.select(WebhookSubscription).where(WebhookSubscription.shop_id == shop_id)
    if installation_id:
        stmt = stmt.where(WebhookSubscription.installation_id == installation_id)
    return stmt


def get_subscription(
    session: DbSession, *, shop_id: str, subscription_id: str, installation_id: str | None
) -> WebhookSubscription:
    stmt = subscriptions_stmt(shop_id, installation_id=installation_id).where(WebhookSubscription.id == subscription_id)
    subscription = session.scalar(stmt)
    if subscription is None:
        raise errors.SubscriptionNotFound(f"No webhook subscription {subscription_id} in this shop.")
    return subscription


def update_subscription(
    session: DbSession,
    *,
    shop_id: str,
    subscription_id: str,
    installation_id: str | None,
    granted_scopes: tuple[str, ...] | None,
    changes: dict[str, Any],
    expected_version: int | None,
    allow_loopback: bool = False,
) -> WebhookSubscription:
    """Change url, topics, description or ``enabled``; re-enabling clears the failure streak.

    A new URL is checked as on creation (``allow_loopback`` likewise)."""
    subscription = get_subscription(
        session, shop_id=shop_id, subscription_id=subscription_id, installation_id=installation_id
    )
    check_version(subscription.version, expected_version)
    if subscription.source == "manifest" and changes.keys() - {"enabled"}:
        raise errors.SubscriptionFromManifest(
            "This endpoint is declared in the app's manifest: publish a version with other webhooks to change "
            "it. Only enabling and disabling it is possible here."
        )
    if "url" in changes:
        subscription.url = _validate_url(changes["url"], allow_loopback=allow_loopback)
    if "topics" in changes:
        owner_scopes = granted_scopes if subscription.installation_id else None
        subscription.topics = _validate_topics(changes["topics"], owner_scopes)
    if "description" in changes:
        subscription.description = changes["description"]
    if "enabled" in changes:
        if changes["enabled"]:
            subscription.status, subscription.disabled_reason, subscription.failing_since = "enabled", None, None
        elif subscription.status == "enabled":
            subscription.status, subscription.disabled_reason = "disabled", DISABLED_BY_REQUEST
    session.flush()
    return subscription


def delete_subscription(session: DbSession, *, shop_id: str, subscription_id: str, installation_id: str | None) -> None:
    """Delete a subscription with its deliveries and their attempt log (not one the app's manifest declares)."""
    subscription = get_subscription(
        session, shop_id=shop_id, subscription_id=subscription_id, installation_id=installation_id
    )
    if subscription.source == "manifest":
        raise errors.SubscriptionFromManifest(
            "This endpoint is declared in the app's manifest: it goes when a version without it is installed, "
            "or with the app. Disable it to stop its deliveries now."
        )
    remove_subscription(session, subscription)


def remove_subscription(session: DbSession, subscription: WebhookSubscription) -> None:
    """Delete ``subscription`` with its deliveries and their attempt log, whoever declared it."""
    deliveries = sa.select(WebhookDelivery.id).where(WebhookDelivery.subscription_id == subscription.id)
    session.execute(sa.delete(WebhookAttempt).where(WebhookAttempt.delivery_id.in_(deliveries)))
    session.execute(sa.delete(WebhookDelivery).where(WebhookDelivery.subscription_id == subscription.id))
    session.delete(subscription)
    session.flush()


def rotate_secret(
    session: DbSession,
    *,
    shop_id: str,
    subscription_id: str,
    installation_id: str | None,
    box: SecretBox,
    clock: Clock,
) -> tuple[WebhookSubscription, str]:
    """Issue a new secret; the current one keeps signing alongside it for 24 hours. Returns the new secret."""
    subscription = get_subscription(
        session, shop_id=shop_id, subscription_id=subscription_id, installation_id=installation_id
    )
    if subscription.source == "manifest":
        raise errors.SubscriptionFromManifest(
            "This endpoint is signed with the app's webhook secret: its developer rotates that one, in the "
            "developer console or with POST /api/v1/app/webhook-secret/rotate."
        )
    secret = new_secret()
    subscription.previous_secret_sealed = subscription.secret_sealed
    subscription.previous_secret_expires_at = clock.now() + ROTATION_OVERLAP
    subscription.secret_sealed = box.seal(secret)
    session.flush()
    return subscription, secret


def signing_secrets(subscription: WebhookSubscription, *, box: SecretBox, now: dt.datetime) -> list[str]:
    """The secrets that sign right now: the current one, and the previous one during a rotation."""
    return open_secrets(
        box,
        sealed=subscription.secret_sealed,
        previous_sealed=subscription.previous_secret_sealed,
        previous_expires_at=subscription.previous_secret_expires_at,
        now=now,
    )


def open_secrets(
    box: SecretBox,
    *,
    sealed: str,
    previous_sealed: str | None,
    previous_expires_at: dt.datetime | None,
    now: dt.datetime,
) -> list[str]:
    """``signing_secrets`` from a subscription's columns (the delivery run reads columns, not instances)."""
    secrets = [box.open(sealed)]
    if previous_sealed and previous_expires_at and now < previous_expires_at:
        secrets.append(box.open(previous_sealed))
    return secrets


def subscription_payload(subscription: WebhookSubscription) -> dict[str, Any]:
    return {
        "id": subscription.id,
        "url": subscription.url,
        "topics": list(subscription.topics),
        "status": subscription.status,
        "disabled_reason": subscription.disabled_reason,
        "installation_id": subscription.installation_id,
        "source": subscription.source,
        "version": subscription.version,
    }
