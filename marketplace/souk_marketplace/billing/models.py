"""Subscriptions, charges, refunds, invoices, payouts and billing exemptions.

Money lives in the ledger; these rows say why it moved. Amounts are integer minor units (fen).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from souk_platform.db import Base, UTCDateTime, Versioned, created_column, id_column, shop_column


class AppSubscription(Versioned, Base):
    """An app's recurring or usage-based plan on one shop (one installation), approved by the merchant.

    ``status``: pending → trial | active (approved), declined; trial → active; active ⇄ frozen (a failed
    renewal); any live state → cancelled, or replaced by an approved plan change.
    """

    __tablename__ = "billing_subscriptions"
    __table_args__ = (sa.Index("ix_billing_subscriptions_installation_status", "installation_id", "status"),)

    id: Mapped[str] = id_column("asub")
    shop_id: Mapped[str] = shop_column()
    app_id: Mapped[str] = mapped_column(sa.ForeignKey("apps.id"), index=True)
    installation_id: Mapped[str] = mapped_column(sa.ForeignKey("installations.id"))
    developer_id: Mapped[str] = mapped_column(sa.String(64), index=True)
    plan_id: Mapped[str] = mapped_column(sa.String(40))
    kind: Mapped[str] = mapped_column(sa.String(16))  # free | recurring | usage
    price: Mapped[int] = mapped_column(sa.BigInteger)  # per interval; the base price of a usage plan
    list_price: Mapped[int] = mapped_column(sa.BigInteger)  # the plan's price (price is 0 when free for backers)
    currency: Mapped[str] = mapped_column(sa.String(3))
    interval: Mapped[str] = mapped_column(sa.String(8))  # month | year (usage plans bill monthly)
    trial_days: Mapped[int] = mapped_column(sa.Integer, default=0)
    usage_cap: Mapped[int | None] = mapped_column(sa.BigInteger)  # per period, approved by the merchant
    usage_used: Mapped[int] = mapped_column(sa.BigInteger, default=0)  # usage charged in the current period
    return_url: Mapped[str] = mapped_column(sa.String(2000))
    status: Mapped[str] = mapped_column(sa.String(16))
    free_reason: Mapped[str | None] = mapped_column(sa.String(200))
    replaces_id: Mapped[str | None] = mapped_column(sa.String(64))  # a plan change: the subscription it replaces
    trial_ends_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    billing_anchor: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())  # periods are whole intervals from it
    current_period_start: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    current_period_end: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), index=True)
    retry_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())  # frozen: when to try the renewal again
    failed_attempts: Mapped[int] = mapped_column(sa.Integer, default=0)
    decided_by: Mapped[str | None] = mapped_column(sa.String(64))  # the shop owner who approved or declined
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = created_column()


class AppCharge(Versioned, Base):
    """One amount an app bills a shop: one-time (approved by the merchant), a period fee, usage or proration.

    ``held_amount`` is the developer's share still inside the payout hold; the release job moves it to
    the developer's available earnings at ``held_until``.
    """

    __tablename__ = "billing_charges"
    __table_args__ = (
        sa.UniqueConstraint("subscription_id", "idempotency_key"),
        sa.Index("ix_billing_charges_release", "released_at", "held_until"),
    )

    id: Mapped[str] = id_column("chg")
    shop_id: Mapped[str] = shop_column()
    app_id: Mapped[str] = mapped_column(sa.ForeignKey("apps.id"), index=True)
    installation_id: Mapped[str] = mapped_column(sa.ForeignKey("installations.id"), index=True)
    developer_id: Mapped[str] = mapped_column(sa.String(64), index=True)
    subscription_id: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    kind: Mapped[str] = mapped_column(sa.String(16))  # one_time | recurring | usage | proration
    description: Mapped[str] = mapped_column(sa.String(500))
    amount: Mapped[int] = mapped_column(sa.BigInteger)
    list_price: Mapped[int] = mapped_column(sa.BigInteger)  # what was asked (amount is 0 when free for backers)
    currency: Mapped[str] = mapped_column(sa.String(3))
    fee: Mapped[int] = mapped_column(sa.BigInteger, default=0)  # the platform's part of amount
    status: Mapped[str] = mapped_column(sa.String(16))  # pending | succeeded | declined | replaced
    free_reason: Mapped[str | None] = mapped_column(sa.String(200))
    return_url: Mapped[str | None] = mapped_column(sa.String(2000))
    idempotency_key: Mapped[str | None] = mapped_column(sa.String(255))  # usage records
    period_start: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    period_end: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    refunded: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    held_amount: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    held_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    released_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    decided_by: Mapped[str | None] = mapped_column(sa.String(64))
    paid_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), index=True)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = created_column()


class ChargeRefund(Base):
    """Money given back on a charge: a developer's refund or the credit of a plan change (``kind``)."""

    __tablename__ = "billing_refunds"
    __table_args__ = (sa.UniqueConstraint("charge_id", "idempotency_key"),)

    id: Mapped[str] = id_column("crf")
    shop_id: Mapped[str] = shop_column()
    charge_id: Mapped[str] = mapped_column(sa.ForeignKey("billing_charges.id"), index=True)
    app_id: Mapped[str] = mapped_column(sa.String(64), index=True)
    developer_id: Mapped[str] = mapped_column(sa.String(64), index=True)
    kind: Mapped[str] = mapped_column(sa.String(20))  # refund | proration_credit
    amount: Mapped[int] = mapped_column(sa.BigInteger)
    currency: Mapped[str] = mapped_column(sa.String(3))
    fee_reversed: Mapped[int] = mapped_column(sa.BigInteger)
    from_held: Mapped[int] = mapped_column(sa.BigInteger)
    from_available: Mapped[int] = mapped_column(sa.BigInteger)
    reason: Mapped[str] = mapped_column(sa.String(500))
    idempotency_key: Mapped[str | None] = mapped_column(sa.String(255))
    created_by: Mapped[str] = mapped_column(sa.String(64))  # a user id, or "app"
    created_at: Mapped[dt.datetime] = created_column()


