from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from souk_platform.db import Base, created_column, id_column


class IdempotencyRecord(Base):
    """The first response to a POST sent with an ``Idempotency-Key``, kept 24 h for replays.

    The row is inserted in the same transaction as the work it guards, so a concurrent duplicate
    blocks on the unique key until the first commits, then replays its response.
    """

    __tablename__ = "idempotency_records"
    __table_args__ = (sa.UniqueConstraint("owner", "key"),)

    id: Mapped[str] = id_column("idem")
    owner: Mapped[str] = mapped_column(sa.String(160))  # shop + token: keys are per caller
    key: Mapped[str] = mapped_column(sa.String(255))
    method: Mapped[str] = mapped_column(sa.String(8))
    path: Mapped[str] = mapped_column(sa.String(500))
    request_hash: Mapped[str] = mapped_column(sa.String(64))
    status_code: Mapped[int | None]
    response_body: Mapped[str | None] = mapped_column(sa.Text)
    response_headers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[dt.datetime] = created_column()
