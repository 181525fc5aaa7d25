"""Service orders: placing with escrow, every party's move, disputes, messages, files, ratings and timers.

Money: placing moves the price from the shop's ``shop.balance`` into the order's own
``escrow.service_order`` account (owner = order id). Escrow leaves only to the provider's
``developer.earnings`` (owner = provider's user id) less the platform fee into ``platform.fees``, or
back to ``shop.balance``; every movement is one ``post_transfer`` with a dedupe key.

Milestones: every order has at least one (a small order has exactly one). A milestone that is not
the last is released to the provider as soon as the buyer accepts it (or it auto-completes) and the
next one starts; the last one goes through the order's 14-day CLEARING before it is released. A
dispute, a cancellation or an arbitration deals with whatever is still held.

Every function works in the caller's transaction and writes nothing when it raises, except the
timer sweeps, which commit each order on its own.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
import structlog
from sqlalchemy.orm import InstrumentedAttribute

from souk_marketplace.service_market.errors import (
    AlreadyRated,
    ExtensionConflict,
    IllegalTransition,
    InvalidFile,
    InvalidServiceOrder,
    NotOverdue,
    OfferConflict,
    RevisionLimitReached,
    ServiceFileNotFound,
    ServiceOrderNotFound,
)
from souk_marketplace.service_market.files import FILE_TYPES, MAX_FILE_BYTES, clean_filename, sniff
from souk_marketplace.service_market.models import (
    Service,
    ServiceExtension,
    ServiceFile,
    ServiceMilestone,
    ServiceOrder,
    ServiceOrderEvent,
    ServicePackage,
    ServiceRating,
)
from souk_marketplace.service_market.states import (
    ADMIN,
    BUYER,
    DISPUTE_STATES,
    FINAL_STATES,
    PROVIDER,
    SYSTEM,
    check_move,
    record,
    transition,
)
from souk_platform.core.errors import Conflict, SoukError
from souk_platform.core.money import percent_of
from souk_platform.core.versions import check_version
from souk_platform.db import DbSession
from souk_platform.ledger.models import LedgerAccount
from souk_platform.ledger.services import PLATFORM, Leg, balance_of, get_account, post_transfer
from souk_platform.shops.services import get_shop

log = structlog.get_logger("souk.service_market")

DEFAULT_FEE_BPS = 2000  # the platform's share of what a provider earns: 20 %
REVIEW_WINDOW = {"small": dt.timedelta(days=3), "project": dt.timedelta(days=14)}
CLEARING_PERIOD = dt.timedelta(days=14)
OVERDUE_GRACE = dt.timedelta(hours=24)
EXTENSION_TTL = dt.timedelta(days=4)
ANSWER_WINDOW = dt.timedelta(days=5)
MEDIATION_WINDOW = dt.timedelta(days=30)
MAX_EXTENSION_DAYS = 30
MAX_TEXT = 5000
MAX_REQUIREMENTS = 20000


@dataclass(frozen=True, slots=True)
class Party:
    """Who acts on an order: the buyer (a shop), the provider (a user) or a platform admin (a user)."""

    role: str
    shop_id: str | None = None
    user_id: str | None = None

    @classmethod
    def buyer(cls, shop_id: str, user_id: str | None = None) -> Party:
        return cls(BUYER, shop_id=shop_id, user_id=user_id)

    @classmethod
    def provider(cls, user_id: str) -> Party:
        return cls(PROVIDER, user_id=user_id)

    @classmethod
    def admin(cls, user_id: str) -> Party:
        return cls(ADMIN, user_id=user_id)


SYSTEM_PARTY = Party(SYSTEM)


def fee_bps(config: Mapping[str, Any]) -> int:
    """The platform fee in basis points, from the app's settings."""
    return int(config.get("SOUK_MARKETPLACE_FEE_BPS", DEFAULT_FEE_BPS))


def _text(value: str | None, field: str, *, limit: int = MAX_TEXT, required: bool = True) -> str:
    text = (value or "").strip()
    if required and not text:
        raise InvalidServiceOrder(f"Write the {field}.", errors={field: ["Required."]})
    if len(text) > limit:
        raise InvalidServiceOrder(
            f"The {field} is longer than {limit} characters.", errors={field: [f"At most {limit} characters."]}
        )
    return text


# --- finding orders ------------------------------------------------------------------------------


