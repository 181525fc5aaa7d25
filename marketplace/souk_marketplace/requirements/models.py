"""定制众筹: requirements merchants post, the pledges that fund them, developers' proposals, votes, timeline."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from souk_platform.db import Base, UTCDateTime, Versioned, created_column, id_column, shop_column, updated_column

CATEGORIES = ("marketing", "loyalty", "orders", "risk", "analytics", "operations", "integration", "other")
SELECTION_MODES = ("owner", "vote")  # the owner picks a proposal | backers vote, weighted by pledge
STATES = (
    "open",
    "funded",
    "in_development",
    "delivered",
    "accepted",
    "paid_out",
    "in_arbitration",
    "cancelled",
    "refunded",
    "merged",
)


class Requirement(Versioned, Base):
    """A need a merchant posts on the public board, funded by pledges held in escrow."""

    __tablename__ = "requirements"

    id: Mapped[str] = id_column("req")
    shop_id: Mapped[str] = shop_column()  # the shop that posted it (the owner)
    posted_by: Mapped[str | None] = mapped_column(sa.ForeignKey("users.id"))
    title: Mapped[str] = mapped_column(sa.String(120))
    description: Mapped[str] = mapped_column(sa.Text)
    category: Mapped[str] = mapped_column(sa.String(32), index=True)
    budget_amount: Mapped[int] = mapped_column(sa.BigInteger)
    currency: Mapped[str] = mapped_column(sa.String(3))
    deadline: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    acceptance_criteria: Mapped[str] = mapped_column(sa.Text)
    selection_mode: Mapped[str] = mapped_column(sa.String(16))
    state: Mapped[str] = mapped_column(sa.String(20), index=True, default="open")
    # Caches of the active pledges, written under the requirement's row lock (the board sorts on them).
    pledged_total: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    backers_count: Mapped[int] = mapped_column(sa.Integer, default=0)
    accepted_proposal_id: Mapped[str | None] = mapped_column(sa.String(64))
    merged_into_id: Mapped[str | None] = mapped_column(sa.String(64))
    delivered_app_id: Mapped[str | None] = mapped_column(sa.String(64))
    delivered_app_version_id: Mapped[str | None] = mapped_column(sa.String(64))
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    vote_closes_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    accepted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    payout_due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    developer_amount: Mapped[int | None] = mapped_column(sa.BigInteger)  # the price minus the platform fee
    fee_amount: Mapped[int | None] = mapped_column(sa.BigInteger)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())  # paid out, refunded, cancelled, merged
    created_at: Mapped[dt.datetime] = created_column()
    updated_at: Mapped[dt.datetime] = updated_column()


class RequirementPledge(Base):
    """One shop's pledge, held in its own ``escrow.pledge`` ledger account (owner_id = the pledge id).

    A merge re-points ``requirement_id`` to the surviving requirement; the escrow account stays.
    """

    __tablename__ = "requirement_pledges"

    id: Mapped[str] = id_column("plg")
    requirement_id: Mapped[str] = mapped_column(sa.ForeignKey("requirements.id"), index=True)
    shop_id: Mapped[str] = shop_column()  # the backer
    pledged_by: Mapped[str | None] = mapped_column(sa.ForeignKey("users.id"))
    amount: Mapped[int] = mapped_column(sa.BigInteger)
    currency: Mapped[str] = mapped_column(sa.String(3))
    state: Mapped[str] = mapped_column(sa.String(16), default="active")  # active | withdrawn | refunded | released
    merged_from_id: Mapped[str | None] = mapped_column(sa.String(64))  # the requirement it was made on
    merged_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    released_amount: Mapped[int] = mapped_column(sa.BigInteger, default=0)  # paid towards the accepted price
    refunded_amount: Mapped[int] = mapped_column(sa.BigInteger, default=0)  # given back to the backer
    created_at: Mapped[dt.datetime] = created_column()
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class RequirementProposal(Base):
    """A developer's offer to build a requirement: price, delivery date and plan."""

    __tablename__ = "requirement_proposals"

    id: Mapped[str] = id_column("prp")
    requirement_id: Mapped[str] = mapped_column(sa.ForeignKey("requirements.id"), index=True)
    developer_id: Mapped[str] = mapped_column(sa.ForeignKey("users.id"), index=True)
    price_amount: Mapped[int] = mapped_column(sa.BigInteger)
    currency: Mapped[str] = mapped_column(sa.String(3))
    delivery_date: Mapped[dt.date] = mapped_column(sa.Date)
    plan: Mapped[str] = mapped_column(sa.Text)
    state: Mapped[str] = mapped_column(sa.String(16), default="submitted")  # + accepted | declined | withdrawn
    created_at: Mapped[dt.datetime] = created_column()
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class RequirementVote(Base):
    """A backer shop's vote: for a proposal (vote mode) or on the delivery (accept | reject).

    Weighed at counting time by the shop's active pledges; one vote per shop and kind, changeable.
    """

    __tablename__ = "requirement_votes"
    __table_args__ = (sa.UniqueConstraint("requirement_id", "shop_id", "kind"),)

    id: Mapped[str] = id_column("rvt")
    requirement_id: Mapped[str] = mapped_column(sa.ForeignKey("requirements.id"), index=True)
    shop_id: Mapped[str] = shop_column()
    kind: Mapped[str] = mapped_column(sa.String(16))  # proposal | delivery
    proposal_id: Mapped[str | None] = mapped_column(sa.String(64))
    decision: Mapped[str | None] = mapped_column(sa.String(16))
    cast_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class RequirementTimelineEntry(Base):
    """One line of a requirement's public timeline: a state change (or a merge), who did it and when."""

    __tablename__ = "requirement_timeline"

    id: Mapped[str] = id_column("rtl")
    requirement_id: Mapped[str] = mapped_column(sa.ForeignKey("requirements.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    state: Mapped[str | None] = mapped_column(sa.String(20))  # the state entered; None for a note
    event: Mapped[str] = mapped_column(sa.String(40))
    actor_type: Mapped[str] = mapped_column(sa.String(16))  # shop | developer | admin | system
    actor_id: Mapped[str | None] = mapped_column(sa.String(64))
    actor_name: Mapped[str] = mapped_column(sa.String(200))
    note: Mapped[str] = mapped_column(sa.String(2000), default="")
