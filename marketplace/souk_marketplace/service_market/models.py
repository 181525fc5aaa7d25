"""Providers, their services and packages, and service orders with milestones, timeline, files and ratings.

Money is integer minor units (fen) with a currency. An order copies what it bought (title, package,
price, milestones) so later edits of the service never change an order already placed.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from souk_platform.db import ID_LENGTH, Base, UTCDateTime, Versioned, created_column, id_column, shop_column, utcnow

CATEGORIES = ("operations", "solutions", "customer_service", "design", "development")
PACKAGE_KINDS = ("small", "project")


class ServiceProvider(Versioned, Base):
    """A user's provider profile: the role that lets them list services and take orders."""

    __tablename__ = "service_providers"

    id: Mapped[str] = id_column("prv")
    user_id: Mapped[str] = mapped_column(sa.ForeignKey("users.id"), unique=True)
    display_name: Mapped[str] = mapped_column(sa.String(100))
    bio: Mapped[str] = mapped_column(sa.Text, default="")
    categories: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[dt.datetime] = created_column()


class Service(Versioned, Base):
    """One service a provider sells; ``status`` hidden takes it out of the catalogue."""

    __tablename__ = "market_services"
    __table_args__ = (sa.Index("ix_market_services_status_category", "status", "category"),)

    id: Mapped[str] = id_column("svc")
    provider_id: Mapped[str] = mapped_column(sa.ForeignKey("service_providers.id"), index=True)
    category: Mapped[str] = mapped_column(sa.String(32))
    title: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    status: Mapped[str] = mapped_column(sa.String(16), default="active")  # active | hidden
    created_at: Mapped[dt.datetime] = created_column()

    provider: Mapped[ServiceProvider] = relationship(lazy="joined")
    packages: Mapped[list[ServicePackage]] = relationship(
        order_by="ServicePackage.position",
        primaryjoin="and_(ServicePackage.service_id == Service.id, ServicePackage.archived_at.is_(None))",
        viewonly=True,
    )