def get_order(
    session: DbSession, order_id: str, party: Party, *, lock: bool = False, expected_version: int | None = None
) -> ServiceOrder:
    """The order if ``party`` is one of its parties (admins see every order); 404 otherwise.

    With ``lock`` the row is locked for the rest of the transaction: every change takes it first, so
    two parties acting at once are applied one after the other.
    """
    stmt = sa.select(ServiceOrder).where(ServiceOrder.id == order_id)
    if party.role == BUYER:
        stmt = stmt.where(ServiceOrder.shop_id == party.shop_id)
    elif party.role == PROVIDER:
        stmt = stmt.where(ServiceOrder.provider_user_id == party.user_id)
    elif party.role not in (ADMIN, SYSTEM):
        raise ValueError(f"unknown party {party.role!r}")
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    order = session.scalar(stmt)
    if order is None:
        raise ServiceOrderNotFound(f"No service order {order_id} here.")
    check_version(order.version, expected_version)
    return order


def orders_stmt(
    *, shop_id: str | None = None, provider_user_id: str | None = None, state: str | None = None
) -> sa.Select[Any]:
    stmt = sa.select(ServiceOrder)
    if shop_id is not None:
        stmt = stmt.where(ServiceOrder.shop_id == shop_id)
    if provider_user_id is not None:
        stmt = stmt.where(ServiceOrder.provider_user_id == provider_user_id)
    if state:
        stmt = stmt.where(ServiceOrder.state == state)
    return stmt


def disputes_stmt() -> sa.Select[Any]:
    """Orders in a dispute, oldest first: the admin's queue."""
    return sa.select(ServiceOrder).where(ServiceOrder.state.in_(sorted(DISPUTE_STATES))).order_by(ServiceOrder.id.asc())


def timeline_stmt(order_id: str) -> sa.Select[Any]:
    return sa.select(ServiceOrderEvent).where(ServiceOrderEvent.order_id == order_id)


def timeline(session: DbSession, order: ServiceOrder) -> list[ServiceOrderEvent]:
    return list(session.scalars(timeline_stmt(order.id).order_by(ServiceOrderEvent.id.asc())))


def files_of(session: DbSession, order: ServiceOrder) -> list[ServiceFile]:
    return list(
        session.scalars(sa.select(ServiceFile).where(ServiceFile.order_id == order.id).order_by(ServiceFile.id.asc()))
    )


def pending_extension(session: DbSession, order: ServiceOrder) -> ServiceExtension | None:
    return session.scalar(
        sa.select(ServiceExtension).where(ServiceExtension.order_id == order.id, ServiceExtension.state == "pending")
    )


def escrow_balance(session: DbSession, order: ServiceOrder) -> int:
    """What the ledger holds for the order (equal to ``order.held``)."""
    return balance_of(
        session, shop_id=order.shop_id, kind="escrow.service_order", owner_id=order.id, unit=order.currency
    )


# --- money ---------------------------------------------------------------------------------------


def _account(session: DbSession, order: ServiceOrder, kind: str) -> LedgerAccount:
    if kind == "escrow.service_order":
        return get_account(session, shop_id=order.shop_id, kind=kind, owner_id=order.id, unit=order.currency)
    if kind == "shop.balance":
        return get_account(session, shop_id=order.shop_id, kind=kind, owner_id=order.shop_id, unit=order.currency)
    if kind == "developer.earnings":
        return get_account(session, shop_id=PLATFORM, kind=kind, owner_id=order.provider_user_id, unit=order.currency)
    return get_account(session, shop_id=PLATFORM, kind=kind, owner_id=PLATFORM, unit=order.currency)


def _release(session: DbSession, order: ServiceOrder, amount: int, *, key: str) -> int:
    """Pay ``amount`` of escrow to the provider less the platform fee (rounded half up); return the fee."""
    if amount <= 0:
        return 0
    fee = percent_of(amount, order.fee_bps)
    post_transfer(
        session,
        shop_id=order.shop_id,
        kind="service_order.release",
        legs=[
            Leg(_account(session, order, "escrow.service_order"), -amount),
            Leg(_account(session, order, "developer.earnings"), amount - fee),
            Leg(_account(session, order, "platform.fees"), fee),
        ],
        reference=order.id,
        dedupe_key=f"service_order:{order.id}:{key}",
    )
    order.released_total += amount
    order.fee_total += fee
    return fee


def _refund(session: DbSession, order: ServiceOrder, amount: int, *, key: str) -> None:
    """Give ``amount`` of escrow back to the buyer's shop balance."""
    if amount <= 0:
        return
    post_transfer(
        session,
        shop_id=order.shop_id,
        kind="service_order.refund",
        legs=[
            Leg(_account(session, order, "escrow.service_order"), -amount),
            Leg(_account(session, order, "shop.balance"), amount),
        ],
        reference=order.id,
        dedupe_key=f"service_order:{order.id}:{key}",
    )
    order.refunded_total += amount