class Invoice(Base):
    """A shop's monthly statement of app charges and refunds, frozen when issued."""

    __tablename__ = "billing_invoices"
    __table_args__ = (sa.UniqueConstraint("shop_id", "month"), sa.UniqueConstraint("shop_id", "sequence"))

    id: Mapped[str] = id_column("inv")
    shop_id: Mapped[str] = shop_column()
    number: Mapped[str] = mapped_column(sa.String(32))
    sequence: Mapped[int] = mapped_column(sa.Integer)  # 1, 2, 3 … per shop
    month: Mapped[str] = mapped_column(sa.String(7))  # "2026-03", a calendar month in the shop's timezone
    timezone: Mapped[str] = mapped_column(sa.String(64))
    period_start: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    period_end: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    lines: Mapped[list[Any]] = mapped_column()
    totals: Mapped[list[Any]] = mapped_column()  # one {currency, charged, refunded, net} per currency
    created_at: Mapped[dt.datetime] = created_column()


class Payout(Base):
    """Available earnings paid to a developer: developer.earnings → platform.payouts_clearing."""

    __tablename__ = "billing_payouts"

    id: Mapped[str] = id_column("pyo")
    developer_id: Mapped[str] = mapped_column(sa.ForeignKey("users.id"), index=True)
    amount: Mapped[int] = mapped_column(sa.BigInteger)
    currency: Mapped[str] = mapped_column(sa.String(3))
    status: Mapped[str] = mapped_column(sa.String(16))  # paid
    reference: Mapped[str] = mapped_column(sa.String(64), unique=True)  # what the bank transfer says
    trigger: Mapped[str] = mapped_column(sa.String(16))  # schedule | request
    transfer_id: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[dt.datetime] = created_column()


class BillingExemption(Base):
    """A shop that uses an app for free (crowdfunding backers): its charges for the app are approved at 0."""

    __tablename__ = "billing_exemptions"
    __table_args__ = (sa.UniqueConstraint("app_id", "shop_id"),)

    id: Mapped[str] = id_column("bex")
    app_id: Mapped[str] = mapped_column(sa.ForeignKey("apps.id"), index=True)
    shop_id: Mapped[str] = shop_column()
    reason: Mapped[str] = mapped_column(sa.String(200))
    created_at: Mapped[dt.datetime] = created_column()
