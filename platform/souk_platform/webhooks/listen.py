"""Developer tooling over an app token: send test events, and hand the app's deliveries to a listening CLI.

``souk-dev webhooks listen`` opens a listen session and long-polls it; each poll returns the app's
deliveries created since the session opened that this session has not returned yet, each signed
afresh with its endpoint's secrets (same ``webhook-id``, the secrets production uses), so the
developer's local handler verifies them exactly as it would in production.

Why no hook in the dispatcher: the deliveries table already keeps every body for 14 days, so the
poll reads it directly and records which deliveries it handed out (``webhook_listen_events``).
Matching on ids already handed out, not on a time cursor, means a delivery committed late with an
earlier ``created_at`` is still found. Deliveries still go to the production endpoints as well.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import marshmallow as ma
import sqlalchemy as sa
from flask import current_app, g
from flask.views import MethodView
from sqlalchemy.orm import Mapped, mapped_column

from souk_platform.api import transactional
from souk_platform.api.parsing import Blueprint
from souk_platform.apps.models import App, Installation
from souk_platform.core.clock import Clock
from souk_platform.core.errors import Conflict, NotFound, SoukError, Unprocessable
from souk_platform.db import Base, DbSession, UTCDateTime, created_column, db, id_column
from souk_platform.jobs.runner import enqueue_once_after_commit
from souk_platform.oauth.api import requires_app_token
from souk_platform.webhooks import catalogue
from souk_platform.webhooks.app_endpoints import (
    app_webhook_secret,
    previous_app_webhook_secret,
    rotate_app_webhook_secret,
)
from souk_platform.webhooks.models import WebhookDelivery, WebhookSubscription
from souk_platform.webhooks.runtime import runtime_for
from souk_platform.webhooks.secret_box import SecretBox
from souk_platform.webhooks.services import (
    DELIVER_JOB,
    TEST_EVENT_TYPE,
    message_body,
    signing_secrets,
    topic_matches,
)
from souk_platform.webhooks.signing import webhook_headers

SESSION_IDLE_LIMIT = dt.timedelta(minutes=10)  # a session nobody polled for this long is gone
MAX_WAIT_SECONDS = 30
POLL_INTERVAL_SECONDS = 0.25
MAX_EVENTS_PER_POLL = 100


class WebhookListenSession(Base):
    """A CLI listening to one app's deliveries; ``last_poll_at`` is its heartbeat."""

    __tablename__ = "webhook_listen_sessions"

    id: Mapped[str] = id_column("wls")
    app_id: Mapped[str] = mapped_column(sa.ForeignKey("apps.id"), index=True)
    created_at: Mapped[dt.datetime] = created_column()
    last_poll_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class WebhookListenEvent(Base):
    """A delivery a listen session has handed out (so the next poll skips it)."""

    __tablename__ = "webhook_listen_events"

    session_id: Mapped[str] = mapped_column(sa.ForeignKey("webhook_listen_sessions.id"), primary_key=True)
    # No foreign key: deliveries are purged after 14 days, this row may outlive them.
    delivery_id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    taken_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class ListenSessionNotFound(NotFound):
    code = "webhook-listen-session-not-found"
    title = "No such listen session"


class ListenSessionExpired(SoukError):
    status = 410
    code = "webhook-listen-session-expired"
    title = "The listen session has expired"


class UnknownEventType(Unprocessable):
    code = "webhook-event-type-unknown"
    title = "Unknown event type"


class NoWebhookEndpoints(Conflict):
    code = "webhook-endpoints-missing"
    title = "No webhook endpoint receives this event type"


# -- services ---------------------------------------------------------------------------------


def _app_subscriptions(app_id: str) -> sa.Select[Any]:
    """Enabled subscriptions of the app's active installations."""
    return (
        sa.select(WebhookSubscription)
        .join(Installation, Installation.id == WebhookSubscription.installation_id)
        .where(
            Installation.app_id == app_id,
            Installation.status == "active",
            WebhookSubscription.status == "enabled",
        )
        .order_by(WebhookSubscription.created_at, WebhookSubscription.id)
    )