# --- placing an order ----------------------------------------------------------------------------


def place_order(
    session: DbSession,
    *,
    shop_id: str,
    package_id: str,
    requirements: str | None,
    now: dt.datetime,
    fee_bps: int,
    placed_by: str | None = None,
) -> ServiceOrder:
    """Order a package: the price moves from the shop's balance into the order's escrow at once.

    422 for an unknown or withdrawn package, a package priced in another currency than the shop's,
    or a balance that cannot pay. With ``requirements`` the work starts at once.
    """
    package = session.get(ServicePackage, package_id)
    service = session.get(Service, package.service_id) if package else None
    if package is None or package.archived_at is not None or service is None or service.status != "active":
        raise InvalidServiceOrder(
            f"No package {package_id} is on offer.", errors={"package_id": ["No such package on offer."]}
        )
    shop = get_shop(session, shop_id)
    if shop.currency != package.currency:
        raise InvalidServiceOrder(
            f"The package is priced in {package.currency}; the shop pays in {shop.currency}.",
            errors={"package_id": [f"Priced in {package.currency}, not {shop.currency}."]},
        )
    if requirements is not None:
        requirements = _text(requirements, "requirements", limit=MAX_REQUIREMENTS)
    plan = package.milestones or [
        {"title": package.name, "amount": package.price, "delivery_days": package.delivery_days}
    ]
    order = ServiceOrder(
        shop_id=shop_id,
        provider_id=service.provider_id,
        provider_user_id=service.provider.user_id,
        service_id=service.id,
        package_id=package.id,
        service_title=service.title,
        package_name=package.name,
        kind=package.kind,
        amount=package.price,
        currency=package.currency,
        revisions_included=package.revisions,
        fee_bps=fee_bps,
        state="placed",
        placed_by=placed_by,
        created_at=now,
        milestones=[
            ServiceMilestone(
                shop_id=shop_id,
                position=i,
                title=step["title"],
                amount=step["amount"],
                delivery_days=step["delivery_days"],
            )
            for i, step in enumerate(plan)
        ],
    )
    session.add(order)
    session.flush()
    post_transfer(
        session,
        shop_id=shop_id,
        kind="service_order.escrow",
        legs=[
            Leg(_account(session, order, "shop.balance"), -order.amount),
            Leg(_account(session, order, "escrow.service_order"), order.amount),
        ],
        reference=order.id,
        dedupe_key=f"service_order:{order.id}:escrow",
    )
    buyer = Party.buyer(shop_id, placed_by)
    record(session, order, "state", actor=BUYER, user_id=placed_by, now=now, to_state="placed")
    transition(session, order, "requirements_pending", actor=SYSTEM, now=now)
    if requirements is not None:
        _submit_requirements(session, order, buyer, requirements, now=now)
    return order


def _start_milestone(order: ServiceOrder, milestone: ServiceMilestone, now: dt.datetime) -> None:
    milestone.state = "in_progress"
    milestone.started_at = now
    milestone.due_at = now + dt.timedelta(days=milestone.delivery_days)
    order.due_at = milestone.due_at
    order.review_until = None


def _submit_requirements(
    session: DbSession, order: ServiceOrder, party: Party, requirements: str, *, now: dt.datetime
) -> None:
    check_move(order, "in_progress", party.role)
    order.requirements = requirements
    _start_milestone(order, order.milestones[0], now)
    transition(session, order, "in_progress", actor=party.role, user_id=party.user_id, now=now, note=requirements)


def submit_requirements(
    session: DbSession,
    *,
    order_id: str,
    party: Party,
    requirements: str,
    now: dt.datetime,
    expected_version: int | None = None,
) -> ServiceOrder:
    """The buyer sends what the provider needs; the work starts and the first due date runs."""
    order = get_order(session, order_id, party, lock=True, expected_version=expected_version)
    text = _text(requirements, "requirements", limit=MAX_REQUIREMENTS)
    _submit_requirements(session, order, party, text, now=now)
    return order


# --- delivery and review -------------------------------------------------------------------------


def deliver(
    session: DbSession,
    *,
    order_id: str,
    party: Party,
    note: str,
    now: dt.datetime,
    expected_version: int | None = None,
) -> ServiceOrder:
    """The provider delivers the current milestone; the buyer's review window starts (3 or 14 days)."""
    order = get_order(session, order_id, party, lock=True, expected_version=expected_version)
    check_move(order, "delivered", party.role)
    text = _text(note, "note")
    milestone = order.current_milestone
    assert milestone is not None  # in_progress always has one
    milestone.state = "delivered"
    milestone.delivered_at = now
    order.review_until = now + REVIEW_WINDOW[order.kind]
    return transition(
        session,
        order,
        "delivered",
        actor=party.role,
        user_id=party.user_id,
        now=now,
        note=text,
        details={"milestone_id": milestone.id, "milestone": milestone.position + 1},
    )


