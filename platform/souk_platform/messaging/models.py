"""Message channels, templates and the messages sent through them (docs/architecture.md §5.11)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from souk_platform.db import Base, UTCDateTime, Versioned, created_column, id_column, shop_column, updated_column

# email: SMTP (built in) · inbox: the in-app inbox (built in) · app: a channel an installed app provides
CHANNEL_KINDS = ("email", "inbox", "app")
CHANNEL_STATUSES = ("active", "disabled", "retired")  # retired: its app was uninstalled
# queued → sent → delivered | failed | clicked; scheduled (quiet hours) waits for send_at; suppressed
# (frequency cap) is never sent.
MESSAGE_STATUSES = ("scheduled", "queued", "sent", "delivered", "failed", "clicked", "suppressed")
# What an app may report for a message on its channel.
REPORTED_STATUSES = ("delivered", "failed", "clicked")


class MessageChannel(Versioned, Base):
    """One way to reach a customer. The built-in email and inbox channels exist once per shop; each
    message channel an installed app's manifest declares is one more (kind ``app``)."""

    __tablename__ = "message_channels"
    __table_args__ = (sa.UniqueConstraint("shop_id", "installation_id", "key"),)

    id: Mapped[str] = id_column("mch")
    shop_id: Mapped[str] = shop_column()
    kind: Mapped[str] = mapped_column(sa.String(16))
    name: Mapped[str] = mapped_column(sa.String(100))
    status: Mapped[str] = mapped_column(sa.String(16), default="active")
    # email: {"from_address", "from_name"}; inbox and app: {} (the app's name and key are columns)
    config: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Who provides it ("" for Souk itself, else the app's installation) and its key there: "email" and
    # "inbox" for the built-ins, the channel id for an email channel the merchant added, the manifest's key.
    installation_id: Mapped[str] = mapped_column(sa.String(64), default="")
    key: Mapped[str] = mapped_column(sa.String(64))
    # Messages one customer may receive on this channel per shop-local day (None: no cap).
    daily_cap: Mapped[int | None] = mapped_column(sa.Integer)
    created_at: Mapped[dt.datetime] = created_column()
    updated_at: Mapped[dt.datetime] = updated_column()


class MessageTemplate(Versioned, Base):
    """A subject and body for one channel kind, rendered in the sandbox with a fixed set of variables
    plus those the template declares (``variables``) for callers to give."""

    __tablename__ = "message_templates"

    id: Mapped[str] = id_column("mtp")
    shop_id: Mapped[str] = shop_column()
    name: Mapped[str] = mapped_column(sa.String(100))
    channel_kind: Mapped[str] = mapped_column(sa.String(16))
    subject: Mapped[str] = mapped_column(sa.String(500), default="")
    body: Mapped[str] = mapped_column(sa.Text)
    variables: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[dt.datetime] = created_column()
    updated_at: Mapped[dt.datetime] = updated_column()


class Message(Versioned, Base):
    """One message to one customer on one channel, as rendered when it was asked for."""

    __tablename__ = "messages"
    __table_args__ = (
        sa.UniqueConstraint("shop_id", "idempotency_key"),
        sa.Index("ix_messages_customer_channel_created", "customer_id", "channel_id", "created_at"),
        sa.Index("ix_messages_status_send_at", "status", "send_at"),
        sa.Index("ix_messages_shop_created", "shop_id", "created_at"),  # the engagement report's period
    )

    id: Mapped[str] = id_column("mes")
    shop_id: Mapped[str] = shop_column()
    customer_id: Mapped[str] = mapped_column(sa.ForeignKey("customers.id"))
    channel_id: Mapped[str] = mapped_column(sa.ForeignKey("message_channels.id"), index=True)
    template_id: Mapped[str | None] = mapped_column(sa.ForeignKey("message_templates.id"), index=True)
    channel_kind: Mapped[str] = mapped_column(sa.String(16))
    subject: Mapped[str] = mapped_column(sa.String(500), default="")
    body: Mapped[str] = mapped_column(sa.Text)
    # The address used (email) when the message was made, so a later change does not redirect it.
    recipient: Mapped[str | None] = mapped_column(sa.String(320))
    status: Mapped[str] = mapped_column(sa.String(16))
    reason: Mapped[str | None] = mapped_column(sa.String(500))  # why suppressed or failed
    source: Mapped[str] = mapped_column(sa.String(32))  # api, journey, manual, demo, …
    source_id: Mapped[str | None] = mapped_column(sa.String(64))
    idempotency_key: Mapped[str] = mapped_column(sa.String(200))
    attempts: Mapped[int] = mapped_column(sa.Integer, default=0)
    send_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())  # scheduled, or an email's next try
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    clicked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    failed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    read_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())  # inbox only
    created_at: Mapped[dt.datetime] = created_column()
    updated_at: Mapped[dt.datetime] = updated_column()
