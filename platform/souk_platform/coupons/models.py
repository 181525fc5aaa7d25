from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from souk_platform.db import Base, UTCDateTime, Versioned, created_column, id_column, shop_column, updated_column

COUPON_KINDS = ("fixed", "percent", "threshold")
COUPON_STATUSES = ("active", "disabled")
REDEMPTION_STATUSES = ("reserved", "redeemed", "released")
# public: a code anyone may type (the default); issued: only a customer holding an unused wallet entry may use it.
COUPON_DISTRIBUTIONS = ("public", "issued")
# Where a wallet entry came from (docs/architecture.md §5.9).
WALLET_SOURCES = ("issue", "benefit", "pack", "api", "demo", "journey", "points_mall", "claim")


class Coupon(Versioned, Base):
    """A coupon code, or an automatic promotion (``auto_apply``, usually without a code).

    ``value`` is fen for ``fixed`` and ``threshold`` (满减: spend ≥ ``min_spend`` → ``value`` off) and
    basis points off for ``percent`` (9折 = 1000), capped by ``max_discount``.
    """

    __tablename__ = "coupons"
    __table_args__ = (sa.UniqueConstraint("shop_id", "code"),)

    id: Mapped[str] = id_column("cpn")
    shop_id: Mapped[str] = shop_column()
    code: Mapped[str | None] = mapped_column(sa.String(64))  # stored upper case; codes are case-insensitive
    name: Mapped[str] = mapped_column(sa.String(200))
    kind: Mapped[str] = mapped_column(sa.String(16))
    value: Mapped[int] = mapped_column(sa.BigInteger)
    min_spend: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    max_discount: Mapped[int | None] = mapped_column(sa.BigInteger)
    auto_apply: Mapped[bool] = mapped_column(default=False)
    stackable: Mapped[bool] = mapped_column(default=True)
    per_customer_limit: Mapped[int | None]
    total_limit: Mapped[int | None]
    starts_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    ends_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(sa.String(16), default="active")
    redeemed_count: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[dt.datetime] = created_column()
    distribution: Mapped[str] = mapped_column(sa.String(16), default="public", server_default="public")
    # An issued coupon's wallet entries expire this many days after issue (and never after ``ends_at``).
    valid_days: Mapped[int | None]
    # Wallet entries issued and not revoked: an issued coupon's limits count these (under the coupon's lock).
    issued_count: Mapped[int] = mapped_column(default=0, server_default="0")


class CouponRedemption(Base):
    """One coupon used on one order: reserved at checkout, redeemed on payment, released on cancel."""

    __tablename__ = "coupon_redemptions"
    __table_args__ = (sa.UniqueConstraint("coupon_id", "order_id"),)

    id: Mapped[str] = id_column("crd")
    shop_id: Mapped[str] = shop_column()
    coupon_id: Mapped[str] = mapped_column(sa.ForeignKey("coupons.id"), index=True)
    customer_id: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    order_id: Mapped[str] = mapped_column(sa.String(64), index=True)
    amount: Mapped[int] = mapped_column(sa.BigInteger)
    status: Mapped[str] = mapped_column(sa.String(16), default="reserved")
    created_at: Mapped[dt.datetime] = created_column()
    updated_at: Mapped[dt.datetime] = updated_column()


class CustomerCoupon(Versioned, Base):
    """One issued coupon in a customer's wallet (docs/architecture.md §5.9).

    ``status`` moves through ``wallet.WALLET_STATES``: issued → reserved (a checkout holds it for
    ``order_id``) → used (the order was paid); a cancel gives a reserved entry back, a full refund a
    used one; an entry past ``expires_at`` expires; a refunded coupon pack revokes its unused entries.
    One entry per (coupon, customer, source, source_id): issuing is idempotent.
    """

    __tablename__ = "customer_coupons"
    __table_args__ = (
        sa.UniqueConstraint("coupon_id", "customer_id", "source", "source_id"),
        sa.Index("ix_customer_coupons_shop_customer_status", "shop_id", "customer_id", "status"),
        sa.Index("ix_customer_coupons_status_expires", "status", "expires_at"),
        sa.Index("ix_customer_coupons_order", "order_id"),
    )

    id: Mapped[str] = id_column("ccp")
    shop_id: Mapped[str] = shop_column()
    coupon_id: Mapped[str] = mapped_column(sa.ForeignKey("coupons.id"), index=True)
    customer_id: Mapped[str] = mapped_column(sa.ForeignKey("customers.id"))
    status: Mapped[str] = mapped_column(sa.String(16), default="issued")
    source: Mapped[str] = mapped_column(sa.String(16))
    source_id: Mapped[str] = mapped_column(sa.String(64), default="")  # "" when the source has no id
    issued_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    order_id: Mapped[str | None] = mapped_column(sa.String(64))  # the order holding (reserved) or using it
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())  # when it expired or was revoked

    coupon: Mapped[Coupon] = relationship(lazy="joined", innerjoin=True)


