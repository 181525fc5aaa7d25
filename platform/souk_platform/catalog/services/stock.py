"""Stock: locking, moving ``on_hand`` and ``reserved`` in one statement (``_shift_stock``), the audit trail,
adjustments and counts, and the reservations checkout, payment, cancel and refund rely on. See
``souk_platform.catalog.services`` for the locking contract (docs/architecture.md §5.3).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from souk_platform.catalog.errors import (
    ReservationMismatch,
    ReservationNotFound,
    SkuNotFound,
    SkusNotForSale,
    StockBelowReserved,
)
from souk_platform.catalog.models import MAX_ON_HAND, InventoryAdjustment, Sku, StockReservation
from souk_platform.catalog.services._shared import _check_stock_limit, _well_formed, sku_payload
from souk_platform.core.errors import OutOfStock, Unprocessable
from souk_platform.core.ids import new_id
from souk_platform.core.versions import check_version
from souk_platform.db import DbSession, in_ids
from souk_platform.events.services import emit


@dataclass(frozen=True, slots=True)
class SkuForSale:
    """What checkout needs to price and check one SKU. ``unit_price`` is in fen of ``currency``."""

    sku_id: str
    product_id: str
    category_id: str  # the product's, copied onto the order line
    title: str  # "<product title> / <sku title>"
    unit_price: int
    currency: str
    available: int


# ---------------------------------------------------------------- stock


def _lock_skus(
    session: DbSession, shop_id: str, sku_ids: Iterable[str], *, with_products: bool = False
) -> dict[str, Sku]:
    """Lock the shop's SKUs among ``sku_ids`` in id order and return them freshly read (with their
    products, read in the same statement but not locked, when ``with_products``)."""
    wanted = sorted(_well_formed(sku_ids))
    if not wanted:
        return {}
    stmt = (
        sa.select(Sku)
        .where(Sku.shop_id == shop_id, in_ids(session, Sku.id, wanted))
        .order_by(Sku.id)
        .with_for_update(of=Sku)
        .execution_options(populate_existing=True)
    )
    if with_products:
        stmt = stmt.options(joinedload(Sku.product, innerjoin=True))
    return {sku.id: sku for sku in session.scalars(stmt)}


def _lock_reservations(session: DbSession, shop_id: str, ref: str) -> list[StockReservation]:
    stmt = (
        sa.select(StockReservation)
        .where(StockReservation.shop_id == shop_id, StockReservation.ref == ref)
        .order_by(StockReservation.sku_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return list(session.scalars(stmt))


def _lock_for_ref(session: DbSession, shop_id: str, ref: str) -> tuple[dict[str, Sku], list[StockReservation]]:
    """Lock the SKUs of every reservation of ``ref``, then the reservations themselves."""
    sku_ids = session.scalars(
        sa.select(StockReservation.sku_id).where(StockReservation.shop_id == shop_id, StockReservation.ref == ref)
    ).all()
    skus = _lock_skus(session, shop_id, sku_ids)
    reservations = _lock_reservations(session, shop_id, ref)
    late = {r.sku_id for r in reservations} - set(skus)
    if late:  # a line was added to ref between the two reads: lock it too
        skus.update(_lock_skus(session, shop_id, late))
    return skus, reservations


_SKUS = cast(sa.Table, Sku.__table__)  # the table itself: these statements bypass the ORM's per-row UPDATEs
_RESERVATIONS = cast(sa.Table, StockReservation.__table__)


@dataclass(frozen=True, slots=True)
class _Move:
    """What one SKU's stock moves by: ``on_hand`` (a sale or a restock) and ``reserved`` (a hold)."""

    on_hand: int = 0
    reserved: int = 0


def _shifted_on_postgresql(shop_id: str, moves: Mapping[str, _Move]) -> sa.UpdateBase:
    # unnest keeps the SQL text the same for any number of lines: one prepared statement, one plan.
    wanted = (
        sa.func.unnest(
            sa.bindparam("sku_ids", list(moves), type_=postgresql.ARRAY(sa.String)),
            sa.bindparam("on_hand", [m.on_hand for m in moves.values()], type_=postgresql.ARRAY(sa.Integer)),
            sa.bindparam("reserved", [m.reserved for m in moves.values()], type_=postgresql.ARRAY(sa.Integer)),
        )
        .table_valued(
            sa.column("sku_id", sa.String), sa.column("on_hand", sa.Integer), sa.column("reserved", sa.Integer)
        )
        .render_derived(name="wanted")
    )
    return _shifted(shop_id, _SKUS.c.id == wanted.c.sku_id, wanted.c.on_hand, wanted.c.reserved)


