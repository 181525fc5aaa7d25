from __future__ import annotations

import datetime as dt
import re

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from souk_platform.db import Base, UTCDateTime, Versioned, created_column, id_column, shop_column

GENDERS = ("female", "male", "unknown")
# Where the customer first came from (docs/architecture.md §5.6): a closed list so segments can count it.
SOURCE_CHANNELS = ("online", "store", "mini_program", "app", "social", "import", "referral", "api")

# wechat_openid:<appid> names the official account or mini program the openid belongs to;
# app:<client_id> is an installed app's own user id.
PROVIDER = re.compile(
    r"^(wechat_openid(:[A-Za-z0-9_\-]{1,40})?|wechat_unionid|alipay|douyin|app:[A-Za-z0-9_\-]{1,64})$"
)
PROVIDER_HELP = "wechat_openid, wechat_openid:<appid>, wechat_unionid, alipay, douyin or app:<client_id>"


class Customer(Versioned, Base):
    """A buyer in one shop. ``level`` is the member level 1–5 (V1–V5).

    Phone, email, birthday and external identities are personal data (docs/architecture.md §5.6).
    """

    __tablename__ = "customers"
    __table_args__ = (
        sa.UniqueConstraint("shop_id", "phone"),
        sa.UniqueConstraint("shop_id", "email"),
    )

    id: Mapped[str] = id_column("cus")
    shop_id: Mapped[str] = shop_column()
    name: Mapped[str] = mapped_column(sa.String(200))
    phone: Mapped[str | None] = mapped_column(sa.String(32))
    email: Mapped[str | None] = mapped_column(sa.String(320))
    level: Mapped[int] = mapped_column(sa.SmallInteger, default=1)
    birthday: Mapped[dt.date | None] = mapped_column(sa.Date)
    gender: Mapped[str] = mapped_column(sa.String(8), default="unknown", server_default="unknown")
    source_channel: Mapped[str | None] = mapped_column(sa.String(32))
    # Running totals kept by record_purchase/record_refund (net of refunds), for lists and segments.
    orders_count: Mapped[int] = mapped_column(default=0)
    total_spent: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    last_order_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # When the member level last changed: the rules downgrade at most once per downgrade period
    # (members.services).
    level_changed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = created_column()


class CustomerPurchase(Base):
    """One paid order (positive amount) or refund (negative) of a customer: the facts windows read."""

    __tablename__ = "customer_purchases"
    __table_args__ = (
        sa.Index("ix_customer_purchases_customer_at", "customer_id", "at"),
        # One row per order purchase / per refund: retried calls never count twice.
        sa.UniqueConstraint("shop_id", "dedupe_key"),
    )

    id: Mapped[str] = id_column("cpf")
    shop_id: Mapped[str] = shop_column()
    customer_id: Mapped[str] = mapped_column(sa.ForeignKey("customers.id"))
    order_id: Mapped[str] = mapped_column(sa.String(64), index=True)
    amount: Mapped[int] = mapped_column(sa.BigInteger)  # fen; negative for a refund
    counts_as_order: Mapped[bool] = mapped_column(default=True)  # False for refunds
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    dedupe_key: Mapped[str] = mapped_column(sa.String(200))  # "<order>:purchase" or "<order>:refund:<id|amount>"


class CustomerIdentity(Base):
    """An id another system knows the customer by (a WeChat openid, an app's own user id…).

    One (provider, external id) names at most one customer of a shop, so a login through that system
    finds its customer.
    """

    __tablename__ = "customer_identities"
    __table_args__ = (sa.UniqueConstraint("shop_id", "provider", "external_id"),)

    id: Mapped[str] = id_column("cid")
    shop_id: Mapped[str] = shop_column()
    customer_id: Mapped[str] = mapped_column(sa.ForeignKey("customers.id"), index=True)
    provider: Mapped[str] = mapped_column(sa.String(80))
    external_id: Mapped[str] = mapped_column(sa.String(128))
    created_at: Mapped[dt.datetime] = created_column()