def accept_delivery(
    session: DbSession, *, order_id: str, party: Party, now: dt.datetime, expected_version: int | None = None
) -> ServiceOrder:
    """The buyer accepts the delivered milestone: the next one starts, or the order goes into clearing."""
    order = get_order(session, order_id, party, lock=True, expected_version=expected_version)
    transition(session, order, "accepted", actor=party.role, user_id=party.user_id, now=now)
    _after_acceptance(session, order, now=now)
    return order


def _after_acceptance(session: DbSession, order: ServiceOrder, *, now: dt.datetime) -> None:
    done = order.current_milestone
    assert done is not None and done.state == "delivered"
    done.state, done.accepted_at = "accepted", now
    order.review_until = None
    following = next((m for m in order.milestones if m.state == "pending"), None)
    if following is None:
        order.due_at = None
        order.clearing_until = now + CLEARING_PERIOD
        transition(session, order, "clearing", actor=SYSTEM, now=now)
        return
    # A milestone that is not the last is paid as soon as it is accepted.
    fee = _release(session, order, done.amount, key=f"release:{done.id}")
    done.state, done.released_at = "released", now
    record(
        session,
        order,
        "milestone_released",
        actor=SYSTEM,
        now=now,
        details={"milestone_id": done.id, "milestone": done.position + 1, "amount": done.amount, "fee": fee},
    )
    _start_milestone(order, following, now)
    transition(
        session,
        order,
        "in_progress",
        actor=SYSTEM,
        now=now,
        details={"milestone_id": following.id, "milestone": following.position + 1},
    )


def request_revision(
    session: DbSession,
    *,
    order_id: str,
    party: Party,
    note: str,
    now: dt.datetime,
    expected_version: int | None = None,
) -> ServiceOrder:
    """The buyer asks for changes (409 once the package's revisions are used up); the work restarts
    with a fresh due date of the milestone's delivery days."""
    order = get_order(session, order_id, party, lock=True, expected_version=expected_version)
    check_move(order, "revision_requested", party.role)
    text = _text(note, "note")
    milestone = order.current_milestone
    assert milestone is not None
    if milestone.revisions_used >= order.revisions_included:
        raise RevisionLimitReached(
            f"The package includes {order.revisions_included} revision(s) and all are used. "
            "Accept the delivery or open a dispute.",
            revisions_included=order.revisions_included,
        )
    milestone.revisions_used += 1
    transition(
        session,
        order,
        "revision_requested",
        actor=party.role,
        user_id=party.user_id,
        now=now,
        note=text,
        details={"revision": milestone.revisions_used, "of": order.revisions_included},
    )
    _start_milestone(order, milestone, now)
    return transition(session, order, "in_progress", actor=SYSTEM, now=now)


# --- extensions and cancelling -------------------------------------------------------------------


def request_extension(
    session: DbSession, *, order_id: str, party: Party, days: int, reason: str, now: dt.datetime
) -> ServiceExtension:
    """The provider asks for more days on the current milestone; the buyer has 4 days to answer."""
    order = get_order(session, order_id, party, lock=True)
    if party.role != PROVIDER:
        raise ExtensionConflict("Only the provider asks for more time.")
    if order.state != "in_progress":
        raise ExtensionConflict(f"Service order {order.id} is {order.state}; more time is asked while in progress.")
    if pending_extension(session, order) is not None:
        raise ExtensionConflict("An extension request is waiting for the buyer's answer already.")
    if not isinstance(days, int) or not 1 <= days <= MAX_EXTENSION_DAYS:
        raise InvalidServiceOrder(
            f"Ask for 1 to {MAX_EXTENSION_DAYS} days.", errors={"days": [f"1 to {MAX_EXTENSION_DAYS}."]}
        )
    text = _text(reason, "reason", limit=1000)
    milestone = order.current_milestone
    assert milestone is not None
    extension = ServiceExtension(
        order_id=order.id,
        shop_id=order.shop_id,
        milestone_id=milestone.id,
        days=days,
        reason=text,
        requested_at=now,
        expires_at=now + EXTENSION_TTL,
    )
    session.add(extension)
    session.flush()
    record(
        session,
        order,
        "extension_requested",
        actor=PROVIDER,
        user_id=party.user_id,
        now=now,
        note=text,
        details={"extension_id": extension.id, "days": days, "expires_at": extension.expires_at.isoformat()},
    )
    return extension