def _shifted_on_sqlite(shop_id: str, moves: Mapping[str, _Move]) -> sa.UpdateBase:
    # SQLite cannot name a VALUES list's columns nor unnest arrays; a CASE on the id does the same job
    # (SQLite runs in-process, so the longer text per line count costs no round trip).
    def by_id(delta: Mapping[str, int]) -> sa.ColumnElement[int]:
        return sa.case({sku_id: sa.literal(d, sa.Integer) for sku_id, d in delta.items()}, value=_SKUS.c.id)

    on_hand = by_id({sku_id: m.on_hand for sku_id, m in moves.items()})
    reserved = by_id({sku_id: m.reserved for sku_id, m in moves.items()})
    return _shifted(shop_id, _SKUS.c.id.in_(list(moves)), on_hand, reserved)


def _shifted(
    shop_id: str, which: sa.ColumnElement[bool], on_hand: sa.ColumnElement[int], reserved: sa.ColumnElement[int]
) -> sa.UpdateBase:
    after_on_hand, after_reserved = _SKUS.c.on_hand + on_hand, _SKUS.c.reserved + reserved
    return (
        sa.update(_SKUS)
        .where(
            which,
            _SKUS.c.shop_id == shop_id,
            after_reserved >= 0,
            after_reserved <= after_on_hand,
            after_on_hand <= MAX_ON_HAND,
        )
        .values(on_hand=after_on_hand, reserved=after_reserved, version=_SKUS.c.version + 1)
        .returning(_SKUS.c.id, _SKUS.c.on_hand, _SKUS.c.reserved, _SKUS.c.version)
    )


def _shift_stock(session: DbSession, skus: Mapping[str, Sku], moves: Mapping[str, _Move]) -> list[str]:
    """Move ``on_hand`` and ``reserved`` of every SKU in ``moves`` (sku id → deltas) in one statement.

    The caller holds the SKUs' row locks (``_lock_skus``), which keeps the lock order of
    docs/architecture.md §5.3 and means every line fits; the statement still only moves a line that keeps
    ``0 <= reserved <= on_hand <= MAX_ON_HAND``. Returns the ids of lines that did not fit (none while the
    lock holds): the caller then raises, and its transaction, already holding the other lines, must roll
    back. The ORM objects in ``skus`` get the new figures and ``version`` as the database has them.
    """
    if not moves:
        return []
    shop_id = next(iter(skus.values())).shop_id
    build = _shifted_on_postgresql if session.get_bind().dialect.name == "postgresql" else _shifted_on_sqlite
    moved = session.execute(build(shop_id, moves)).all()
    for sku_id, on_hand, reserved, version in moved:
        set_committed_value(skus[sku_id], "on_hand", on_hand)
        set_committed_value(skus[sku_id], "reserved", reserved)
        set_committed_value(skus[sku_id], "version", version)
    done = {sku_id for sku_id, _, _, _ in moved}
    return sorted(sku_id for sku_id in moves if sku_id not in done)


def _shift_reserved(session: DbSession, skus: Mapping[str, Sku], deltas: Mapping[str, int]) -> list[str]:
    """``_shift_stock`` of ``reserved`` alone (sku id → units, negative to release): holds and releases."""
    return _shift_stock(session, skus, {sku_id: _Move(reserved=delta) for sku_id, delta in deltas.items()})


def _set_status(session: DbSession, reservations: Sequence[StockReservation], status: str) -> None:
    """Give ``reservations`` (locked by the caller) ``status`` in one statement, the ORM objects too."""
    if not reservations:
        return
    session.execute(
        sa.update(_RESERVATIONS).where(_RESERVATIONS.c.id.in_([r.id for r in reservations])).values(status=status)
    )
    for r in reservations:
        set_committed_value(r, "status", status)


def _record_adjustments(
    session: DbSession, skus: Mapping[str, Sku], deltas: Mapping[str, int], reason: str, ref: str | None
) -> None:
    """Audit rows and ``inventory.adjusted`` events for ``on_hand`` changes already applied to ``skus``.

    Added to the session without flushing, so all lines go in one INSERT per table at the next flush.
    """
    for sku_id, delta in deltas.items():
        sku = skus[sku_id]
        adjustment = InventoryAdjustment(
            id=new_id("adj"),
            shop_id=sku.shop_id,
            sku_id=sku.id,
            delta=delta,
            reason=reason,
            ref=ref,
            on_hand_after=sku.on_hand,
        )
        session.add(adjustment)
        _emit_adjusted(session, sku, adjustment)