def sample_of(schema: dict[str, Any], *, at: dt.datetime) -> Any:
    """A value of the shape a catalogue ``data`` schema describes (placeholders, ``version`` 1)."""
    kind = schema.get("type")
    kinds = kind if isinstance(kind, list) else [kind]
    if "object" in kinds:
        properties: dict[str, Any] = schema.get("properties") or {}
        return {name: 1 if name == "version" else sample_of(sub, at=at) for name, sub in properties.items()}
    if "array" in kinds:
        return []
    if "string" in kinds:
        if schema.get("format") == "date-time":
            return at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
        return "test"
    if "integer" in kinds:
        return 0
    if "boolean" in kinds:
        return False
    return None


def send_app_test_event(session: DbSession, *, app_id: str, event_type: str, clock: Clock) -> list[WebhookDelivery]:
    """Queue a signed ``event_type``-shaped test delivery to each endpoint of the app subscribed to it.

    The data are placeholders with ``"test": true``; the event never enters any shop's event log.
    """
    entry = catalogue.CATALOGUE.get(event_type) if event_type != TEST_EVENT_TYPE else catalogue.TEST_EVENT
    if entry is None:
        detail = f"{event_type!r} is not an event type of the catalogue (they look like order.paid)."
        raise UnknownEventType(detail, errors={"type": [detail]})
    subscriptions = list(session.scalars(_app_subscriptions(app_id)))
    targets = [s for s in subscriptions if event_type == TEST_EVENT_TYPE or topic_matches(s.topics, event_type)]
    if not targets:
        raise NoWebhookEndpoints(
            f"None of the app's {len(subscriptions)} enabled webhook endpoints (on the shops that installed it) "
            f"subscribes to {event_type}: create a subscription with that topic using an installation token."
        )
    now = clock.now()
    data = sample_of(entry.data, at=now)
    data["test"] = True
    deliveries = [
        WebhookDelivery(
            shop_id=subscription.shop_id,
            subscription_id=subscription.id,
            event_id=None,
            event_type=event_type,
            body=message_body(event_type=event_type, created_at=now, shop_id=subscription.shop_id, data=data),
            next_attempt_at=now,
            created_at=now,
        )
        for subscription in targets
    ]
    session.add_all(deliveries)
    session.flush()
    enqueue_once_after_commit(session, DELIVER_JOB)
    return deliveries


def open_listen_session(session: DbSession, *, app_id: str, now: dt.datetime) -> WebhookListenSession:
    """Start listening to the app's deliveries from ``now`` on; forget the app's long-idle sessions."""
    idle = sa.select(WebhookListenSession.id).where(
        WebhookListenSession.app_id == app_id, WebhookListenSession.last_poll_at < now - SESSION_IDLE_LIMIT
    )
    session.execute(sa.delete(WebhookListenEvent).where(WebhookListenEvent.session_id.in_(idle)))
    session.execute(
        sa.delete(WebhookListenSession).where(
            WebhookListenSession.app_id == app_id, WebhookListenSession.last_poll_at < now - SESSION_IDLE_LIMIT
        )
    )
    listen = WebhookListenSession(app_id=app_id, created_at=now, last_poll_at=now)
    session.add(listen)
    session.flush()
    return listen


def count_endpoints(session: DbSession, *, app_id: str) -> int:
    return int(session.scalar(sa.select(sa.func.count()).select_from(_app_subscriptions(app_id).subquery())) or 0)