def answer_extension(
    session: DbSession, *, order_id: str, party: Party, accept: bool, now: dt.datetime
) -> ServiceExtension:
    """The buyer accepts (the due date moves by the days asked) or declines the pending request."""
    order = get_order(session, order_id, party, lock=True)
    if party.role != BUYER:
        raise ExtensionConflict("Only the buyer answers an extension request.")
    extension = pending_extension(session, order)
    if extension is None or order.state != "in_progress":
        raise ExtensionConflict("There is no extension request waiting for an answer.")
    if extension.expires_at <= now:
        raise ExtensionConflict("The extension request expired after 4 days without an answer.")
    extension.state, extension.decided_at = ("accepted" if accept else "declined"), now
    milestone = order.current_milestone
    if accept and milestone is not None and milestone.due_at is not None:
        milestone.due_at = milestone.due_at + dt.timedelta(days=extension.days)
        order.due_at = milestone.due_at
    session.flush()
    record(
        session,
        order,
        f"extension_{extension.state}",
        actor=BUYER,
        user_id=party.user_id,
        now=now,
        details={"extension_id": extension.id, "days": extension.days, "due_at": _iso(order.due_at)},
    )
    return extension


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


def cancel_order(
    session: DbSession,
    *,
    order_id: str,
    party: Party,
    reason: str | None,
    now: dt.datetime,
    expected_version: int | None = None,
) -> ServiceOrder:
    """End an order with a refund of everything held: the buyer before work starts or when it is
    overdue by more than 24 hours, the provider (declining) before work starts."""
    order = get_order(session, order_id, party, lock=True, expected_version=expected_version)
    check_move(order, "cancelled", party.role)
    if order.state == "in_progress" and not (order.due_at and now > order.due_at + OVERDUE_GRACE):
        allowed_from = (order.due_at + OVERDUE_GRACE).isoformat() if order.due_at else "never"
        raise NotOverdue(
            f"The order is due at {_iso(order.due_at)}; it may be cancelled after {allowed_from}.",
            cancellable_after=allowed_from,
        )
    text = _text(reason, "reason", required=False)
    refund = order.held
    _refund(session, order, refund, key="cancel")
    for milestone in order.milestones:
        if milestone.state != "released":
            milestone.state = "cancelled"
    order.due_at = None
    return transition(
        session,
        order,
        "cancelled",
        actor=party.role,
        user_id=party.user_id,
        now=now,
        note=text or None,
        details={"refund": refund},
    )


# --- disputes ------------------------------------------------------------------------------------


def open_dispute(
    session: DbSession,
    *,
    order_id: str,
    party: Party,
    reason: str,
    now: dt.datetime,
    expected_version: int | None = None,
) -> ServiceOrder:
    """The buyer disputes a delivery or an accepted order still in clearing; the provider has 5 days."""
    order = get_order(session, order_id, party, lock=True, expected_version=expected_version)
    check_move(order, "disputed", party.role)
    text = _text(reason, "reason")
    order.dispute_from, order.dispute_reason = order.state, text
    order.answer_until = now + ANSWER_WINDOW
    order.review_until = None
    return transition(session, order, "disputed", actor=party.role, user_id=party.user_id, now=now, note=text)


def answer_dispute(session: DbSession, *, order_id: str, party: Party, answer: str, now: dt.datetime) -> ServiceOrder:
    """The provider answers; mediation starts and lasts up to 30 days."""
    order = get_order(session, order_id, party, lock=True)
    check_move(order, "in_mediation", party.role)
    text = _text(answer, "answer")
    order.answer_until = None
    order.mediation_until = now + MEDIATION_WINDOW
    return transition(session, order, "in_mediation", actor=party.role, user_id=party.user_id, now=now, note=text)


def make_offer(
    session: DbSession, *, order_id: str, party: Party, refund: int, note: str | None, now: dt.datetime
) -> ServiceOrder:
    """In mediation, a party proposes a split: ``refund`` fen back to the buyer, the rest to the provider."""
    order = get_order(session, order_id, party, lock=True)
    if order.state != "in_mediation" or party.role not in (BUYER, PROVIDER):
        raise OfferConflict(f"Service order {order.id} is {order.state}; the parties make offers in mediation.")
    _check_refund(order, refund)
    text = _text(note, "note", required=False)
    order.offer_by, order.offer_refund = party.role, refund
    record(
        session,
        order,
        "offer_made",
        actor=party.role,
        user_id=party.user_id,
        now=now,
        note=text or None,
        details={"refund": refund, "release": order.held - refund},
    )
    return order


