from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from souk_platform.db import Base, created_column, id_column


class LedgerAccount(Base):
    """An account holding one unit (a currency or points). ``balance`` is a cache of its entries."""

    __tablename__ = "ledger_accounts"
    __table_args__ = (sa.UniqueConstraint("shop_id", "kind", "owner_id", "unit"),)

    id: Mapped[str] = id_column("acc")
    shop_id: Mapped[str] = mapped_column(sa.String(64), index=True)  # "platform" for platform accounts
    kind: Mapped[str] = mapped_column(sa.String(50))
    owner_id: Mapped[str] = mapped_column(sa.String(64))
    unit: Mapped[str] = mapped_column(sa.String(8))
    allow_negative: Mapped[bool] = mapped_column(default=False)
    balance: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    created_at: Mapped[dt.datetime] = created_column()


class LedgerTransfer(Base):
    """One movement: a set of entries that sums to zero per unit, written in one transaction."""

    __tablename__ = "ledger_transfers"

    id: Mapped[str] = id_column("trf")
    shop_id: Mapped[str] = mapped_column(sa.String(64), index=True)
    kind: Mapped[str] = mapped_column(sa.String(50))
    reference: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    # Makes a transfer idempotent: the same key never moves value twice.
    dedupe_key: Mapped[str | None] = mapped_column(sa.String(200), unique=True)
    memo: Mapped[str | None] = mapped_column(sa.String(500))
    created_at: Mapped[dt.datetime] = created_column()


class LedgerEntry(Base):
    """Append-only: never updated or deleted; a reversal is a new transfer."""

    __tablename__ = "ledger_entries"

    id: Mapped[str] = id_column("ent")
    transfer_id: Mapped[str] = mapped_column(sa.ForeignKey("ledger_transfers.id"), index=True)
    account_id: Mapped[str] = mapped_column(sa.ForeignKey("ledger_accounts.id"), index=True)
    amount: Mapped[int] = mapped_column(sa.BigInteger)
    unit: Mapped[str] = mapped_column(sa.String(8))
    created_at: Mapped[dt.datetime] = created_column()