def take_listen_events(
    session: DbSession, *, app_id: str, session_id: str, box: SecretBox, now: dt.datetime
) -> list[dict[str, Any]]:
    """The app's deliveries this session has not handed out yet, signed now; marks them handed out.

    Another app's session is a 404; one idle for longer than ``SESSION_IDLE_LIMIT`` is 410. The
    session row is locked, so two polls of one session never hand out the same delivery twice.
    """
    listen = session.scalar(
        sa.select(WebhookListenSession)
        .where(WebhookListenSession.id == session_id, WebhookListenSession.app_id == app_id)
        .with_for_update()
    )
    if listen is None:
        raise ListenSessionNotFound(f"No listen session {session_id} for this app.")
    if listen.last_poll_at < now - SESSION_IDLE_LIMIT:
        raise ListenSessionExpired("Nobody polled this session for 10 minutes: open a new one.")
    listen.last_poll_at = now
    taken = sa.select(WebhookListenEvent.delivery_id).where(WebhookListenEvent.session_id == listen.id)
    endpoints = _app_subscriptions(app_id).with_only_columns(WebhookSubscription.id).order_by(None)
    rows = session.execute(
        sa.select(WebhookDelivery, WebhookSubscription)
        .join(WebhookSubscription, WebhookSubscription.id == WebhookDelivery.subscription_id)
        .where(
            WebhookDelivery.subscription_id.in_(endpoints),
            WebhookDelivery.created_at >= listen.created_at,
            WebhookDelivery.id.not_in(taken),
        )
        .order_by(WebhookDelivery.created_at, WebhookDelivery.id)
        .limit(MAX_EVENTS_PER_POLL)
    ).all()
    events: list[dict[str, Any]] = []
    secrets: dict[str, list[str]] = {}
    for delivery, subscription in rows:
        if subscription.id not in secrets:
            secrets[subscription.id] = signing_secrets(subscription, box=box, now=now)
        body = delivery.body.encode()
        headers = {
            "content-type": "application/json",
            **webhook_headers(secrets[subscription.id], msg_id=delivery.id, at=now, body=body),
        }
        events.append(
            {
                "id": delivery.id,
                "type": delivery.event_type,
                "shop_id": delivery.shop_id,
                "subscription_id": subscription.id,
                "endpoint_url": subscription.url,
                "created_at": delivery.created_at,
                "headers": headers,
                "body": delivery.body,
            }
        )
    if events:
        session.execute(
            sa.insert(WebhookListenEvent),
            [{"session_id": listen.id, "delivery_id": event["id"], "taken_at": now} for event in events],
        )
    session.flush()
    return events


# -- API ----------------------------------------------------------------------------------------

blp = Blueprint(
    "app_webhooks",
    __name__,
    url_prefix="/app/webhooks",
    description=(
        "Webhook tools for developers (app token): the app's webhook secret, test events and listen sessions "
        "for the CLI"
    ),
)


class AppWebhookSecretSchema(ma.Schema):
    secret = ma.fields.String(
        metadata={"description": "The whsec_ secret signing deliveries to the endpoints the app's manifest declares"}
    )
    previous_secret = ma.fields.String(
        allow_none=True, metadata={"description": "The secret being rotated out, while it still signs too"}
    )
    previous_secret_expires_at = ma.fields.DateTime(allow_none=True)


def _secret_view(app: App) -> dict[str, Any]:
    box = runtime_for(current_app).box
    secret = app_webhook_secret(db.session, app=app, box=box)
    previous = previous_app_webhook_secret(app, box=box, now=_clock().now())
    return {
        "secret": secret,
        "previous_secret": previous,
        "previous_secret_expires_at": app.previous_webhook_secret_expires_at if previous else None,
    }


@blp.route("/secret")
class AppWebhookSecret(MethodView):
    @requires_app_token
    @transactional
    @blp.response(200, AppWebhookSecretSchema)
    def get(self) -> Any:
        """The app's webhook secret (issued on first read): verify deliveries to the manifest's endpoints with it"""
        return _secret_view(g.calling_app)


@blp.route("/secret/rotate")
class AppWebhookSecretRotation(MethodView):
    @requires_app_token
    @transactional
    @blp.response(201, AppWebhookSecretSchema)
    def post(self) -> Any:
        """A new webhook secret for the app; the current one keeps signing beside it for 24 hours"""
        app: App = g.calling_app
        rotate_app_webhook_secret(db.session, app=app, box=runtime_for(current_app).box, now=_clock().now())
        return _secret_view(app)


class TriggerSchema(ma.Schema):
    type = ma.fields.String(
        required=True,
        validate=ma.validate.Length(1, 100),
        metadata={"description": "A catalogue event type, e.g. order.paid (or webhook.test)"},
    )


class TriggeredDeliverySchema(ma.Schema):
    id = ma.fields.String(metadata={"description": "The delivery id (its webhook-id)"})
    shop_id = ma.fields.String()
    subscription_id = ma.fields.String()
    url = ma.fields.String()