def _check_refund(order: ServiceOrder, refund: int) -> None:
    if not isinstance(refund, int) or isinstance(refund, bool) or not 0 <= refund <= order.held:
        raise InvalidServiceOrder(
            f"A refund is 0 to {order.held} fen (what is held).", errors={"refund": [f"0 to {order.held}."]}
        )


def accept_offer(session: DbSession, *, order_id: str, party: Party, refund: int, now: dt.datetime) -> ServiceOrder:
    """The other party agrees to the standing offer (naming its refund, so a changed offer is never
    accepted by mistake): the escrow is split and the order ends."""
    order = get_order(session, order_id, party, lock=True)
    if order.state != "in_mediation" or order.offer_by is None or order.offer_refund is None:
        raise OfferConflict("There is no offer standing in mediation.")
    if order.offer_by == party.role:
        raise OfferConflict("An offer is accepted by the other party.")
    if order.offer_refund != refund:
        raise OfferConflict(
            f"The standing offer refunds {order.offer_refund} fen, not {refund}.", offer_refund=order.offer_refund
        )
    return _resolve(session, order, refund, party=party, now=now, note="agreed in mediation")


def escalate_dispute(session: DbSession, *, order_id: str, party: Party, now: dt.datetime) -> ServiceOrder:
    """Either party takes the dispute to platform arbitration before mediation's 30 days are up."""
    order = get_order(session, order_id, party, lock=True)
    check_move(order, "in_arbitration", party.role)
    order.mediation_until = None
    return transition(session, order, "in_arbitration", actor=party.role, user_id=party.user_id, now=now)


ARBITRATION_DECISIONS = ("full_refund", "partial_refund", "no_refund")


def arbitrate(
    session: DbSession,
    *,
    order_id: str,
    party: Party,
    decision: str,
    refund: int | None,
    note: str,
    now: dt.datetime,
) -> ServiceOrder:
    """A platform admin rules: a full refund, a partial refund of ``refund`` fen, or no refund."""
    order = get_order(session, order_id, party, lock=True)
    if order.state != "in_arbitration":
        raise IllegalTransition(
            f"Service order {order.id} is {order.state}; an admin rules once it is in arbitration.",
            current_state=order.state,
        )
    text = _text(note, "note")
    if decision == "full_refund":
        amount = order.held
    elif decision == "no_refund":
        amount = 0
    elif decision == "partial_refund":
        if refund is None or isinstance(refund, bool) or not 0 < refund < order.held:
            raise InvalidServiceOrder(
                f"A partial refund is between 1 and {order.held - 1} fen.",
                errors={"refund": [f"1 to {order.held - 1}."]},
            )
        amount = refund
    else:
        raise InvalidServiceOrder(
            "Decide full_refund, partial_refund or no_refund.", errors={"decision": ["Unknown decision."]}
        )
    return _resolve(session, order, amount, party=party, now=now, note=text, decision=decision)


def _resolve(
    session: DbSession,
    order: ServiceOrder,
    refund: int,
    *,
    party: Party,
    now: dt.datetime,
    note: str,
    decision: str | None = None,
) -> ServiceOrder:
    """End a dispute: ``refund`` of what is held back to the buyer, the rest to the provider less the fee."""
    held = order.held
    to = "refunded" if refund == held else "settled"
    check_move(order, to, party.role)
    release = held - refund
    _refund(session, order, refund, key="dispute-refund")
    fee = _release(session, order, release, key="dispute-release")
    for milestone in order.milestones:
        if milestone.state != "released":
            milestone.state = "resolved"
    order.offer_by = order.offer_refund = None
    order.answer_until = order.mediation_until = order.clearing_until = order.due_at = None
    details: dict[str, Any] = {"refund": refund, "release": release, "fee": fee}
    if decision:
        details["decision"] = decision
    return transition(session, order, to, actor=party.role, user_id=party.user_id, now=now, note=note, details=details)


# --- messages, files and ratings -----------------------------------------------------------------


def post_message(session: DbSession, *, order_id: str, party: Party, body: str, now: dt.datetime) -> ServiceOrderEvent:
    """A message from a party (or an admin) on the order's timeline."""
    order = get_order(session, order_id, party)
    text = _text(body, "body")
    return record(session, order, "message", actor=party.role, user_id=party.user_id, now=now, note=text)


