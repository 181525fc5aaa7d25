"""An app's place in the market: its listing, the submissions reviewed for it, their images and timeline.

A ``Listing`` (one per app) carries the public state; each ``ListingSubmission`` is one app version sent
for review with its texts, images, checks and the decision taken on it. What the market shows is the
listing's ``listed_submission_id``; older submissions stay as history.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import Mapped, deferred, mapped_column

from souk_platform.db import ID_LENGTH, Base, UTCDateTime, Versioned, created_column, id_column

# PostgreSQL keeps a ranked full-text vector; SQLite has no such type and searches ``search_text``.
SearchVector = TSVECTOR().with_variant(sa.Text(), "sqlite")


class Listing(Versioned, Base):
    """One app in the market. ``state`` moves through ``services.TRANSITIONS`` only."""

    __tablename__ = "listings"
    __table_args__ = (sa.Index("ix_listings_search_vector", "search_vector", postgresql_using="gin"),)

    id: Mapped[str] = id_column("lst")
    app_id: Mapped[str] = mapped_column(sa.ForeignKey("apps.id"), unique=True)
    slug: Mapped[str] = mapped_column(sa.String(80), unique=True)
    state: Mapped[str] = mapped_column(sa.String(16), default="draft", index=True)
    # The approved submission the market shows (kept after a delisting, for history).
    listed_submission_id: Mapped[str | None] = mapped_column(sa.String(ID_LENGTH))
    category: Mapped[str | None] = mapped_column(sa.String(32), index=True)
    first_listed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    listed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    crowdfunded: Mapped[bool] = mapped_column(default=False)
    crowdfunded_requirement_id: Mapped[str | None] = mapped_column(sa.String(ID_LENGTH))
    # Lower-cased names, taglines and descriptions of the listed submission, both languages.
    search_text: Mapped[str] = mapped_column(sa.Text, default="")
    search_vector: Mapped[str | None] = deferred(mapped_column(SearchVector))
    created_at: Mapped[dt.datetime] = created_column()


class ListingImage(Base):
    """An uploaded icon or screenshot (PNG, JPEG or WebP, ≤ 512 KiB), stored once per listing."""

    __tablename__ = "listing_images"
    __table_args__ = (sa.UniqueConstraint("listing_id", "sha256"),)

    id: Mapped[str] = id_column("lim")
    listing_id: Mapped[str] = mapped_column(sa.ForeignKey("listings.id"), index=True)
    sha256: Mapped[str] = mapped_column(sa.String(64))
    content_type: Mapped[str] = mapped_column(sa.String(32))
    size_bytes: Mapped[int] = mapped_column(sa.Integer)
    data: Mapped[bytes] = deferred(mapped_column(sa.LargeBinary, nullable=False))
    created_at: Mapped[dt.datetime] = created_column()


class ListingSubmission(Base):
    """One app version sent for listing: what the developer wrote, the automated checks, the decision."""

    __tablename__ = "listing_submissions"
    __table_args__ = (sa.UniqueConstraint("listing_id", "number"),)

    id: Mapped[str] = id_column("lss")
    listing_id: Mapped[str] = mapped_column(sa.ForeignKey("listings.id"), index=True)
    app_id: Mapped[str] = mapped_column(sa.ForeignKey("apps.id"), index=True)
    app_version_id: Mapped[str] = mapped_column(sa.ForeignKey("app_versions.id"), index=True)
    number: Mapped[int] = mapped_column(sa.Integer)
    # checking → checks_failed | in_review → approved | rejected
    status: Mapped[str] = mapped_column(sa.String(16), index=True)
    # {"en": {"name", "tagline", "description"}, "zh_CN": {...}}: at least one language.
    texts: Mapped[dict[str, Any]] = mapped_column()
    category: Mapped[str] = mapped_column(sa.String(32))
    icon_image_id: Mapped[str] = mapped_column(sa.ForeignKey("listing_images.id"))
    screenshot_image_ids: Mapped[list[Any]] = mapped_column()
    support_contact: Mapped[str] = mapped_column(sa.String(320))
    privacy_url: Mapped[str] = mapped_column(sa.String(2000))
    install_url: Mapped[str | None] = mapped_column(sa.String(2000))
    changelog: Mapped[str] = mapped_column(sa.Text)
    scope_justifications: Mapped[dict[str, Any]] = mapped_column()
    # [{"check", "subject", "passed", "message"}], filled in when the checks finish.
    checks: Mapped[list[Any]] = mapped_column(default=list)
    submitted_by: Mapped[str | None] = mapped_column(sa.ForeignKey("users.id"))  # None: sent with an app token
    submitted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    checks_finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    decided_by: Mapped[str | None] = mapped_column(sa.ForeignKey("users.id"))
    decision_reason: Mapped[str | None] = mapped_column(sa.Text)
    checklist: Mapped[list[Any]] = mapped_column(default=list)  # the review items ticked at approval


class ListingEvent(Base):
    """The listing's timeline: every submission, check outcome, decision and delisting, with who and why."""

    __tablename__ = "listing_events"
    __table_args__ = (sa.UniqueConstraint("listing_id", "number"),)

    id: Mapped[str] = id_column("lse")
    listing_id: Mapped[str] = mapped_column(sa.ForeignKey("listings.id"), index=True)
    # 1, 2, 3… per listing: the timeline's order (events of one request share a timestamp). Safe
    # because every transition holds the listing's row lock.
    number: Mapped[int] = mapped_column(sa.Integer)
    submission_id: Mapped[str | None] = mapped_column(sa.String(ID_LENGTH))
    action: Mapped[str] = mapped_column(sa.String(32))
    from_state: Mapped[str] = mapped_column(sa.String(16))
    to_state: Mapped[str] = mapped_column(sa.String(16))
    actor_kind: Mapped[str] = mapped_column(sa.String(16))  # "developer" | "admin" | "system"
    actor_id: Mapped[str | None] = mapped_column(sa.String(ID_LENGTH))
    reason: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