class TriggerResultSchema(ma.Schema):
    type = ma.fields.String()
    deliveries = ma.fields.List(ma.fields.Nested(TriggeredDeliverySchema))


class ListenSessionSchema(ma.Schema):
    id = ma.fields.String()
    app_id = ma.fields.String()
    created_at = ma.fields.DateTime()
    endpoint_count = ma.fields.Integer(metadata={"description": "Enabled endpoints of the app's installations"})
    idle_limit_seconds = ma.fields.Integer()


class ListenArgsSchema(ma.Schema):
    wait = ma.fields.Integer(
        load_default=0,
        validate=ma.validate.Range(0, MAX_WAIT_SECONDS),
        metadata={"description": "Seconds to wait for an event when none is queued (long poll)"},
    )


class ListenEventSchema(ma.Schema):
    id = ma.fields.String(metadata={"description": "The delivery id, also the webhook-id header"})
    type = ma.fields.String()
    shop_id = ma.fields.String()
    subscription_id = ma.fields.String()
    endpoint_url = ma.fields.String(metadata={"description": "The production endpoint it is also sent to"})
    created_at = ma.fields.DateTime()
    headers = ma.fields.Dict(
        keys=ma.fields.String(), values=ma.fields.String(), metadata={"description": "Standard Webhooks headers"}
    )
    body = ma.fields.String(metadata={"description": "The exact body the signature covers"})


class ListenEventPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(ListenEventSchema))


def _clock() -> Clock:
    clock: Clock = current_app.extensions["souk.clock"]
    return clock


@blp.route("/test")
class AppWebhookTrigger(MethodView):
    @requires_app_token
    @transactional
    @blp.arguments(TriggerSchema)
    @blp.response(201, TriggerResultSchema)
    @blp.alt_response(409, description="No endpoint of the app's installations subscribes to the type")
    @blp.alt_response(422, description="Not an event type of the catalogue")
    def post(self, body: dict[str, Any]) -> Any:
        """Send a signed test delivery of an event type to every endpoint of the app subscribed to it"""
        app: App = g.calling_app
        deliveries = send_app_test_event(db.session, app_id=app.id, event_type=body["type"], clock=_clock())
        urls = {s.id: s.url for s in db.session.scalars(_app_subscriptions(app.id))}
        return {
            "type": body["type"],
            "deliveries": [
                {"id": d.id, "shop_id": d.shop_id, "subscription_id": d.subscription_id, "url": urls[d.subscription_id]}
                for d in deliveries
            ],
        }


@blp.route("/listen-sessions")
class ListenSessions(MethodView):
    @requires_app_token
    @transactional
    @blp.response(201, ListenSessionSchema)
    def post(self) -> Any:
        """Open a listen session: from now on, the app's deliveries are also handed to whoever polls it"""
        app: App = g.calling_app
        listen = open_listen_session(db.session, app_id=app.id, now=_clock().now())
        return {
            "id": listen.id,
            "app_id": app.id,
            "created_at": listen.created_at,
            "endpoint_count": count_endpoints(db.session, app_id=app.id),
            "idle_limit_seconds": int(SESSION_IDLE_LIMIT.total_seconds()),
        }


@blp.route("/listen-sessions/<listen_session_id>/events")
class ListenSessionEvents(MethodView):
    @requires_app_token
    @blp.arguments(ListenArgsSchema, location="query")
    @blp.response(200, ListenEventPageSchema)
    @blp.alt_response(404, description="No such session for this app")
    @blp.alt_response(410, description="The session was idle too long: open a new one")
    def get(self, args: dict[str, Any], listen_session_id: str) -> Any:
        """The deliveries not yet handed to this session; waits up to `wait` seconds for one (long poll)"""
        app: App = g.calling_app
        box = runtime_for(current_app).box
        deadline = time.monotonic() + args["wait"]
        while True:
            try:
                events = take_listen_events(
                    db.session, app_id=app.id, session_id=listen_session_id, box=box, now=_clock().now()
                )
            except BaseException:
                db.session.rollback()
                raise
            # Commit each round: it records what was handed out and releases the session's row lock.
            db.session.commit()
            if events or time.monotonic() >= deadline:
                return {"items": events}
            time.sleep(POLL_INTERVAL_SECONDS)
