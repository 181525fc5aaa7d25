"""A shop's rating of an app it used: 1–5 stars, a text, and the developer's one reply."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from souk_platform.db import Base, UTCDateTime, Versioned, id_column, shop_column


class AppRating(Versioned, Base):
    """One per (app, shop); an edit overwrites stars and text (the latest counts)."""

    __tablename__ = "app_ratings"
    __table_args__ = (
        sa.UniqueConstraint("app_id", "shop_id"),
        sa.CheckConstraint("stars BETWEEN 1 AND 5", name="stars_range"),
    )

    id: Mapped[str] = id_column("rat")
    app_id: Mapped[str] = mapped_column(sa.ForeignKey("apps.id"), index=True)
    shop_id: Mapped[str] = shop_column()
    stars: Mapped[int] = mapped_column(sa.SmallInteger)
    text: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    reply_text: Mapped[str | None] = mapped_column(sa.Text)
    replied_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