def _record_adjustment(session: DbSession, sku: Sku, delta: int, reason: str, ref: str | None) -> InventoryAdjustment:
    """Write the audit row for an ``on_hand`` change already applied to ``sku`` and emit the event."""
    session.flush()  # bump the SKU's version first, so the event carries the new one
    adjustment = InventoryAdjustment(
        shop_id=sku.shop_id, sku_id=sku.id, delta=delta, reason=reason, ref=ref, on_hand_after=sku.on_hand
    )
    session.add(adjustment)
    session.flush()
    _emit_adjusted(session, sku, adjustment)
    return adjustment


def _emit_adjusted(session: DbSession, sku: Sku, adjustment: InventoryAdjustment) -> None:
    emit(
        session,
        shop_id=sku.shop_id,
        type="inventory.adjusted",
        subject_type="sku",
        subject_id=sku.id,
        payload={
            "adjustment": {
                "id": adjustment.id,
                "delta": adjustment.delta,
                "reason": adjustment.reason,
                "ref": adjustment.ref,
                "on_hand_after": adjustment.on_hand_after,
            },
            "sku": sku_payload(sku),
        },
    )


def adjust_inventory(session: DbSession, *, shop_id: str, sku_id: str, delta: int, reason: str) -> InventoryAdjustment:
    """Add ``delta`` (negative to remove) to ``on_hand``; stock reserved by unpaid orders cannot be removed."""
    if delta == 0:
        raise Unprocessable("An adjustment must change the stock.", errors={"delta": ["Must not be zero."]})
    sku = _lock_skus(session, shop_id, [sku_id]).get(sku_id)
    if sku is None:
        raise SkuNotFound(f"No SKU {sku_id} in this shop.")
    after = sku.on_hand + delta
    if after < sku.reserved:
        raise StockBelowReserved(
            f"SKU {sku.code} has {sku.on_hand} on hand and {sku.reserved} reserved by unpaid orders, so "
            f"{sku.available} available: you can remove at most {sku.available}.",
            errors={"delta": [f"Must be at least {-sku.available}."]},
            on_hand=sku.on_hand,
            reserved=sku.reserved,
            available=sku.available,
        )
    _check_stock_limit(after, "delta")
    sku.on_hand = after
    return _record_adjustment(session, sku, delta, reason, None)


def return_stock(
    session: DbSession, *, shop_id: str, quantities: Mapping[str, int], reason: str, ref: str | None = None
) -> None:
    """Put ``quantities`` (sku id → units) back on hand (refund restock) and record why, all lines in one
    statement. ``SkuNotFound`` (404) names SKUs not in the shop. Not idempotent: call once per refund."""
    if any(quantity <= 0 for quantity in quantities.values()):
        raise Unprocessable("Returned quantity must be positive.", errors={"quantity": ["Must be at least 1."]})
    if not quantities:
        return
    skus = _lock_skus(session, shop_id, quantities)
    missing = sorted(set(quantities) - set(skus))
    if missing:
        raise SkuNotFound(f"No SKU {', '.join(missing)} in this shop.")
    for sku_id, quantity in quantities.items():
        _check_stock_limit(skus[sku_id].on_hand + quantity, "quantity")
    if _shift_stock(session, skus, {sku_id: _Move(on_hand=quantity) for sku_id, quantity in quantities.items()}):
        raise RuntimeError(f"Stock returned for {ref} did not fit under the lock.")  # checked just above
    _record_adjustments(session, skus, quantities, reason, ref)


def _sellable(sku_ids: Collection[str], skus: Mapping[str, Sku]) -> None:
    """Raise ``SkusNotForSale`` naming every id that is unknown here or whose product is not active.

    ``skus`` come with their products loaded (``selectinload`` or ``_lock_skus(with_products=True)``).
    """
    products = {sku.product_id: sku.product for sku in skus.values()}
    problems: dict[str, list[str]] = {}
    for sku_id in sorted(sku_ids):
        sku = skus.get(sku_id)
        if sku is None:
            problems[sku_id] = ["No such SKU in this shop."]
        elif products[sku.product_id].status != "active":
            problems[sku_id] = [f"Product {sku.product_id} is {products[sku.product_id].status}, not for sale."]
    if problems:
        raise SkusNotForSale(
            f"These SKUs cannot be sold: {', '.join(problems)}.", errors=problems, sku_ids=list(problems)
        )


