"""The coupon wallet: issued coupons in customers' hands (docs/architecture.md §5.9).

A coupon whose ``distribution`` is ``issued`` works only for a customer holding an unused entry of it
(``CustomerCoupon``). ``issue_coupon`` puts one there — idempotent per (coupon, customer, source,
source id), within the coupon's ``per_customer_limit`` and ``total_limit`` (for an issued coupon they
count wallet entries, not redemptions) — and emits ``coupon.issued``; ``issue_coupons`` does the same for
many customers in a fixed number of statements (the journey engine's batches, §5.12).

An entry follows the order that uses it, as redemptions do: ``reserve_entries`` (checkout, under the
coupon's row lock, so two checkouts cannot take one entry) → ``use_entries`` (payment) or
``release_entries`` (cancel); a full refund gives a used entry back (``give_back_entries``) while it is
still valid. ``expire_entries`` (a timer, safe to run twice) moves issued entries past ``expires_at`` to
``expired``; ``revoke_entries`` takes back a source's unused entries (a refunded coupon pack).

Lock order (§5.3): the coupon, then its wallet entries (by id), then ledger accounts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from souk_platform.core.errors import SoukError
from souk_platform.core.ids import new_id
from souk_platform.core.states import Move, StateMachine
from souk_platform.coupons.errors import CouponNotFound, CouponNotIssuable, IllegalWalletMove
from souk_platform.coupons.models import WALLET_SOURCES, Coupon, CustomerCoupon
from souk_platform.customers.models import Customer
from souk_platform.db import DbSession
from souk_platform.events.services import emit
from souk_platform.points.errors import CustomerNotFound

__all__ = [
    "WALLET_STATES",
    "CouponGrant",
    "emit_entry_event",
    "entry_expiry",
    "entry_payload",
    "expire_entries",
    "give_back_entries",
    "held_coupon_ids",
    "issue_coupon",
    "issue_coupons",
    "release_entries",
    "reserve_entries",
    "revoke_entries",
    "use_entries",
    "wallet_stmt",
]

# Wallet statuses shown to clients: "reserved" is an entry a checkout holds for an unpaid order.
WALLET_STATUSES = ("issued", "reserved", "used", "expired", "revoked")

# The moves that matter to others emit ``coupon.<event>``; reserve and release are the checkout's own.
_EVENTS = {"use": "coupon.used", "give_back": "coupon.returned", "expire": "coupon.expired", "revoke": "coupon.revoked"}


def entry_payload(entry: CustomerCoupon) -> dict[str, Any]:
    return {
        "id": entry.id,
        "coupon_id": entry.coupon_id,
        "customer_id": entry.customer_id,
        "status": entry.status,
        "source": entry.source,
        "source_id": entry.source_id or None,
        "issued_at": entry.issued_at.isoformat(),
        "expires_at": entry.expires_at.isoformat() if entry.expires_at else None,
        "order_id": entry.order_id,
        "used_at": entry.used_at.isoformat() if entry.used_at else None,
        "version": entry.version,
    }


def emit_entry_event(session: DbSession, entry: CustomerCoupon, type: str, *, now: dt.datetime) -> None:
    session.flush()
    emit(
        session,
        shop_id=entry.shop_id,
        type=type,
        subject_type="customer_coupon",
        subject_id=entry.id,
        payload=entry_payload(entry),
        created_at=now,
    )


def _illegal(entry: CustomerCoupon, move: str, allowed: tuple[str, ...]) -> IllegalWalletMove:
    return IllegalWalletMove(
        f"Wallet coupon {entry.id} is {entry.status}; it cannot {move.replace('_', ' ')} "
        f"(it may: {', '.join(allowed) or 'nothing'}).",
        current_status=entry.status,
    )


def _record(session: DbSession, entry: CustomerCoupon, move: Move, *, now: dt.datetime) -> None:
    if move.to in ("expired", "revoked"):
        entry.ended_at = now
    if move.name == "use":
        entry.used_at = now
    if move.name in ("release", "give_back"):
        entry.order_id, entry.used_at = None, None
    event = _EVENTS.get(move.name)
    if event:
        emit_entry_event(session, entry, event, now=now)


WALLET_STATES: StateMachine[CustomerCoupon] = StateMachine.of_actions(
    {
        "reserve": {"issued": "reserved"},
        "release": {"reserved": "issued"},
        "use": {"reserved": "used"},
        "give_back": {"used": "issued"},
        "expire": {"issued": "expired"},
        "revoke": {"issued": "revoked"},
    },
    field="status",
    illegal=_illegal,
    record=_record,
)


def _usable(now: dt.datetime) -> sa.ColumnElement[bool]:
    return sa.and_(
        CustomerCoupon.status == "issued",
        sa.or_(CustomerCoupon.expires_at.is_(None), CustomerCoupon.expires_at > now),
    )


def entry_expiry(coupon: Coupon, now: dt.datetime) -> dt.datetime | None:
    ends = [coupon.ends_at] if coupon.ends_at is not None else []
    if coupon.valid_days is not None:
        ends.append(now + dt.timedelta(days=coupon.valid_days))
    return min(ends) if ends else None


@dataclass(frozen=True, slots=True)
class CouponGrant:
    """One coupon to put into ``customer_id``'s wallet; ``source_id`` is its idempotency key within the source."""

    customer_id: str
    source_id: str | None


