"""Routing an event to the subscriptions that get it: topics, the owning app's scopes and state, privacy."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import sqlalchemy as sa

from souk_platform.apps.models import Installation
from souk_platform.auth.scopes import grants
from souk_platform.core.ids import issued_at_millis
from souk_platform.db import DbSession
from souk_platform.webhooks import catalogue
from souk_platform.webhooks.models import WebhookSubscription
from souk_platform.webhooks.services.subscriptions import required_scope, topic_matches


class RoutedEvent(Protocol):
    """What routing reads of an outbox event (the dispatcher passes the columns, not ORM instances)."""

    @property
    def id(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def subject_type(self) -> str: ...
    @property
    def subject_id(self) -> str: ...
    @property
    def payload(self) -> dict[str, Any]: ...


# Events addressed to one installation, named by the payload's ``installation_id``: a message on an app's
# channel goes to that app only (docs/architecture.md §5.11), an app's points-mall item to the app that
# delivers it (§5.14), if its grant allows the event's scope.
ADDRESSED_TYPES = frozenset({"message.send_requested", "points_mall.fulfilment_requested"})


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


def route(event: RoutedEvent, endpoints: list[Endpoint]) -> list[tuple[WebhookSubscription, str]]:
    """Which subscriptions get ``event``, and as which catalogue type (its own or a derived one).

    - The shop's own subscriptions get whatever their topics match.
    - An active app's subscriptions get what their topics match and the installation's scopes allow.
    - ``app.*`` events about an installation go to that app only (``app.uninstalled`` included).
    - ``ADDRESSED_TYPES`` go to the installation their payload names only.
    - Privacy events go to one subscription of every app concerned, whatever it subscribed to.
    - A subscription gets only events emitted once it existed, however late the dispatcher runs.
    """
    endpoints = [endpoint for endpoint in endpoints if _existed_when_emitted(endpoint.subscription, event)]
    entry = catalogue.CATALOGUE.get(event.type)
    if entry is not None and entry.privacy:
        return _route_privacy(event, endpoints)
    names = catalogue.delivered_types(event.type, event.payload)
    addressed_to = event.payload.get("installation_id") if event.type in ADDRESSED_TYPES else None
    routed: list[tuple[WebhookSubscription, str]] = []
    for endpoint in endpoints:
        subscription = endpoint.subscription
        if event.type in ADDRESSED_TYPES and subscription.installation_id != addressed_to:
            continue  # addressed to one app: neither other apps nor the shop's own endpoints hear it
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


def _existed_when_emitted(subscription: WebhookSubscription, event: RoutedEvent) -> bool:
    """Whether ``subscription`` was made no later than ``event`` (to the millisecond of their ids).

    The ids are the one clock both rows share (``created_at`` of an event is not the app's clock).
    Without this, an event still waiting in the outbox when an endpoint is added went to it too.
    """
    made, emitted = issued_at_millis(subscription.id), issued_at_millis(event.id)
    return made is None or emitted is None or made <= emitted


def _route_privacy(event: RoutedEvent, endpoints: list[Endpoint]) -> list[tuple[WebhookSubscription, str]]:
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