def upload_file(
    session: DbSession, *, order_id: str, party: Party, filename: str, content: bytes, now: dt.datetime
) -> ServiceFile:
    """Keep a file on the order (≤ 5 MiB; PDF, images, ZIP or UTF-8 text, recognised by its bytes)."""
    order = get_order(session, order_id, party)
    if party.role not in (BUYER, PROVIDER):
        raise InvalidFile("Files are added by the buyer or the provider.")
    if order.state in FINAL_STATES:
        raise Conflict(f"Service order {order.id} is {order.state}: no more files can be added.")
    if not content:
        raise InvalidFile("The file is empty.", errors={"file": ["Empty file."]})
    if len(content) > MAX_FILE_BYTES:
        raise InvalidFile("The file is larger than 5 MiB.", errors={"file": ["At most 5 MiB."]})
    content_type = sniff(content)
    if content_type not in FILE_TYPES:
        raise InvalidFile(
            "Only PDF, PNG, JPEG, WebP, GIF, ZIP (office documents too) and UTF-8 text files are accepted.",
            errors={"file": ["This kind of file is not accepted."]},
        )
    milestone = order.current_milestone if party.role == PROVIDER else None
    stored = ServiceFile(
        order_id=order.id,
        shop_id=order.shop_id,
        milestone_id=milestone.id if milestone else None,
        uploaded_by=party.role,
        user_id=party.user_id,
        filename=clean_filename(filename),
        content_type=content_type,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        content=content,
        created_at=now,
    )
    session.add(stored)
    session.flush()
    record(
        session,
        order,
        "file_uploaded",
        actor=party.role,
        user_id=party.user_id,
        now=now,
        details={"file_id": stored.id, "filename": stored.filename, "size": stored.size, "type": content_type},
    )
    return stored


def get_file(session: DbSession, *, order_id: str, file_id: str, party: Party) -> ServiceFile:
    """A file of an order ``party`` may see (the two parties and admins); 404 otherwise."""
    order = get_order(session, order_id, party)
    stored = session.scalar(sa.select(ServiceFile).where(ServiceFile.id == file_id, ServiceFile.order_id == order.id))
    if stored is None:
        raise ServiceFileNotFound(f"No file {file_id} on service order {order.id}.")
    return stored


RATABLE_STATES = frozenset({"clearing", "settled", "refunded"})


def rate_provider(
    session: DbSession, *, order_id: str, party: Party, stars: int, text: str | None, now: dt.datetime
) -> ServiceRating:
    """The buyer rates the provider once per order, after the work was accepted or a dispute ended."""
    order = get_order(session, order_id, party, lock=True)
    if party.role != BUYER:
        raise AlreadyRated("Only the buyer rates the provider.")
    delivered = any(m.delivered_at is not None for m in order.milestones)
    if order.state not in RATABLE_STATES or not delivered:
        raise IllegalTransition(
            f"Service order {order.id} is {order.state}; rate the provider once the work is done.",
            current_state=order.state,
        )
    if session.scalar(sa.select(ServiceRating.id).where(ServiceRating.order_id == order.id)):
        raise AlreadyRated("This order has been rated already.")
    if not isinstance(stars, int) or isinstance(stars, bool) or not 1 <= stars <= 5:
        raise InvalidServiceOrder("Give 1 to 5 stars.", errors={"stars": ["1 to 5."]})
    comment = _text(text, "text", limit=2000, required=False)
    rating = ServiceRating(
        order_id=order.id,
        shop_id=order.shop_id,
        provider_id=order.provider_id,
        service_id=order.service_id,
        stars=stars,
        text=comment,
        created_at=now,
    )
    session.add(rating)
    session.flush()
    record(
        session,
        order,
        "rated",
        actor=BUYER,
        user_id=party.user_id,
        now=now,
        note=comment or None,
        details={"stars": stars},
    )
    return rating


def rating_of(session: DbSession, order: ServiceOrder) -> ServiceRating | None:
    return session.scalar(sa.select(ServiceRating).where(ServiceRating.order_id == order.id))


# --- provider figures ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ProviderEarnings:
    currency: str
    earned: int  # released to the provider, after fees
    fees: int
    held: int  # still in escrow on open orders


def provider_earnings(session: DbSession, provider_user_id: str) -> list[ProviderEarnings]:
    """Per currency: what the provider's orders paid out (net of fees) and what they still hold."""
    rows = session.execute(
        sa.select(
            ServiceOrder.currency,
            sa.func.sum(ServiceOrder.released_total),
            sa.func.sum(ServiceOrder.fee_total),
            sa.func.sum(ServiceOrder.amount - ServiceOrder.released_total - ServiceOrder.refunded_total),
        )
        .where(ServiceOrder.provider_user_id == provider_user_id)
        .group_by(ServiceOrder.currency)
        .order_by(ServiceOrder.currency)
    )
    return [
        ProviderEarnings(currency, int(released or 0) - int(fees or 0), int(fees or 0), int(held or 0))
        for currency, released, fees, held in rows
    ]


