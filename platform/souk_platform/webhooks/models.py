from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from souk_platform.db import Base, UTCDateTime, Versioned, created_column, id_column, shop_column


class WebhookSubscription(Versioned, Base):
    """An HTTPS endpoint receiving a shop's events, owned by an app installation or by the shop itself.

    The signing secret is stored sealed (see ``secret_box``); during a rotation the previous one keeps
    signing too until ``previous_secret_expires_at``.
    """

    __tablename__ = "webhook_subscriptions"

    id: Mapped[str] = id_column("whs")
    shop_id: Mapped[str] = shop_column()
    installation_id: Mapped[str | None] = mapped_column(sa.String(64), index=True)  # None: the shop's own
    url: Mapped[str] = mapped_column(sa.String(2048))
    description: Mapped[str] = mapped_column(sa.String(200), default="")
    # "api": made through the API or console; "manifest": declared by the app (webhooks.app_endpoints).
    source: Mapped[str] = mapped_column(sa.String(16), default="api", server_default="api")
    topics: Mapped[list[Any]] = mapped_column()  # event types, "order.*" or "*"
    status: Mapped[str] = mapped_column(sa.String(16), default="enabled")  # "enabled" | "disabled"
    disabled_reason: Mapped[str | None] = mapped_column(sa.String(200))
    secret_sealed: Mapped[str] = mapped_column(sa.Text)
    previous_secret_sealed: Mapped[str | None] = mapped_column(sa.Text)
    previous_secret_expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    failing_since: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())  # first failure of the streak
    created_at: Mapped[dt.datetime] = created_column()


class WebhookDelivery(Base):
    """One event for one subscription. Its id is the ``webhook-id`` header, stable across retries.

    ``next_attempt_at`` is both the retry timer and the claim: a worker pushes it forward before
    sending, so a worker killed mid-send leaves a delivery the sweeper finds overdue.
    """

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        sa.UniqueConstraint("event_id", "subscription_id"),
        sa.Index("ix_webhook_deliveries_status_next_attempt_at", "status", "next_attempt_at"),
        sa.Index("ix_webhook_deliveries_shop_id_created_at", "shop_id", "created_at"),
    )

    id: Mapped[str] = id_column("msg")
    shop_id: Mapped[str] = shop_column()
    subscription_id: Mapped[str] = mapped_column(sa.ForeignKey("webhook_subscriptions.id"), index=True)
    event_id: Mapped[str | None] = mapped_column(sa.String(64))  # None for test events
    event_type: Mapped[str] = mapped_column(sa.String(100))
    body: Mapped[str] = mapped_column(sa.Text)  # the exact JSON sent, kept for resend (14 days)
    status: Mapped[str] = mapped_column(sa.String(16), default="pending")  # pending | succeeded | failed
    attempts: Mapped[int] = mapped_column(sa.Integer, default=0)
    round_start: Mapped[int] = mapped_column(sa.Integer, default=0)  # ``attempts`` when the last (re)send began
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    last_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(sa.String(500))
    created_at: Mapped[dt.datetime] = created_column()


class WebhookAttempt(Base):
    """One HTTP request of a delivery and what came back."""

    __tablename__ = "webhook_attempts"

    id: Mapped[str] = id_column("wha")
    delivery_id: Mapped[str] = mapped_column(sa.ForeignKey("webhook_deliveries.id"), index=True)
    shop_id: Mapped[str] = shop_column()
    attempted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    url: Mapped[str] = mapped_column(sa.String(2048))
    request_headers: Mapped[dict[str, Any]] = mapped_column()
    request_body: Mapped[str] = mapped_column(sa.Text)
    response_status: Mapped[int | None] = mapped_column(sa.Integer)
    response_body: Mapped[str | None] = mapped_column(sa.Text)  # the first 4 KiB
    latency_ms: Mapped[int] = mapped_column(sa.Integer)
    error: Mapped[str | None] = mapped_column(sa.String(500))
