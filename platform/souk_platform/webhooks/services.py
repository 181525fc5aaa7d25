"""Webhook subscriptions, dispatch from the outbox, delivery attempts, resend and recover.

Delivery is at-least-once: a delivery row is created per (event, subscription) and its id is the
``webhook-id`` receivers deduplicate on. Ordering is not promised. The database is the only state:
queues merely hurry things along, and ``overdue_delivery_ids`` finds whatever they lost.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import sqlalchemy as sa

from souk_platform.apps.models import Installation
from souk_platform.auth.scopes import grants
from souk_platform.core.clock import Clock
from souk_platform.core.ids import issued_at_millis, new_id
from souk_platform.core.versions import check_version
from souk_platform.customers.services import get_customer
from souk_platform.db import DbSession
from souk_platform.events.models import OutboxEvent
from souk_platform.events.services import emit
from souk_platform.jobs.runner import enqueue_once_after_commit
from souk_platform.orders.models import Order
from souk_platform.webhooks import catalogue, errors
from souk_platform.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookSubscription
from souk_platform.webhooks.schedule import Failure, retry_delay
from souk_platform.webhooks.secret_box import SecretBox
from souk_platform.webhooks.signing import new_secret, webhook_headers
from souk_platform.webhooks.ssrf import BlockedDestination, registration_problem

DELIVER_JOB = "souk_platform.webhooks.tasks.deliver_due"  # the delivery run (dispatch + send)
ROTATION_OVERLAP = dt.timedelta(hours=24)
PAYLOAD_RETENTION = dt.timedelta(days=14)
FAILING_LIMIT = dt.timedelta(days=5)
CLAIM_LEASE = dt.timedelta(seconds=60)  # longer than the 15 s timeout; a dead worker's claim expires
RESPONSE_KEEP_BYTES = 4096
MAX_TOPICS = 50
TEST_EVENT_TYPE = "webhook.test"
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
    "tag": "read_tags",
    "tag_import": "read_tags",
    "segment": "read_tags",
    "coupon": "read_coupons",
    "points": "read_points",
    "stored_value": "read_stored_value",
    "cart": "read_orders",
    "checkout": "read_orders",
    "order": "read_orders",
    "payment": "read_orders",
    "refund": "read_orders",
    "webhook_subscription": "read_webhooks",
    "webhook": "read_webhooks",
    "app": None,  # an app hears about its own installation
}


# -- subscriptions -----------------------------------------------------------------------------


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
    secrets = [box.open(subscription.secret_sealed)]
    expires = subscription.previous_secret_expires_at
    if subscription.previous_secret_sealed and expires and now < expires:
        secrets.append(box.open(subscription.previous_secret_sealed))
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


# -- dispatch: outbox rows -> deliveries --------------------------------------------------------


def _rfc3339(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def message_body(*, event_type: str, created_at: dt.datetime, shop_id: str, data: dict[str, Any]) -> str:
    """The JSON every receiver gets: ``{type, created_at, shop_id, data}``; ``data`` carries ``version``."""
    message = {"type": event_type, "created_at": _rfc3339(created_at), "shop_id": shop_id, "data": data}
    return json.dumps(message, ensure_ascii=False, separators=(",", ":"))


def dispatch_outbox(session: DbSession, *, clock: Clock, limit: int = 500) -> tuple[int, list[str]]:
    """Turn up to ``limit`` undispatched outbox rows into deliveries and mark them dispatched.

    Returns how many events were taken and the new delivery ids.

    Safe to run concurrently (rows are locked with SKIP LOCKED on PostgreSQL) and twice (a delivery
    is unique per (event, subscription)). New deliveries are due at once; the caller commits them.
    """
    events = list(
        session.scalars(
            sa.select(OutboxEvent)
            .where(OutboxEvent.dispatched_at.is_(None))
            .order_by(OutboxEvent.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
    if not events:
        return 0, []
    now = clock.now()
    by_shop = _endpoints(session, {e.shop_id for e in events if e.shop_id})
    existing = {
        (row[0], row[1])
        for row in session.execute(
            sa.select(WebhookDelivery.event_id, WebhookDelivery.subscription_id).where(
                WebhookDelivery.event_id.in_([e.id for e in events])
            )
        )
    }
    # Plain INSERT and UPDATE statements, not the unit of work: at hundreds of events a second the ORM's
    # bookkeeping per row was most of the dispatcher's time.
    created: list[dict[str, Any]] = []
    for event in events:
        if not event.shop_id:
            continue  # platform-level events have no shop subscribers
        for subscription, delivered_type in route(event, by_shop.get(event.shop_id, [])):
            if (event.id, subscription.id) in existing:
                continue
            body = message_body(
                event_type=delivered_type, created_at=event.created_at, shop_id=event.shop_id, data=event.payload
            )
            created.append(
                {
                    "id": new_id("msg"),
                    "shop_id": event.shop_id,
                    "subscription_id": subscription.id,
                    "event_id": event.id,
                    "event_type": delivered_type,
                    "body": body,
                    "status": "pending",
                    "attempts": 0,
                    "round_start": 0,
                    "next_attempt_at": now,
                    "created_at": now,
                }
            )
    session.execute(
        sa.update(OutboxEvent)
        .where(OutboxEvent.id.in_([e.id for e in events]))
        .values(dispatched_at=now)
        .execution_options(synchronize_session=False)
    )
    if created:
        session.execute(sa.insert(WebhookDelivery), created)
    return len(events), [row["id"] for row in created]


@dataclass(frozen=True, slots=True)
class Endpoint:
    """An enabled subscription as the router sees it."""

    subscription: WebhookSubscription
    scopes: tuple[str, ...] | None  # the owning installation's scopes; None: the shop's own subscription
    active: bool  # the owning installation is active (always True for the shop's own)


def _endpoints(session: DbSession, shop_ids: set[str]) -> dict[str, list[Endpoint]]:
    """Enabled subscriptions per shop, including those of uninstalled apps (they still get privacy events)."""
    if not shop_ids:
        return {}
    rows = session.execute(
        sa.select(WebhookSubscription, Installation.status, Installation.granted_scopes)
        .outerjoin(Installation, Installation.id == WebhookSubscription.installation_id)
        .where(WebhookSubscription.shop_id.in_(shop_ids), WebhookSubscription.status == "enabled")
        .order_by(WebhookSubscription.created_at, WebhookSubscription.id)
    )
    result: dict[str, list[Endpoint]] = {}
    for subscription, installation_status, granted in rows:
        if subscription.installation_id is None:
            endpoint = Endpoint(subscription, None, True)
        else:
            endpoint = Endpoint(subscription, tuple(granted or ()), installation_status == "active")
        result.setdefault(subscription.shop_id, []).append(endpoint)
    return result


def route(event: OutboxEvent, endpoints: list[Endpoint]) -> list[tuple[WebhookSubscription, str]]:
    """Which subscriptions get ``event``, and as which catalogue type (its own or a derived one).

    - The shop's own subscriptions get whatever their topics match.
    - An active app's subscriptions get what their topics match and the installation's scopes allow.
    - ``app.*`` events about an installation go to that app only (``app.uninstalled`` included).
    - Privacy events go to one subscription of every app concerned, whatever it subscribed to.
    - A subscription gets only events emitted once it existed, however late the dispatcher runs.
    """
    endpoints = [endpoint for endpoint in endpoints if _existed_when_emitted(endpoint.subscription, event)]
    entry = catalogue.CATALOGUE.get(event.type)
    if entry is not None and entry.privacy:
        return _route_privacy(event, endpoints)
    names = catalogue.delivered_types(event.type, event.payload)
    routed: list[tuple[WebhookSubscription, str]] = []
    for endpoint in endpoints:
        subscription = endpoint.subscription
        if endpoint.scopes is not None:
            if event.subject_type == "installation":
                if subscription.installation_id != event.subject_id:
                    continue
            elif not endpoint.active:
                continue  # an uninstalled app hears nothing more
            elif (needed := required_scope(event.type)) and not grants(endpoint.scopes, needed):
                continue
        name = next((n for n in names if topic_matches(subscription.topics, n)), None)
        if name:
            routed.append((subscription, name))
    return routed


def _existed_when_emitted(subscription: WebhookSubscription, event: OutboxEvent) -> bool:
    """Whether ``subscription`` was made no later than ``event`` (to the millisecond of their ids).

    The ids are the one clock both rows share (``created_at`` of an event is not the app's clock).
    Without this, an event still waiting in the outbox when an endpoint is added went to it too.
    """
    made, emitted = issued_at_millis(subscription.id), issued_at_millis(event.id)
    return made is None or emitted is None or made <= emitted


def _route_privacy(event: OutboxEvent, endpoints: list[Endpoint]) -> list[tuple[WebhookSubscription, str]]:
    routed: list[tuple[WebhookSubscription, str]] = []
    per_app: dict[str, list[WebhookSubscription]] = {}
    for endpoint in endpoints:
        subscription = endpoint.subscription
        if endpoint.scopes is None:
            if topic_matches(subscription.topics, event.type):
                routed.append((subscription, event.type))
        elif event.type == "shop.redact":
            if subscription.installation_id == event.subject_id:
                per_app.setdefault(subscription.installation_id, []).append(subscription)
        elif endpoint.active and subscription.installation_id:
            per_app.setdefault(subscription.installation_id, []).append(subscription)
    for subscriptions in per_app.values():
        # one delivery per app: the endpoint that asked for the type, else its oldest endpoint
        chosen = next((s for s in subscriptions if topic_matches(s.topics, event.type)), subscriptions[0])
        routed.append((chosen, event.type))
    return routed


# -- attempts ---------------------------------------------------------------------------------
#
# A delivery run claims due deliveries in a batch (one UPDATE), signs them, commits, sends them
# concurrently, and logs every result of the batch in one transaction (``record_attempts``).


@dataclass(frozen=True, slots=True)
class PreparedRequest:
    delivery_id: str
    subscription_id: str
    url: str
    headers: dict[str, str]
    body: bytes
    signed_at: dt.datetime  # the ``webhook-timestamp``, and the attempt's time in the log


@dataclass(frozen=True, slots=True)
class AttemptResult:
    status: int | None
    response_body: str | None
    latency_ms: int
    error: str | None = None
    timed_out: bool = False
    retry_after: str | None = None
    response_headers: dict[str, str] = field(default_factory=dict)

    @property
    def succeeded(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def claim_due_deliveries(
    session: DbSession,
    *,
    now: dt.datetime,
    limit: int,
    delivery_ids: list[str] | None = None,
    per_endpoint: int | None = None,
    busy: Mapping[str, int] | None = None,
) -> list[str]:
    """Take up to ``limit`` due deliveries (oldest due first) for one attempt each; return their ids.

    A claim pushes ``next_attempt_at`` forward by ``CLAIM_LEASE``: the caller commits before sending, so
    other runs (and the sweeper) skip the claimed rows, and a run killed mid-send leaves them overdue
    once the lease ends. ``delivery_ids`` restricts the claim to those deliveries.

    ``per_endpoint`` caps what one subscription may have in flight, counting ``busy`` (subscription id
    → requests of this run still out): a slow or flooded endpoint then holds at most that many of the
    run's senders, and every other shop's endpoints keep theirs. Endpoints are visited oldest due first.
    """
    if per_endpoint is None:
        return _claim(session, now=now, limit=limit, delivery_ids=delivery_ids)
    busy = busy or {}
    waiting = session.execute(
        sa.select(WebhookDelivery.subscription_id)
        .where(WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= now)
        .group_by(WebhookDelivery.subscription_id)
        .order_by(sa.func.min(WebhookDelivery.next_attempt_at))
        .limit(limit + len(busy))
    ).scalars()
    claimed: list[str] = []
    for subscription_id in waiting:
        room = min(per_endpoint - busy.get(subscription_id, 0), limit - len(claimed))
        if room > 0:
            claimed += _claim(session, now=now, limit=room, delivery_ids=delivery_ids, subscription_id=subscription_id)
        if len(claimed) >= limit:
            break
    return claimed


def _claim(
    session: DbSession,
    *,
    now: dt.datetime,
    limit: int,
    delivery_ids: list[str] | None = None,
    subscription_id: str | None = None,
) -> list[str]:
    due = (
        sa.select(WebhookDelivery.id)
        .where(WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= now)
        .order_by(WebhookDelivery.next_attempt_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    if delivery_ids is not None:
        due = due.where(WebhookDelivery.id.in_(delivery_ids))
    if subscription_id is not None:
        due = due.where(WebhookDelivery.subscription_id == subscription_id)
    claimed = session.scalars(
        sa.update(WebhookDelivery)
        .where(WebhookDelivery.id.in_(due.scalar_subquery()))
        .values(next_attempt_at=now + CLAIM_LEASE)
        .returning(WebhookDelivery.id)
        .execution_options(synchronize_session=False)
    )
    return list(claimed)


def prepare_requests(
    session: DbSession, *, delivery_ids: list[str], box: SecretBox, now: dt.datetime
) -> list[PreparedRequest]:
    """Sign claimed deliveries for sending now. Those whose endpoint is disabled fail instead (no request)."""
    if not delivery_ids:
        return []
    rows = session.execute(
        sa.select(WebhookDelivery.id, WebhookDelivery.body, WebhookSubscription)
        .join(WebhookSubscription, WebhookSubscription.id == WebhookDelivery.subscription_id)
        .where(WebhookDelivery.id.in_(delivery_ids))
        .order_by(WebhookDelivery.id)
    )
    requests: list[PreparedRequest] = []
    refused: list[str] = []
    secrets: dict[str, list[str]] = {}
    for delivery_id, text, subscription in rows:
        if subscription.status != "enabled":
            refused.append(delivery_id)
            continue
        if subscription.id not in secrets:
            secrets[subscription.id] = signing_secrets(subscription, box=box, now=now)
        body = text.encode()
        headers = {
            "content-type": "application/json",
            **webhook_headers(secrets[subscription.id], msg_id=delivery_id, at=now, body=body),
        }
        requests.append(PreparedRequest(delivery_id, subscription.id, subscription.url, headers, body, now))
    if refused:
        session.execute(
            sa.update(WebhookDelivery)
            .where(WebhookDelivery.id.in_(refused))
            .values(
                status="failed",
                next_attempt_at=None,
                last_error="The endpoint is disabled; recover the delivery after enabling it.",
            )
            .execution_options(synchronize_session=False)
        )
    return requests


def send(http: httpx.Client, request: PreparedRequest) -> AttemptResult:
    """POST one prepared request; never raises for network trouble (it becomes the result's ``error``).

    Safe to call from several threads at once with one client (the delivery run does).
    """
    started = time.perf_counter()
    try:
        with http.stream("POST", request.url, headers=request.headers, content=request.body) as response:
            kept = b""
            for chunk in response.iter_bytes():
                kept += chunk
                if len(kept) >= RESPONSE_KEEP_BYTES:
                    break  # no need to read a huge error page to its end
            status = response.status_code
            retry_after = response.headers.get("retry-after")
            redirect = response.headers.get("location") if response.is_redirect else None
    except BlockedDestination as exc:
        return AttemptResult(None, None, _ms_since(started), error=f"Refused by the SSRF guard: {exc}")
    except httpx.TimeoutException as exc:
        # Say which wait ran out and how long the attempt took: a fixed "15 s" hid an attempt that
        # failed long before (or after) the timeout.
        waited = _ms_since(started)
        phase = _TIMEOUT_PHASES.get(type(exc), "")
        return AttemptResult(None, None, waited, error=f"Timed out{phase} after {waited / 1000:.1f} s.", timed_out=True)
    except httpx.HTTPError as exc:
        return AttemptResult(None, None, _ms_since(started), error=f"{type(exc).__name__}: {exc}"[:500])
    text = kept[:RESPONSE_KEEP_BYTES].decode("utf-8", errors="replace")
    error = f"Redirect to {redirect} not followed." if redirect else None
    return AttemptResult(status, text, _ms_since(started), error=error, retry_after=retry_after)


_TIMEOUT_PHASES: dict[type[httpx.TimeoutException], str] = {
    httpx.ConnectTimeout: " connecting",
    httpx.WriteTimeout: " sending the request",
    httpx.ReadTimeout: " waiting for the response",
    httpx.PoolTimeout: " waiting for a connection",
}


def _ms_since(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)


def record_attempts(
    session: DbSession,
    outcomes: list[tuple[PreparedRequest, AttemptResult]],
    *,
    clock: Clock,
    rng: random.Random,
) -> list[str]:
    """Log each attempt and decide what next for its delivery: done, retry at a time, give up, or
    disable the endpoint. Returns the ids of the deliveries recorded (one deleted with its subscription
    while it was being sent is skipped).

    Successes, nearly all of them, are settled with one UPDATE per signing time and one INSERT of their
    attempts; each failure goes through the retry rules on its own.
    """
    now = clock.now()
    attempts: list[dict[str, Any]] = []
    recorded: list[str] = []
    by_signing_time: dict[dt.datetime, list[tuple[PreparedRequest, AttemptResult]]] = {}
    failures: list[tuple[PreparedRequest, AttemptResult]] = []
    for request, result in outcomes:
        if result.succeeded:
            by_signing_time.setdefault(request.signed_at, []).append((request, result))
        else:
            failures.append((request, result))
    recovered: set[str] = set()
    for signed_at, group in by_signing_time.items():
        done = session.execute(
            sa.update(WebhookDelivery)
            .where(WebhookDelivery.id.in_([request.delivery_id for request, _ in group]))
            .values(
                status="succeeded",
                attempts=WebhookDelivery.attempts + 1,
                last_attempt_at=signed_at,
                last_error=None,
                next_attempt_at=None,
            )
            .returning(WebhookDelivery.id, WebhookDelivery.shop_id, WebhookDelivery.subscription_id)
            .execution_options(synchronize_session=False)
        )
        owners = {row.id: (row.shop_id, row.subscription_id) for row in done}
        for request, result in group:
            if request.delivery_id in owners:
                shop_id, subscription_id = owners[request.delivery_id]
                attempts.append(_attempt_row(request, result, shop_id))
                recorded.append(request.delivery_id)
                recovered.add(subscription_id)
    if failures:
        ids = sorted({request.delivery_id for request, _ in failures})
        stmt = sa.select(WebhookDelivery).where(WebhookDelivery.id.in_(ids)).order_by(WebhookDelivery.id)
        deliveries = {d.id: d for d in session.scalars(stmt.with_for_update())}
        for request, result in failures:
            delivery = deliveries.get(request.delivery_id)
            if delivery is None:
                continue
            attempts.append(_attempt_row(request, result, delivery.shop_id))
            recorded.append(delivery.id)
            delivery.attempts += 1
            if delivery.status != "pending":
                # This attempt outlived its claim and another one settled the delivery meanwhile: it goes
                # in the log, but must not reschedule, fail or disable what already succeeded.
                continue
            delivery.last_attempt_at = request.signed_at
            delivery.last_error = result.error or f"HTTP {result.status}"
            if result.status == 410:
                delivery.status, delivery.next_attempt_at = "failed", None
                _disable(session, delivery.subscription_id, DISABLED_GONE, now)
            else:
                _schedule_retry(session, delivery, result, attempted_at=request.signed_at, now=now, rng=rng)
    if recovered:
        # One success ends an endpoint's failure streak.
        session.execute(
            sa.update(WebhookSubscription)
            .where(WebhookSubscription.id.in_(sorted(recovered)), WebhookSubscription.failing_since.is_not(None))
            .values(failing_since=None)
            .execution_options(synchronize_session=False)
        )
    if attempts:
        session.execute(sa.insert(WebhookAttempt), attempts)
    session.flush()
    return recorded


def _attempt_row(request: PreparedRequest, result: AttemptResult, shop_id: str) -> dict[str, Any]:
    return {
        "id": new_id("wha"),
        "delivery_id": request.delivery_id,
        "shop_id": shop_id,
        "attempted_at": request.signed_at,
        "url": request.url,
        "request_headers": request.headers,
        "request_body": request.body.decode(),
        "response_status": result.status,
        "response_body": result.response_body,
        "latency_ms": result.latency_ms,
        "error": result.error,
    }


def _schedule_retry(
    session: DbSession,
    delivery: WebhookDelivery,
    result: AttemptResult,
    *,
    attempted_at: dt.datetime,
    now: dt.datetime,
    rng: random.Random,
) -> None:
    subscription_id = delivery.subscription_id
    session.execute(
        sa.update(WebhookSubscription)
        .where(WebhookSubscription.id == subscription_id, WebhookSubscription.failing_since.is_(None))
        .values(failing_since=attempted_at)
        .execution_options(synchronize_session=False)
    )
    failing_since = session.scalar(
        sa.select(WebhookSubscription.failing_since).where(WebhookSubscription.id == subscription_id)
    )
    failure = Failure(status=result.status, timed_out=result.timed_out, retry_after=result.retry_after)
    delay = retry_delay(delivery.attempts - delivery.round_start, failure, rng=rng, now=now)
    if failing_since is not None and now - failing_since >= FAILING_LIMIT:
        delivery.status, delivery.next_attempt_at = "failed", None
        _disable(session, subscription_id, DISABLED_FAILING, now)
    elif delay is None:
        delivery.status, delivery.next_attempt_at = "failed", None
    else:
        delivery.next_attempt_at = now + dt.timedelta(seconds=delay)


def _disable(session: DbSession, subscription_id: str, reason: str, now: dt.datetime) -> None:
    """Disable an endpoint and tell its owner (the ``webhook_subscription.disabled`` event)."""
    subscription = session.get(WebhookSubscription, subscription_id, with_for_update=True)
    if subscription is None or subscription.status != "enabled":
        return
    subscription.status, subscription.disabled_reason = "disabled", reason
    session.flush()
    emit(
        session,
        shop_id=subscription.shop_id,
        type="webhook_subscription.disabled",
        subject_type="webhook_subscription",
        subject_id=subscription.id,
        payload={**subscription_payload(subscription), "disabled_at": _rfc3339(now)},
    )


def overdue_delivery_ids(session: DbSession, *, now: dt.datetime, limit: int = 1000) -> list[str]:
    """Pending deliveries whose time has come (new, retry due, or a dead worker's expired claim)."""
    stmt = (
        sa.select(WebhookDelivery.id)
        .where(WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= now)
        .order_by(WebhookDelivery.next_attempt_at)
        .limit(limit)
    )
    return list(session.scalars(stmt))


def purge_expired_payloads(session: DbSession, *, now: dt.datetime) -> int:
    """Delete finished deliveries (and their attempts) older than 14 days; return how many."""
    old = sa.select(WebhookDelivery.id).where(
        WebhookDelivery.created_at < now - PAYLOAD_RETENTION, WebhookDelivery.status != "pending"
    )
    session.execute(sa.delete(WebhookAttempt).where(WebhookAttempt.delivery_id.in_(old)))
    result = session.execute(
        sa.delete(WebhookDelivery).where(
            WebhookDelivery.created_at < now - PAYLOAD_RETENTION, WebhookDelivery.status != "pending"
        )
    )
    return int(getattr(result, "rowcount", 0))


# -- the delivery log, resend, recover, test ---------------------------------------------------


def deliveries_stmt(
    shop_id: str,
    *,
    installation_id: str | None,
    subscription_id: str | None = None,
    status: str | None = None,
    event_type: str | None = None,
) -> sa.Select[Any]:
    stmt = sa.select(WebhookDelivery).where(WebhookDelivery.shop_id == shop_id)
    if installation_id:
        stmt = stmt.where(
            WebhookDelivery.subscription_id.in_(
                sa.select(WebhookSubscription.id).where(WebhookSubscription.installation_id == installation_id)
            )
        )
    if subscription_id:
        stmt = stmt.where(WebhookDelivery.subscription_id == subscription_id)
    if status:
        stmt = stmt.where(WebhookDelivery.status == status)
    if event_type:
        stmt = stmt.where(WebhookDelivery.event_type == event_type)
    return stmt


def get_delivery(session: DbSession, *, shop_id: str, delivery_id: str, installation_id: str | None) -> WebhookDelivery:
    stmt = deliveries_stmt(shop_id, installation_id=installation_id).where(WebhookDelivery.id == delivery_id)
    delivery = session.scalar(stmt)
    if delivery is None:
        raise errors.DeliveryNotFound(f"No webhook delivery {delivery_id} in this shop.")
    return delivery


def attempts_of(session: DbSession, delivery: WebhookDelivery) -> list[WebhookAttempt]:
    stmt = sa.select(WebhookAttempt).where(WebhookAttempt.delivery_id == delivery.id).order_by(WebhookAttempt.id)
    return list(session.scalars(stmt))


# -- the console pages: an app's endpoints across the shops that installed it, a shop's own ----------


@dataclass(frozen=True, slots=True)
class ConsoleOwner:
    """Whose endpoints a console page shows: an app's (``app_id``, across shops) or a shop's own (``shop_id``)."""

    app_id: str | None = None
    shop_id: str | None = None

    def __post_init__(self) -> None:
        if (self.app_id is None) == (self.shop_id is None):
            raise ValueError("a console shows one app's endpoints or one shop's own, not both or neither")


@dataclass(frozen=True, slots=True)
class ConsoleEndpoint:
    subscription: WebhookSubscription
    failed_deliveries: int  # failed and not sent again since, within the 14 days payloads are kept


def console_subscriptions_stmt(owner: ConsoleOwner) -> sa.Select[Any]:
    stmt = sa.select(WebhookSubscription)
    if owner.app_id is not None:
        installations = sa.select(Installation.id).where(Installation.app_id == owner.app_id)
        return stmt.where(WebhookSubscription.installation_id.in_(installations))
    return stmt.where(WebhookSubscription.shop_id == owner.shop_id, WebhookSubscription.installation_id.is_(None))


def console_endpoints(session: DbSession, owner: ConsoleOwner) -> list[ConsoleEndpoint]:
    """The owner's endpoints, oldest first, each with how many of its deliveries failed."""
    stmt = console_subscriptions_stmt(owner).order_by(WebhookSubscription.created_at, WebhookSubscription.id)
    subscriptions = list(session.scalars(stmt))
    if not subscriptions:
        return []
    ids = [s.id for s in subscriptions]
    failed = dict(
        session.execute(
            sa.select(WebhookDelivery.subscription_id, sa.func.count())
            .where(WebhookDelivery.subscription_id.in_(ids), WebhookDelivery.status == "failed")
            .group_by(WebhookDelivery.subscription_id)
        ).all()
    )
    return [ConsoleEndpoint(s, int(failed.get(s.id, 0))) for s in subscriptions]


def console_subscription(session: DbSession, owner: ConsoleOwner, subscription_id: str) -> WebhookSubscription:
    subscription = session.scalar(console_subscriptions_stmt(owner).where(WebhookSubscription.id == subscription_id))
    if subscription is None:
        raise errors.SubscriptionNotFound(f"No webhook endpoint {subscription_id} here.")
    return subscription


def console_deliveries_stmt(
    owner: ConsoleOwner, *, status: str | None = None, event_type: str | None = None
) -> sa.Select[Any]:
    """The delivery log of the owner's endpoints (filtered by status and event type)."""
    owned = console_subscriptions_stmt(owner).with_only_columns(WebhookSubscription.id)
    stmt = sa.select(WebhookDelivery).where(WebhookDelivery.subscription_id.in_(owned))
    if owner.shop_id is not None:
        stmt = stmt.where(WebhookDelivery.shop_id == owner.shop_id)
    if status:
        stmt = stmt.where(WebhookDelivery.status == status)
    if event_type:
        stmt = stmt.where(WebhookDelivery.event_type == event_type)
    return stmt


def console_delivery(session: DbSession, owner: ConsoleOwner, delivery_id: str) -> WebhookDelivery:
    delivery = session.scalar(console_deliveries_stmt(owner).where(WebhookDelivery.id == delivery_id))
    if delivery is None:
        raise errors.DeliveryNotFound(f"No webhook delivery {delivery_id} here.")
    return delivery


def _restart(delivery: WebhookDelivery, now: dt.datetime) -> None:
    delivery.status, delivery.next_attempt_at, delivery.round_start = "pending", now, delivery.attempts


def resend_delivery(
    session: DbSession, *, shop_id: str, delivery_id: str, installation_id: str | None, clock: Clock
) -> WebhookDelivery:
    """Send a delivery again now, same ``webhook-id`` (a run is queued after commit). A finished delivery
    gets a fresh retry schedule; a pending one is sent now instead of at its retry time."""
    delivery = get_delivery(session, shop_id=shop_id, delivery_id=delivery_id, installation_id=installation_id)
    _require_enabled(session, delivery.subscription_id)
    if delivery.status != "pending":
        _restart(delivery, clock.now())
    else:
        delivery.next_attempt_at = clock.now()
    session.flush()
    enqueue_once_after_commit(session, DELIVER_JOB)
    return delivery


def recover_failed(
    session: DbSession,
    *,
    shop_id: str,
    subscription_id: str,
    installation_id: str | None,
    since: dt.datetime,
    clock: Clock,
) -> list[str]:
    """Send again every failed delivery of a subscription created since ``since``; return their ids."""
    subscription = get_subscription(
        session, shop_id=shop_id, subscription_id=subscription_id, installation_id=installation_id
    )
    _require_enabled(session, subscription.id)
    now = clock.now()
    if since < now - PAYLOAD_RETENTION:
        detail = "Payloads are kept for 14 days: choose a time within them."
        raise errors.InvalidSubscription(detail, errors={"since": [detail]})
    failed = list(
        session.scalars(
            sa.select(WebhookDelivery).where(
                WebhookDelivery.subscription_id == subscription.id,
                WebhookDelivery.status == "failed",
                WebhookDelivery.created_at >= since,
            )
        )
    )
    for delivery in failed:
        _restart(delivery, now)
        enqueue_once_after_commit(session, DELIVER_JOB)
    session.flush()
    return [d.id for d in failed]


def send_test_event(
    session: DbSession, *, shop_id: str, subscription_id: str, installation_id: str | None, clock: Clock
) -> WebhookDelivery:
    """Queue a ``webhook.test`` delivery to one subscription (it never enters the shop's event log)."""
    subscription = get_subscription(
        session, shop_id=shop_id, subscription_id=subscription_id, installation_id=installation_id
    )
    _require_enabled(session, subscription.id)
    now = clock.now()
    data = {"subscription_id": subscription.id, "message": "A test event from Souk.", "version": 1}
    delivery = WebhookDelivery(
        shop_id=shop_id,
        subscription_id=subscription.id,
        event_id=None,
        event_type=TEST_EVENT_TYPE,
        body=message_body(event_type=TEST_EVENT_TYPE, created_at=now, shop_id=shop_id, data=data),
        next_attempt_at=now,
        created_at=now,
    )
    session.add(delivery)
    session.flush()
    enqueue_once_after_commit(session, DELIVER_JOB)
    return delivery


def _require_enabled(session: DbSession, subscription_id: str) -> None:
    subscription = session.get(WebhookSubscription, subscription_id)
    if subscription is None or subscription.status != "enabled":
        raise errors.SubscriptionDisabled("The subscription is disabled: enable it first (PATCH enabled=true).")


# -- privacy webhooks (customers.data_request, customers.redact, shop.redact) -------------------

SHOP_REDACT_AFTER = dt.timedelta(hours=48)
PRIVACY_REQUEST_KINDS = {"data_request": "customers.data_request", "redact": "customers.redact"}


def request_customer_privacy(
    session: DbSession, *, shop_id: str, customer_id: str, kind: str, clock: Clock
) -> dict[str, Any]:
    """Tell every app installed on the shop that a customer asks for their data (``kind="data_request"``)
    or for its erasure (``kind="redact"``). Returns the request as sent in ``data``.

    Souk only relays the request: each app answers or erases in its own systems.
    """
    customer = get_customer(session, shop_id=shop_id, customer_id=customer_id)
    orders = session.scalars(
        sa.select(Order.id).where(Order.shop_id == shop_id, Order.customer_id == customer.id).order_by(Order.id)
    )
    request = {
        "id": new_id("pvr"),
        "customer": {"id": customer.id, "email": customer.email, "phone": customer.phone},
        "orders_requested": list(orders),
        "requested_at": _rfc3339(clock.now()),
        "version": 1,
    }
    emit(
        session,
        shop_id=shop_id,
        type=PRIVACY_REQUEST_KINDS[kind],
        subject_type="customer",
        subject_id=customer.id,
        payload=request,
    )
    return request


def send_due_shop_redactions(session: DbSession, *, now: dt.datetime, limit: int = 500) -> list[str]:
    """Emit ``shop.redact`` for each installation uninstalled at least 48 h ago that has not had one
    since it was uninstalled; return the installation ids. Safe to run any number of times."""
    already = sa.exists().where(
        OutboxEvent.type == "shop.redact",
        OutboxEvent.subject_id == Installation.id,
        OutboxEvent.created_at >= Installation.uninstalled_at,
    )
    due = list(
        session.scalars(
            sa.select(Installation)
            .where(
                Installation.status == "uninstalled",
                Installation.uninstalled_at <= now - SHOP_REDACT_AFTER,
                ~already,
            )
            .order_by(Installation.uninstalled_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
    for installation in due:
        emit(
            session,
            shop_id=installation.shop_id,
            type="shop.redact",
            subject_type="installation",
            subject_id=installation.id,
            payload={
                "id": new_id("pvr"),
                "shop_id": installation.shop_id,
                "installation_id": installation.id,
                "uninstalled_at": _rfc3339(installation.uninstalled_at or now),
                "version": 1,
            },
        )
    session.flush()
    return [i.id for i in due]