class CouponClaim(Base):
    """A customer claiming a public coupon into their wallet (领券, docs/architecture.md §5.15): who, from where,
    and the risk decision that let it through. The wallet entry's source is ``claim`` with this id."""

    __tablename__ = "coupon_claims"
    __table_args__ = (
        sa.Index("ix_coupon_claims_customer", "shop_id", "customer_id", "created_at"),
        sa.Index("ix_coupon_claims_ip", "shop_id", "ip", "created_at"),
        sa.Index("ix_coupon_claims_device", "shop_id", "device_id", "created_at"),
    )

    id: Mapped[str] = id_column("ccl")
    shop_id: Mapped[str] = shop_column()
    coupon_id: Mapped[str] = mapped_column(sa.ForeignKey("coupons.id"))
    customer_id: Mapped[str] = mapped_column(sa.ForeignKey("customers.id"))
    entry_id: Mapped[str] = mapped_column(sa.ForeignKey("customer_coupons.id"), unique=True)
    ip: Mapped[str | None] = mapped_column(sa.String(64))
    device_id: Mapped[str | None] = mapped_column(sa.String(128))
    decision_id: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class CouponIssue(Versioned, Base):
    """Issuing a coupon to a list of customers or a segment: a job with progress (§5.9).

    The job first fixes the target (``total`` result rows, all ``pending``), then works through them in
    batches, each a transaction: a re-run after a crash continues with what is still pending, and
    ``issue_coupon``'s key (source ``issue``, this id) means nobody gets the coupon twice.
    """

    __tablename__ = "coupon_issues"

    id: Mapped[str] = id_column("cis")
    shop_id: Mapped[str] = shop_column()
    coupon_id: Mapped[str] = mapped_column(sa.ForeignKey("coupons.id"), index=True)
    segment_id: Mapped[str | None] = mapped_column(sa.String(64))
    snapshot_id: Mapped[str | None] = mapped_column(sa.String(64))  # a segment snapshot (固化人群包)
    customer_ids: Mapped[list[Any] | None] = mapped_column()  # the list asked for (None for a segment)
    status: Mapped[str] = mapped_column(sa.String(16), default="pending")  # pending, running, done
    total: Mapped[int | None]  # customers targeted, known once the job fixed the target
    done: Mapped[int] = mapped_column(default=0)
    issued: Mapped[int] = mapped_column(default=0)
    skipped: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class CouponIssueResult(Base):
    """What issuing did for one targeted customer: pending, issued (with the wallet entry) or skipped (why)."""

    __tablename__ = "coupon_issue_results"
    __table_args__ = (
        sa.UniqueConstraint("issue_id", "customer_id"),
        sa.Index("ix_coupon_issue_results_issue_outcome", "issue_id", "outcome"),
    )

    id: Mapped[str] = id_column("cir")
    shop_id: Mapped[str] = shop_column()
    issue_id: Mapped[str] = mapped_column(sa.ForeignKey("coupon_issues.id"))
    customer_id: Mapped[str] = mapped_column(sa.String(64))  # as asked: may name no customer of the shop
    outcome: Mapped[str] = mapped_column(sa.String(16), default="pending")
    reason: Mapped[str | None] = mapped_column(sa.String(300))
    # Why it was skipped, for programs and pages in any language: no_customer, or a coupon-not-issuable
    # reason (public, disabled, ended, total_limit, per_customer_limit).
    reason_code: Mapped[str | None] = mapped_column(sa.String(32))
    customer_coupon_id: Mapped[str | None] = mapped_column(sa.String(64))


class CouponPack(Versioned, Base):
    """付费券包: coupons × quantity sold for ``price`` fen (§5.9). ``sold`` counts purchases pending or paid."""

    __tablename__ = "coupon_packs"

    id: Mapped[str] = id_column("cpk")
    shop_id: Mapped[str] = shop_column()
    name: Mapped[str] = mapped_column(sa.String(200))
    price: Mapped[int] = mapped_column(sa.BigInteger)
    currency: Mapped[str] = mapped_column(sa.String(3))
    items: Mapped[list[Any]] = mapped_column()  # [{"coupon_id": "cpn_…", "quantity": 2}]
    stock: Mapped[int | None]  # packs on sale in all; None: no limit
    sold: Mapped[int] = mapped_column(default=0)
    per_customer_limit: Mapped[int | None]
    sale_starts_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    sale_ends_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    refund_days: Mapped[int] = mapped_column(default=7)  # refundable this long after payment, if no coupon was used
    status: Mapped[str] = mapped_column(sa.String(16), default="active")
    created_at: Mapped[dt.datetime] = created_column()


class CouponPackPurchase(Versioned, Base):
    """One pack bought by one customer, paid through its own order (``order_id``).

    pending (the order awaits payment) → paid (coupons issued into the wallet) → refunded; or cancelled
    when the order is cancelled or expires unpaid.
    """

    __tablename__ = "coupon_pack_purchases"
    __table_args__ = (sa.Index("ix_coupon_pack_purchases_pack_customer", "pack_id", "customer_id"),)

    id: Mapped[str] = id_column("cpp")
    shop_id: Mapped[str] = shop_column()
    pack_id: Mapped[str] = mapped_column(sa.ForeignKey("coupon_packs.id"))
    customer_id: Mapped[str] = mapped_column(sa.ForeignKey("customers.id"))
    order_id: Mapped[str] = mapped_column(sa.String(64), unique=True)
    status: Mapped[str] = mapped_column(sa.String(16), default="pending")
    price: Mapped[int] = mapped_column(sa.BigInteger)
    problems: Mapped[list[Any]] = mapped_column(default=list)  # coupons that could not be issued at payment
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    paid_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())  # refunded or cancelled