def skus_for_sale(session: DbSession, *, shop_id: str, sku_ids: Iterable[str]) -> dict[str, SkuForSale]:
    """Price and availability of each SKU, by id; 404 (``SkusNotForSale``) naming any that cannot be sold."""
    wanted = set(sku_ids)
    if not wanted:
        return {}
    rows = session.scalars(
        sa.select(Sku)
        .where(Sku.shop_id == shop_id, in_ids(session, Sku.id, _well_formed(wanted)))
        .options(selectinload(Sku.product))
    )
    skus = {sku.id: sku for sku in rows}
    _sellable(wanted, skus)
    return {
        sku.id: SkuForSale(
            sku_id=sku.id,
            product_id=sku.product_id,
            category_id=sku.product.category_id,
            title=f"{sku.product.title} / {sku.title}",
            unit_price=sku.price,
            currency=sku.currency,
            available=sku.available,
        )
        for sku in skus.values()
    }


def _lines(reservations: Iterable[StockReservation], skus: Mapping[str, Sku]) -> list[dict[str, Any]]:
    return [
        {"reservation_id": r.id, "sku_id": r.sku_id, "quantity": r.quantity, "sku": sku_payload(skus[r.sku_id])}
        for r in reservations
    ]


def _emit_stock(session: DbSession, shop_id: str, ref: str, type: str, lines: list[dict[str, Any]]) -> None:
    emit(
        session,
        shop_id=shop_id,
        type=type,
        subject_type="stock_reservation",
        subject_id=ref,
        payload={"ref": ref, "lines": lines},
    )


def reserve_stock(
    session: DbSession, *, shop_id: str, ref: str, quantities: Mapping[str, int], expires_at: dt.datetime
) -> None:
    """Hold ``quantities`` (sku id → units) for ``ref`` (an order id) until ``expires_at``. All or nothing.

    Raises ``SkusNotForSale`` (404) for SKUs not sellable here and ``OutOfStock`` (409,
    ``errors={sku_id: ["only N available"]}``) when any line cannot be covered. Calling again with
    the same ref is a no-op for lines already held or committed (409 if the quantity differs);
    a line whose hold was released is reserved afresh.
    """
    if not 1 <= len(ref) <= 64 or not ref.isprintable():
        raise Unprocessable("A reservation ref must be 1 to 64 characters.", errors={"ref": ["Invalid ref."]})
    if expires_at.tzinfo is None:
        raise ValueError("expires_at must be timezone-aware")
    bad = {
        sku_id: ["Quantity must be a positive whole number."]
        for sku_id, quantity in quantities.items()
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity <= 0
    }
    if bad:
        raise Unprocessable("Every reserved quantity must be at least 1.", errors=bad)
    if not quantities:
        return
    skus = _lock_skus(session, shop_id, quantities, with_products=True)
    _sellable(quantities.keys(), skus)
    held = {r.sku_id: r for r in _lock_reservations(session, shop_id, ref)}

    shortages: dict[str, list[str]] = {}
    todo: list[tuple[Sku, int, StockReservation | None]] = []
    for sku_id in sorted(quantities):
        quantity, previous = quantities[sku_id], held.get(sku_id)
        if previous is not None and previous.status != "released":
            if previous.quantity != quantity:
                raise ReservationMismatch(
                    f"{ref} already holds {previous.quantity} of {sku_id} ({previous.status}), not {quantity}.",
                    errors={sku_id: [f"Already {previous.status} with quantity {previous.quantity}."]},
                )
            continue
        sku = skus[sku_id]
        if sku.available < quantity:
            shortages[sku_id] = [f"only {sku.available} available"]
        else:
            todo.append((sku, quantity, previous))
    if shortages:
        raise OutOfStock(
            f"Not enough stock for {', '.join(shortages)}; nothing was reserved.",
            errors=shortages,
            available={sku_id: skus[sku_id].available for sku_id in shortages},
        )
    if not todo:
        return
    short = _shift_reserved(session, skus, {sku.id: quantity for sku, quantity, _ in todo})
    if short:
        raise OutOfStock(
            f"Not enough stock for {', '.join(short)}; nothing was reserved.",
            errors={sku_id: [f"only {skus[sku_id].available} available"] for sku_id in short},
            available={sku_id: skus[sku_id].available for sku_id in short},
        )
    reservations = []
    for sku, quantity, previous in todo:
        if previous is None:
            previous = StockReservation(id=new_id("rsv"), shop_id=shop_id, ref=ref, sku_id=sku.id, quantity=quantity)
            session.add(previous)
        previous.status, previous.quantity, previous.expires_at = "active", quantity, expires_at
        reservations.append(previous)
    session.flush()
    _emit_stock(session, shop_id, ref, "stock.reserved", _lines(reservations, skus))