def issue_coupon(
    session: DbSession,
    *,
    shop_id: str,
    coupon_id: str,
    customer_id: str,
    source: str,
    source_id: str | None,
    now: dt.datetime,
) -> CustomerCoupon:
    """Put one ``coupon_id`` into ``customer_id``'s wallet and emit ``coupon.issued``; idempotent.

    The same (coupon, customer, source, source_id) returns the entry issued the first time, whatever
    its status now. Otherwise the coupon must be an active ``issued`` coupon that has not ended, and
    within its limits: ``total_limit`` counts the coupon's entries not revoked, ``per_customer_limit``
    the customer's — else ``CouponNotIssuable`` (409). 404 for another shop's coupon or customer.
    Locks the coupon row (so parallel issues cannot pass a limit) in the caller's transaction.
    """
    (issued,) = issue_coupons(
        session,
        shop_id=shop_id,
        coupon_id=coupon_id,
        grants=[CouponGrant(customer_id, source_id)],
        source=source,
        now=now,
    )
    if isinstance(issued, SoukError):
        raise issued
    session.flush()
    return issued


def issue_coupons(
    session: DbSession,
    *,
    shop_id: str,
    coupon_id: str,
    grants: Sequence[CouponGrant],
    source: str,
    now: dt.datetime,
) -> list[CustomerCoupon | SoukError]:
    """``issue_coupon`` for many grants of one coupon at once, with the same rules applied in the grants' order:
    for each grant, its entry (new, or the one its key issued before) or the refusal ``issue_coupon`` would
    raise (``CustomerNotFound``, ``CouponNotIssuable``) — a refusal writes nothing. Raises ``CouponNotFound``
    for another shop's coupon.

    A fixed number of statements whatever the number of grants: the coupon's row lock, one read of the
    customers, of the keys' earlier entries and (with a per-customer limit) of what each customer holds. The
    new entries, the coupon's ``issued_count`` and a ``coupon.issued`` for each new entry are added to the
    session, not flushed: the caller's next flush writes them with the rest of its batch.
    """
    if source not in WALLET_SOURCES:
        raise ValueError(f"unknown wallet source {source!r}")
    coupon = session.scalar(
        sa.select(Coupon)
        .where(Coupon.shop_id == shop_id, Coupon.id == coupon_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if coupon is None:
        raise CouponNotFound(f"No coupon {coupon_id} in this shop.")
    customer_ids = sorted({grant.customer_id for grant in grants})
    known = set(
        session.scalars(sa.select(Customer.id).where(Customer.shop_id == shop_id, Customer.id.in_(customer_ids)))
    )
    earlier: dict[tuple[str, str], CustomerCoupon] = {
        (entry.customer_id, entry.source_id): entry
        for entry in session.scalars(
            sa.select(CustomerCoupon).where(
                CustomerCoupon.coupon_id == coupon.id,
                CustomerCoupon.customer_id.in_(customer_ids),
                CustomerCoupon.source == source,
                CustomerCoupon.source_id.in_(sorted({grant.source_id or "" for grant in grants})),
            )
        )
    }
    held = _held_counts(session, coupon, customer_ids) if coupon.per_customer_limit is not None else {}
    results: list[CustomerCoupon | SoukError] = []
    new: list[CustomerCoupon] = []
    for grant in grants:
        key = (grant.customer_id, grant.source_id or "")
        if grant.customer_id not in known:
            results.append(CustomerNotFound(f"No customer {grant.customer_id} in this shop."))
            continue
        if key in earlier:
            results.append(earlier[key])
            continue
        refusal = _coupon_refusal(coupon, now, issued=coupon.issued_count + len(new)) or _customer_refusal(
            coupon, held.get(grant.customer_id, 0)
        )
        if refusal:
            code, detail = refusal
            results.append(CouponNotIssuable(detail, reason=code, coupon_id=coupon.id, customer_id=grant.customer_id))
            continue
        entry = CustomerCoupon(
            id=new_id("ccp"),
            version=1,  # what the INSERT writes: the event's payload is complete before the flush
            shop_id=shop_id,
            coupon_id=coupon.id,
            customer_id=grant.customer_id,
            status="issued",
            source=source,
            source_id=key[1],
            issued_at=now,
            expires_at=entry_expiry(coupon, now),
        )
        new.append(entry)
        earlier[key] = entry
        held[grant.customer_id] = held.get(grant.customer_id, 0) + 1
        results.append(entry)
    if new:
        session.add_all(new)
        coupon.issued_count += len(new)
        for entry in new:
            emit(
                session,
                shop_id=entry.shop_id,
                type="coupon.issued",
                subject_type="customer_coupon",
                subject_id=entry.id,
                payload=entry_payload(entry),
                created_at=now,
            )
    return results


def _coupon_refusal(coupon: Coupon, now: dt.datetime, *, issued: int) -> tuple[str, str] | None:
    """Why the coupon cannot be issued to anyone now, ``issued`` entries of it being out (code, words)."""
    if coupon.distribution != "issued":
        return "public", "Only coupons with distribution 'issued' go into wallets; this one is a public code."
    if coupon.status != "active":
        return "disabled", "This coupon is disabled."
    if coupon.ends_at is not None and now >= coupon.ends_at:
        return "ended", "This coupon has ended."
    if coupon.total_limit is not None and issued >= coupon.total_limit:
        return "total_limit", f"All {coupon.total_limit} of this coupon have been issued."
    return None


def _customer_refusal(coupon: Coupon, held: int) -> tuple[str, str] | None:
    """Why a customer holding ``held`` entries of the coupon (not revoked) cannot have one more."""
    if coupon.per_customer_limit is not None and held >= coupon.per_customer_limit:
        return "per_customer_limit", f"This customer already holds {held} of this coupon, the most allowed."
    return None


def _held_counts(session: DbSession, coupon: Coupon, customer_ids: Collection[str]) -> dict[str, int]:
    """How many entries of ``coupon`` (not revoked) each of ``customer_ids`` holds (absent: none)."""
    rows = session.execute(
        sa.select(CustomerCoupon.customer_id, sa.func.count())
        .where(
            CustomerCoupon.coupon_id == coupon.id,
            CustomerCoupon.customer_id.in_(list(customer_ids)),
            CustomerCoupon.status != "revoked",
        )
        .group_by(CustomerCoupon.customer_id)
    )
    return {customer_id: int(count) for customer_id, count in rows}


def not_issuable_reason(
    session: DbSession, coupon: Coupon, customer_id: str, *, now: dt.datetime
) -> tuple[str, str] | None:
    """Why ``coupon`` cannot go into ``customer_id``'s wallet now, as (code, words); None: it can.

    Codes (``ISSUE_REFUSALS``): public, disabled, ended, total_limit, per_customer_limit. Call under the
    coupon's lock.
    """
    refusal = _coupon_refusal(coupon, now, issued=coupon.issued_count)
    if refusal or coupon.per_customer_limit is None:
        return refusal
    return _customer_refusal(coupon, _held_counts(session, coupon, [customer_id]).get(customer_id, 0))


def wallet_stmt(shop_id: str, customer_id: str, *, status: str | None = None) -> sa.Select[Any]:
    """A customer's wallet entries (the caller checks the customer), optionally of one status."""
    stmt = sa.select(CustomerCoupon).where(CustomerCoupon.shop_id == shop_id, CustomerCoupon.customer_id == customer_id)
    if status:
        stmt = stmt.where(CustomerCoupon.status == status)
    return stmt


def held_coupon_ids(
    session: DbSession, *, customer_id: str | None, coupon_ids: Collection[str], now: dt.datetime
) -> set[str]:
    """Which of ``coupon_ids`` ``customer_id`` holds an unused, unexpired entry of (pricing; no locks)."""
    if customer_id is None or not coupon_ids:
        return set()
    return set(
        session.scalars(
            sa.select(CustomerCoupon.coupon_id)
            .where(
                CustomerCoupon.customer_id == customer_id,
                CustomerCoupon.coupon_id.in_(list(coupon_ids)),
                _usable(now),
            )
            .distinct()
        )
    )


def reserve_entries(
    session: DbSession,
    *,
    shop_id: str,
    customer_id: str | None,
    order_id: str,
    coupon_ids: Collection[str],
    now: dt.datetime,
) -> list[str]:
    """Hold one unused entry of each of ``coupon_ids`` for ``order_id`` (the one expiring first).

    Call under the coupons' row locks (``reserve_redemptions`` does), so two checkouts of one holder
    queue and the second finds no entry. Returns the ids of coupons the customer holds none of.
    """
    missing: list[str] = []
    for coupon_id in sorted(coupon_ids):
        entry = (
            session.scalar(
                sa.select(CustomerCoupon)
                .where(
                    CustomerCoupon.shop_id == shop_id,
                    CustomerCoupon.coupon_id == coupon_id,
                    CustomerCoupon.customer_id == customer_id,
                    _usable(now),
                )
                .order_by(CustomerCoupon.expires_at.asc().nulls_last(), CustomerCoupon.id)
                .limit(1)
                .with_for_update()
                .execution_options(populate_existing=True)
            )
            if customer_id is not None
            else None
        )
        if entry is None:
            missing.append(coupon_id)
            continue
        WALLET_STATES.transition(session, entry, "reserve", now=now)
        entry.order_id = order_id
    session.flush()
    return missing


def _entries_of_order(session: DbSession, shop_id: str, order_id: str, status: str) -> list[CustomerCoupon]:
    return list(
        session.scalars(
            sa.select(CustomerCoupon)
            .where(
                CustomerCoupon.shop_id == shop_id,
                CustomerCoupon.order_id == order_id,
                CustomerCoupon.status == status,
            )
            .order_by(CustomerCoupon.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    )


def use_entries(session: DbSession, *, shop_id: str, order_id: str, now: dt.datetime) -> int:
    """The order was paid: its reserved entries become used (``coupon.used``); idempotent."""
    entries = _entries_of_order(session, shop_id, order_id, "reserved")
    for entry in entries:
        WALLET_STATES.transition(session, entry, "use", now=now)
    return len(entries)


def _back_to_wallet(session: DbSession, entry: CustomerCoupon, move: str, now: dt.datetime) -> None:
    WALLET_STATES.transition(session, entry, move, now=now)
    if entry.expires_at is not None and entry.expires_at <= now:
        WALLET_STATES.transition(session, entry, "expire", now=now)


def release_entries(session: DbSession, *, shop_id: str, order_id: str, now: dt.datetime) -> int:
    """The unpaid order was cancelled: its reserved entries go back to the wallet (or expire if past
    ``expires_at``); idempotent. Returns how many were released."""
    entries = _entries_of_order(session, shop_id, order_id, "reserved")
    for entry in entries:
        _back_to_wallet(session, entry, "release", now)
    session.flush()
    return len(entries)


def give_back_entries(session: DbSession, *, shop_id: str, order_id: str, now: dt.datetime) -> int:
    """The paid order was refunded in full: its used entries return to the wallet (``coupon.returned``),
    or expire at once when past ``expires_at``; idempotent. A partial refund keeps them used."""
    entries = _entries_of_order(session, shop_id, order_id, "used")
    for entry in entries:
        _back_to_wallet(session, entry, "give_back", now)
    session.flush()
    return len(entries)


def revoke_entries(session: DbSession, *, shop_id: str, source: str, source_id: str, now: dt.datetime) -> int:
    """Take back a source's unused entries (``coupon.revoked``); they stop counting against limits."""
    entries = list(
        session.scalars(
            sa.select(CustomerCoupon)
            .where(
                CustomerCoupon.shop_id == shop_id,
                CustomerCoupon.source == source,
                CustomerCoupon.source_id == source_id,
                CustomerCoupon.status == "issued",
            )
            .order_by(CustomerCoupon.id)
            .with_for_update()
        )
    )
    for entry in entries:
        WALLET_STATES.transition(session, entry, "revoke", now=now)
    if entries:
        counts: dict[str, int] = {}
        for entry in entries:
            counts[entry.coupon_id] = counts.get(entry.coupon_id, 0) + 1
        for coupon_id, n in sorted(counts.items()):
            session.execute(
                sa.update(Coupon).where(Coupon.id == coupon_id).values(issued_count=Coupon.issued_count - n)
            )
    session.flush()
    return len(entries)


def expire_entries(session: DbSession, *, now: dt.datetime, batch: int = 500) -> int:
    """Move up to ``batch`` issued entries past ``expires_at`` to expired (``coupon.expired`` each).

    Safe to run twice or in parallel: it takes rows with ``SKIP LOCKED`` and re-checks the status under
    the lock, so an entry a checkout is reserving is left for the next run. Returns how many expired.
    """
    stmt = (
        sa.select(CustomerCoupon)
        .where(
            CustomerCoupon.status == "issued",
            CustomerCoupon.expires_at.is_not(None),
            CustomerCoupon.expires_at <= now,
        )
        .order_by(CustomerCoupon.id)
        .limit(batch)
        .execution_options(populate_existing=True)
    )
    if session.get_bind().dialect.name != "sqlite":
        stmt = stmt.with_for_update(skip_locked=True)
    entries = list(session.scalars(stmt))
    for entry in entries:
        WALLET_STATES.transition(session, entry, "expire", now=now)
    session.flush()
    return len(entries)
