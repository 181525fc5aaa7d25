"""Tags, which customers carry them, CSV tag imports, and saved segments (人群包)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from souk_platform.db import Base, UTCDateTime, Versioned, created_column, id_column, shop_column

TAG_KINDS = ("manual", "rule", "imported")


class Tag(Versioned, Base):
    """A label on customers. ``rule`` tags carry a ``condition`` and are kept up to date by evaluation."""

    __tablename__ = "tags"
    __table_args__ = (sa.UniqueConstraint("shop_id", "name"),)

    id: Mapped[str] = id_column("tag")
    shop_id: Mapped[str] = shop_column()
    name: Mapped[str] = mapped_column(sa.String(100))
    kind: Mapped[str] = mapped_column(sa.String(16))
    description: Mapped[str | None] = mapped_column(sa.String(500))
    condition: Mapped[dict[str, Any] | None] = mapped_column()  # rule tags only
    evaluated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = created_column()


class CustomerTag(Base):
    """One customer carrying one tag."""

    __tablename__ = "customer_tags"

    tag_id: Mapped[str] = mapped_column(sa.ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True)
    customer_id: Mapped[str] = mapped_column(sa.ForeignKey("customers.id"), primary_key=True, index=True)
    shop_id: Mapped[str] = shop_column()
    created_at: Mapped[dt.datetime] = created_column()


class TagImport(Base):
    """One CSV import: what was applied and the per-row error report."""

    __tablename__ = "tag_imports"

    id: Mapped[str] = id_column("tim")
    shop_id: Mapped[str] = shop_column()
    rows: Mapped[int] = mapped_column(default=0)  # data rows read (blank lines and the header excluded)
    imported: Mapped[int] = mapped_column(default=0)
    failed: Mapped[int] = mapped_column(default=0)
    errors: Mapped[list[Any]] = mapped_column(default=list)  # [{"row": 3, "error": "…"}]
    created_tags: Mapped[list[Any]] = mapped_column(default=list)  # names of tags the import created
    created_at: Mapped[dt.datetime] = created_column()


class Segment(Versioned, Base):
    """A saved customer filter (人群包) in the condition language; membership is computed on read."""

    __tablename__ = "segments"
    __table_args__ = (sa.UniqueConstraint("shop_id", "name"),)

    id: Mapped[str] = id_column("seg")
    shop_id: Mapped[str] = shop_column()
    name: Mapped[str] = mapped_column(sa.String(100))
    description: Mapped[str | None] = mapped_column(sa.String(500))
    condition: Mapped[dict[str, Any]] = mapped_column()
    created_at: Mapped[dt.datetime] = created_column()


class SegmentSnapshot(Base):
    """A segment's members frozen at one moment (固化人群包): campaigns and conversion read this fixed list.

    The snapshot outlives its segment (``segment_id`` becomes NULL); it keeps the name and condition it
    was taken with (docs/architecture.md §5.6).
    """

    __tablename__ = "segment_snapshots"
    __table_args__ = (sa.Index("ix_segment_snapshots_shop_segment", "shop_id", "segment_id"),)

    id: Mapped[str] = id_column("sns")
    shop_id: Mapped[str] = shop_column()
    segment_id: Mapped[str | None] = mapped_column(sa.ForeignKey("segments.id", ondelete="SET NULL"))
    segment_name: Mapped[str] = mapped_column(sa.String(100))
    name: Mapped[str] = mapped_column(sa.String(100))
    condition: Mapped[dict[str, Any]] = mapped_column()
    member_count: Mapped[int] = mapped_column(default=0)
    taken_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = created_column()


class SegmentSnapshotMember(Base):
    """One customer in a snapshot."""

    __tablename__ = "segment_snapshot_members"

    snapshot_id: Mapped[str] = mapped_column(
        sa.ForeignKey("segment_snapshots.id", ondelete="CASCADE"), primary_key=True
    )
    customer_id: Mapped[str] = mapped_column(sa.ForeignKey("customers.id"), primary_key=True, index=True)
    shop_id: Mapped[str] = shop_column()