def release_stock(session: DbSession, *, shop_id: str, ref: str, expired_before: dt.datetime | None = None) -> None:
    """Give back the stock ``ref`` holds (order cancelled or expired). Idempotent; committed lines stay sold.

    With ``expired_before``, only holds that expired before that instant are released (the expiry job).
    """
    skus, reservations = _lock_for_ref(session, shop_id, ref)
    released = [
        r for r in reservations if r.status == "active" and (expired_before is None or r.expires_at < expired_before)
    ]
    if not released:
        return
    given_back: dict[str, int] = {}
    for r in released:
        given_back[r.sku_id] = given_back.get(r.sku_id, 0) - r.quantity
    if _shift_reserved(session, skus, given_back):  # cannot happen: each hold is counted in its SKU's reserved
        raise RuntimeError(f"The stock reserved for {ref} is less than its holds.")
    _set_status(session, released, "released")
    _emit_stock(session, shop_id, ref, "stock.released", _lines(released, skus))


def commit_stock(session: DbSession, *, shop_id: str, ref: str) -> None:
    """On payment: turn ``ref``'s holds into sales (``on_hand`` and ``reserved`` both drop). Idempotent.

    A hold that was released meanwhile (expired) is taken again if stock allows, else ``OutOfStock``
    and nothing changes. Raises ``ReservationNotFound`` when nothing was ever reserved for ``ref``.
    """
    skus, reservations = _lock_for_ref(session, shop_id, ref)
    if not reservations:
        raise ReservationNotFound(f"No stock was reserved for {ref}.")
    pending = [r for r in reservations if r.status != "committed"]
    shortages = {
        r.sku_id: [f"only {skus[r.sku_id].available} available"]
        for r in pending
        if r.status == "released" and skus[r.sku_id].available < r.quantity
    }
    if shortages:
        raise OutOfStock(
            f"The stock held for {ref} was released and is no longer available for {', '.join(shortages)}.",
            errors=shortages,
        )
    if not pending:
        return
    # Each SKU appears once per ref (unique), so one move per line; a released hold no longer counts in
    # ``reserved``, so only ``on_hand`` drops for it (its availability was checked above, under the lock).
    moves = {r.sku_id: _Move(on_hand=-r.quantity, reserved=-r.quantity if r.status == "active" else 0) for r in pending}
    if _shift_stock(session, skus, moves):
        raise RuntimeError(f"The stock held for {ref} did not fit under the lock.")  # checked just above
    _set_status(session, pending, "committed")
    _record_adjustments(session, skus, {r.sku_id: -r.quantity for r in pending}, "sale", ref)
    _emit_stock(session, shop_id, ref, "stock.committed", _lines(pending, skus))


def expired_reservation_refs(session: DbSession, *, now: dt.datetime, limit: int = 500) -> list[tuple[str, str]]:
    """``(shop_id, ref)`` pairs holding stock past its expiry, oldest expiry first."""
    rows = session.execute(
        sa.select(StockReservation.shop_id, StockReservation.ref)
        .where(StockReservation.status == "active", StockReservation.expires_at < now)
        .group_by(StockReservation.shop_id, StockReservation.ref)
        .order_by(sa.func.min(StockReservation.expires_at))
        .limit(limit)
    )
    return [(shop_id, ref) for shop_id, ref in rows]


def count_stock(
    session: DbSession, *, shop_id: str, sku_id: str, counted: int, expected_version: int | None, reason: str
) -> InventoryAdjustment | None:
    """Set a SKU's ``on_hand`` to a stock count, as an adjustment of the difference (None when it matches).

    The version is checked under the SKU's row lock, so a sale or another count that committed since the
    counter read the SKU is a 412, never a difference applied to a figure they did not see.
    """
    sku = _lock_skus(session, shop_id, [sku_id]).get(sku_id)
    if sku is None:
        raise SkuNotFound(f"No SKU {sku_id} in this shop.")
    check_version(sku.version, expected_version)
    if counted == sku.on_hand:
        return None
    return adjust_inventory(session, shop_id=shop_id, sku_id=sku_id, delta=counted - sku.on_hand, reason=reason)