class ServicePackage(Base):
    """A priced offer of a service. Immutable: editing a service archives its packages and adds new ones.

    ``milestones`` (project packages only): ``[{title, amount, delivery_days}]``, amounts summing to
    ``price`` and days to ``delivery_days``.
    """

    __tablename__ = "service_packages"

    id: Mapped[str] = id_column("pkg")
    service_id: Mapped[str] = mapped_column(sa.ForeignKey("market_services.id"), index=True)
    position: Mapped[int] = mapped_column(sa.Integer, default=0)
    name: Mapped[str] = mapped_column(sa.String(100))
    description: Mapped[str] = mapped_column(sa.String(1000), default="")
    kind: Mapped[str] = mapped_column(sa.String(16))  # small | project
    price: Mapped[int] = mapped_column(sa.BigInteger)
    currency: Mapped[str] = mapped_column(sa.String(3))
    delivery_days: Mapped[int] = mapped_column(sa.Integer)
    revisions: Mapped[int] = mapped_column(sa.Integer)  # revisions included per delivery
    milestones: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[dt.datetime] = created_column()
    archived_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class PortfolioItem(Base):
    """Past work a provider shows: a title, text, a link and/or an image (PNG, JPEG or WebP)."""

    __tablename__ = "service_portfolio_items"

    id: Mapped[str] = id_column("pfi")
    provider_id: Mapped[str] = mapped_column(sa.ForeignKey("service_providers.id"), index=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    text: Mapped[str] = mapped_column(sa.Text, default="")
    link: Mapped[str | None] = mapped_column(sa.String(500))
    image_type: Mapped[str | None] = mapped_column(sa.String(50))
    image: Mapped[bytes | None] = deferred(mapped_column(sa.LargeBinary))
    created_at: Mapped[dt.datetime] = created_column()


class ServiceOrder(Versioned, Base):
    """A merchant's order of one package. ``state`` moves only through ``states.transition``.

    Escrow: the price sits in the ledger account ``escrow.service_order`` (owner = this id) from
    placing until it is released to the provider or refunded to the shop; ``released_total``,
    ``fee_total`` and ``refunded_total`` say where it went.
    """

    __tablename__ = "service_orders"
    __table_args__ = (sa.Index("ix_service_orders_shop_state", "shop_id", "state"),)

    id: Mapped[str] = id_column("svo")
    shop_id: Mapped[str] = shop_column()  # the buyer
    provider_id: Mapped[str] = mapped_column(sa.ForeignKey("service_providers.id"), index=True)
    provider_user_id: Mapped[str] = mapped_column(sa.String(ID_LENGTH))  # owner of the earnings account
    service_id: Mapped[str] = mapped_column(sa.ForeignKey("market_services.id"), index=True)
    package_id: Mapped[str] = mapped_column(sa.ForeignKey("service_packages.id"))
    service_title: Mapped[str] = mapped_column(sa.String(200))
    package_name: Mapped[str] = mapped_column(sa.String(100))
    kind: Mapped[str] = mapped_column(sa.String(16))
    amount: Mapped[int] = mapped_column(sa.BigInteger)
    currency: Mapped[str] = mapped_column(sa.String(3))
    revisions_included: Mapped[int] = mapped_column(sa.Integer)
    fee_bps: Mapped[int] = mapped_column(sa.Integer)  # the platform fee agreed when the order was placed
    state: Mapped[str] = mapped_column(sa.String(32), index=True)
    placed_by: Mapped[str | None] = mapped_column(sa.String(ID_LENGTH))  # user id (page) or token id (API)
    requirements: Mapped[str | None] = mapped_column(sa.Text)
    # The current milestone's clock (copied from it so timers and pages read one row).
    due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    review_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), index=True)
    clearing_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), index=True)
    # Disputes: who may do what until when, and the standing offer in mediation.
    dispute_from: Mapped[str | None] = mapped_column(sa.String(32))
    dispute_reason: Mapped[str | None] = mapped_column(sa.Text)
    answer_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), index=True)
    mediation_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), index=True)
    offer_by: Mapped[str | None] = mapped_column(sa.String(16))  # buyer | provider
    offer_refund: Mapped[int | None] = mapped_column(sa.BigInteger)  # fen the offer gives back to the buyer
    released_total: Mapped[int] = mapped_column(sa.BigInteger, default=0)  # gross, fees included
    fee_total: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    refunded_total: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    created_at: Mapped[dt.datetime] = created_column()
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    milestones: Mapped[list[ServiceMilestone]] = relationship(
        order_by="ServiceMilestone.position", cascade="all, delete-orphan"
    )
    files: Mapped[list[ServiceFile]] = relationship(order_by="ServiceFile.id", viewonly=True)
    extensions: Mapped[list[ServiceExtension]] = relationship(order_by="ServiceExtension.id", viewonly=True)
    rating: Mapped[ServiceRating | None] = relationship(viewonly=True)

    @property
    def held(self) -> int:
        """Fen still in escrow."""
        return self.amount - self.released_total - self.refunded_total

    @property
    def pending_extension(self) -> ServiceExtension | None:
        return next((e for e in self.extensions if e.state == "pending"), None)

    @property
    def offer(self) -> dict[str, Any] | None:
        """The split standing in mediation: who offered it and the fen it gives back to the buyer."""
        if self.offer_by is None or self.offer_refund is None:
            return None
        return {"by": self.offer_by, "refund": self.offer_refund, "release": self.held - self.offer_refund}

    @property
    def current_milestone(self) -> ServiceMilestone | None:
        """The milestone being worked on, delivered or reviewed (None once all are done)."""
        return next((m for m in self.milestones if m.state in ("in_progress", "delivered")), None)