def state_counts(session: DbSession, provider_user_id: str) -> dict[str, int]:
    rows = session.execute(
        sa.select(ServiceOrder.state, sa.func.count())
        .where(ServiceOrder.provider_user_id == provider_user_id)
        .group_by(ServiceOrder.state)
    )
    return {state: int(count) for state, count in rows}


# --- timers --------------------------------------------------------------------------------------


def _sweep(
    session: DbSession,
    *,
    state: str,
    deadline: InstrumentedAttribute[dt.datetime | None],
    now: dt.datetime,
    act: Callable[[ServiceOrder], Any],
) -> int:
    """Act on each order in ``state`` whose ``deadline`` has passed, re-checked under its lock,
    committing each on its own (a failure is logged and the next order goes on)."""
    done = 0
    due = sa.select(ServiceOrder.id).where(ServiceOrder.state == state, deadline <= now).limit(500)
    for order_id in list(session.scalars(due)):
        try:
            order = get_order(session, order_id, SYSTEM_PARTY, lock=True)
            until = getattr(order, deadline.key)
            if order.state != state or until is None or until > now:  # moved on since the query
                session.rollback()
                continue
            act(order)
            session.commit()
            done += 1
        except SoukError:
            session.rollback()
            log.exception("service_order.timer_failed", order_id=order_id)
    return done


def expire_extensions(session: DbSession, *, now: dt.datetime) -> int:
    """Extension requests unanswered for 4 days expire (the due date stays)."""
    done = 0
    due = sa.select(ServiceExtension.id, ServiceExtension.order_id).where(
        ServiceExtension.state == "pending", ServiceExtension.expires_at <= now
    )
    for extension_id, order_id in session.execute(due.limit(500)).all():
        order = get_order(session, order_id, SYSTEM_PARTY, lock=True)
        extension = session.get(ServiceExtension, extension_id, populate_existing=True)
        if extension is None or extension.state != "pending":
            session.rollback()
            continue
        extension.state, extension.decided_at = "expired", now
        record(
            session,
            order,
            "extension_expired",
            actor=SYSTEM,
            now=now,
            details={"extension_id": extension.id, "days": extension.days},
        )
        session.commit()
        done += 1
    return done


def auto_complete(session: DbSession, *, now: dt.datetime) -> int:
    """Deliveries whose review window passed in silence count as accepted."""

    def act(order: ServiceOrder) -> None:
        transition(session, order, "auto_completed", actor=SYSTEM, now=now)
        _after_acceptance(session, order, now=now)

    return _sweep(session, state="delivered", deadline=ServiceOrder.review_until, now=now, act=act)


def settle(session: DbSession, *, now: dt.datetime) -> int:
    """Orders whose 14 days of clearing passed: what is held goes to the provider, less the fee."""

    def act(order: ServiceOrder) -> None:
        release = order.held
        fee = _release(session, order, release, key="settle")
        for milestone in order.milestones:
            if milestone.state == "accepted":
                milestone.state, milestone.released_at = "released", now
        order.clearing_until = None
        transition(session, order, "settled", actor=SYSTEM, now=now, details={"release": release, "fee": fee})

    return _sweep(session, state="clearing", deadline=ServiceOrder.clearing_until, now=now, act=act)


def refund_unanswered_disputes(session: DbSession, *, now: dt.datetime) -> int:
    """A provider silent for 5 days loses the dispute: everything held goes back to the buyer."""

    def act(order: ServiceOrder) -> None:
        _resolve(
            session,
            order,
            order.held,
            party=SYSTEM_PARTY,
            now=now,
            note="The provider did not answer the dispute within 5 days.",
        )

    return _sweep(session, state="disputed", deadline=ServiceOrder.answer_until, now=now, act=act)


def escalate_stale_mediations(session: DbSession, *, now: dt.datetime) -> int:
    """Mediation without an agreement after 30 days goes to platform arbitration."""

    def act(order: ServiceOrder) -> None:
        order.mediation_until = None
        transition(session, order, "in_arbitration", actor=SYSTEM, now=now, note="30 days of mediation ended.")

    return _sweep(session, state="in_mediation", deadline=ServiceOrder.mediation_until, now=now, act=act)


# The timers, run in this order by one periodic job (each commits order by order; safe to run twice).
TIMERS: tuple[Callable[..., int], ...] = (
    expire_extensions,
    auto_complete,
    settle,
    refund_unanswered_disputes,
    escalate_stale_mediations,
)


def run_timers(session: DbSession, *, now: dt.datetime) -> dict[str, int]:
    """Run every timer once; returns how many orders each moved."""
    return {timer.__name__: timer(session, now=now) for timer in TIMERS}