class ServiceMilestone(Base):
    """A unit of delivery and acceptance. A small order has one; a project has its package's milestones.

    States: pending → in_progress → delivered → accepted → released; cancelled (its money went back
    with the order's cancellation) or resolved (a dispute's outcome split what was held).
    """

    __tablename__ = "service_milestones"

    id: Mapped[str] = id_column("svm")
    order_id: Mapped[str] = mapped_column(sa.ForeignKey("service_orders.id"), index=True)
    shop_id: Mapped[str] = shop_column()
    position: Mapped[int] = mapped_column(sa.Integer)
    title: Mapped[str] = mapped_column(sa.String(200))
    amount: Mapped[int] = mapped_column(sa.BigInteger)
    delivery_days: Mapped[int] = mapped_column(sa.Integer)
    state: Mapped[str] = mapped_column(sa.String(16), default="pending")
    revisions_used: Mapped[int] = mapped_column(sa.Integer, default=0)
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    accepted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    released_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class ServiceExtension(Base):
    """A provider's request for more days on the current milestone: pending → accepted | declined | expired."""

    __tablename__ = "service_extensions"

    id: Mapped[str] = id_column("sxt")
    order_id: Mapped[str] = mapped_column(sa.ForeignKey("service_orders.id"), index=True)
    shop_id: Mapped[str] = shop_column()
    milestone_id: Mapped[str] = mapped_column(sa.ForeignKey("service_milestones.id"))
    days: Mapped[int] = mapped_column(sa.Integer)
    reason: Mapped[str] = mapped_column(sa.String(1000))
    state: Mapped[str] = mapped_column(sa.String(16), default="pending")
    requested_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class ServiceOrderEvent(Base):
    """One line of an order's timeline: a state change, a message, a file, an extension or a dispute step."""

    __tablename__ = "service_order_events"

    id: Mapped[str] = id_column("sve")
    order_id: Mapped[str] = mapped_column(sa.ForeignKey("service_orders.id"), index=True)
    shop_id: Mapped[str] = shop_column()
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor: Mapped[str] = mapped_column(sa.String(16))  # buyer | provider | admin | system
    user_id: Mapped[str | None] = mapped_column(sa.String(ID_LENGTH))
    kind: Mapped[str] = mapped_column(sa.String(40))  # "state" or what happened
    from_state: Mapped[str | None] = mapped_column(sa.String(32))
    to_state: Mapped[str | None] = mapped_column(sa.String(32))
    note: Mapped[str | None] = mapped_column(sa.Text)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)


class ServiceFile(Base):
    """A file on an order (a deliverable or an attachment), kept in the database; only the parties and
    platform admins may download it."""

    __tablename__ = "service_files"

    id: Mapped[str] = id_column("sfl")
    order_id: Mapped[str] = mapped_column(sa.ForeignKey("service_orders.id"), index=True)
    shop_id: Mapped[str] = shop_column()
    milestone_id: Mapped[str | None] = mapped_column(sa.String(ID_LENGTH))
    uploaded_by: Mapped[str] = mapped_column(sa.String(16))  # buyer | provider
    user_id: Mapped[str | None] = mapped_column(sa.String(ID_LENGTH))
    filename: Mapped[str] = mapped_column(sa.String(255))
    content_type: Mapped[str] = mapped_column(sa.String(100))
    size: Mapped[int] = mapped_column(sa.Integer)
    sha256: Mapped[str] = mapped_column(sa.String(64))
    content: Mapped[bytes] = deferred(mapped_column(sa.LargeBinary, nullable=False))
    created_at: Mapped[dt.datetime] = created_column()


class ServiceRating(Base):
    """The buyer's rating of the provider for one finished order (1–5 stars and text)."""

    __tablename__ = "service_ratings"

    id: Mapped[str] = id_column("srt")
    order_id: Mapped[str] = mapped_column(sa.ForeignKey("service_orders.id"), unique=True)
    shop_id: Mapped[str] = shop_column()
    provider_id: Mapped[str] = mapped_column(sa.ForeignKey("service_providers.id"), index=True)
    service_id: Mapped[str] = mapped_column(sa.String(ID_LENGTH), index=True)
    stars: Mapped[int] = mapped_column(sa.Integer)
    text: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[dt.datetime] = created_column()
