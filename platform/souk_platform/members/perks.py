"""Level perks (docs/architecture.md §5.7): what a member level is worth at checkout and on payment.

Each level of the shop's configuration may carry a discount off list prices (``discount_bps``, basis
points off: 9.5折 = 500) and a points multiplier (``points_multiplier_percent``: 150 earns 1.5×). A
**member price** (会员价) names the price members of one level pay for one SKU; it wins over the level's
discount for that SKU. Prices combine in one order, applied by checkout's level-pricing step before
``cart.discounts``:

1. the SKU's list price;
2. the member price for the buyer's exact level, if the SKU has one; else the level's discount, whose
   amount per unit is ``discount_bps`` of the list price rounded half up to the fen (``percent_of``);
   a member never pays more than the list price, and guests get no perk;
3. then coupons and promotions (and apps' ``cart.discounts`` plugins) on the member-priced subtotal.

The multiplier scales the built-in ``points.earn`` rule (rounded down to whole points) for the level the
buyer had at checkout, as recorded on the order; a ``points.earn`` plugin's answer still replaces it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from souk_platform.catalog.models import MAX_PRICE, Sku
from souk_platform.core.money import percent_of
from souk_platform.core.versions import check_version
from souk_platform.db import DbSession, in_ids
from souk_platform.events.services import emit
from souk_platform.members.errors import InvalidMemberPrice, MemberPriceExists, MemberPriceNotFound
from souk_platform.members.models import MemberLevelConfig, MemberPrice

__all__ = [
    "LEVEL_DISCOUNT",
    "MEMBER_PRICE",
    "LevelPerks",
    "MemberPriceView",
    "MemberUnitPrice",
    "check_perks",
    "create_member_price",
    "delete_member_price",
    "get_member_price",
    "level_perks",
    "member_prices_stmt",
    "member_unit_prices",
    "update_member_price",
]

MEMBER_PRICE = "member_price"  # the line was priced at the member price for the buyer's level
LEVEL_DISCOUNT = "level_discount"  # the line was priced at the level's discount off the list price
MAX_DISCOUNT_BPS = 10_000
MAX_POINTS_MULTIPLIER_PERCENT = 1_000
_SKU_ID = re.compile(r"sku_[0-9a-z]{26}")
_MEMBER_PRICE_ID = re.compile(r"mpr_[0-9a-z]{26}")


@dataclass(frozen=True, slots=True)
class LevelPerks:
    """What one level is worth: its discount off list prices and its points multiplier."""

    level: int
    name: str
    discount_bps: int = 0
    points_multiplier_percent: int = 100


@dataclass(frozen=True, slots=True)
class MemberUnitPrice:
    """The unit price a member pays for one SKU, and the perk that set it (``None``: the list price)."""

    unit_price: int
    perk: str | None


def level_perks(levels: Sequence[Mapping[str, Any]], level: int) -> LevelPerks:
    """The perks of ``level`` in a stored configuration's ``levels`` (none for a level without them)."""
    entry = next((e for e in levels if int(e["level"]) == level), None)
    if entry is None:
        return LevelPerks(level=level, name=f"V{level}")
    return LevelPerks(
        level=level,
        name=str(entry.get("name") or f"V{level}"),
        discount_bps=int(entry.get("discount_bps") or 0),
        points_multiplier_percent=int(entry.get("points_multiplier_percent", 100)),
    )


def member_unit_prices(
    session: DbSession, *, shop_id: str, level: int, list_prices: Mapping[str, int]
) -> tuple[LevelPerks, dict[str, MemberUnitPrice]]:
    """The level's perks and each SKU's unit price for a member of ``level`` (``list_prices``: SKU → fen).

    Two statements whatever the number of SKUs: the shop's level configuration and the member prices of
    these SKUs for this level.
    """
    levels = session.scalar(sa.select(MemberLevelConfig.levels).where(MemberLevelConfig.shop_id == shop_id))
    perks = level_perks(levels or [], level)
    member_prices: dict[str, int] = {}
    if list_prices:
        rows = session.execute(
            sa.select(MemberPrice.sku_id, MemberPrice.price).where(
                MemberPrice.shop_id == shop_id,
                MemberPrice.level == level,
                in_ids(session, MemberPrice.sku_id, list(list_prices)),
            )
        )
        member_prices = {sku_id: price for sku_id, price in rows}
    prices: dict[str, MemberUnitPrice] = {}
    for sku_id, list_price in list_prices.items():
        member_price = member_prices.get(sku_id)
        if member_price is not None:
            unit = min(member_price, list_price)
            prices[sku_id] = MemberUnitPrice(unit, MEMBER_PRICE if unit < list_price else None)
        elif perks.discount_bps:
            unit = list_price - percent_of(list_price, perks.discount_bps)
            prices[sku_id] = MemberUnitPrice(unit, LEVEL_DISCOUNT if unit < list_price else None)
        else:
            prices[sku_id] = MemberUnitPrice(list_price, None)
    return perks, prices


# --- member prices ----------------------------------------------------------------------------------------------


def member_price_payload(price: MemberPrice, currency: str) -> dict[str, Any]:
    return {
        "id": price.id,
        "sku_id": price.sku_id,
        "level": price.level,
        "price": price.price,
        "currency": currency,
        "version": price.version,
    }


@dataclass(frozen=True, slots=True)
class MemberPriceView:
    """A member price with what the API shows beside it: the SKU's product, list price and currency."""

    id: str
    sku_id: str
    product_id: str
    level: int
    price: int
    list_price: int
    currency: str
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime


_VIEW_COLUMNS = (
    MemberPrice.id,
    MemberPrice.sku_id,
    Sku.product_id,
    MemberPrice.level,
    MemberPrice.price,
    Sku.price.label("list_price"),
    Sku.currency,
    MemberPrice.version,
    MemberPrice.created_at,
    MemberPrice.updated_at,
)


def member_prices_stmt(
    shop_id: str, *, sku_id: str | None = None, product_id: str | None = None, level: int | None = None
) -> sa.Select[*tuple[Any, ...]]:
    """The shop's member prices as rows the API shows, optionally for one SKU, product or level."""
    stmt: sa.Select[*tuple[Any, ...]] = (
        sa.select(*_VIEW_COLUMNS)
        .select_from(MemberPrice)
        .join(Sku, Sku.id == MemberPrice.sku_id)
        .where(MemberPrice.shop_id == shop_id)
    )
    if sku_id is not None:
        stmt = stmt.where(MemberPrice.sku_id == sku_id)
    if product_id is not None:
        stmt = stmt.where(Sku.product_id == product_id)
    if level is not None:
        stmt = stmt.where(MemberPrice.level == level)
    return stmt


def _view(session: DbSession, shop_id: str, member_price_id: str) -> MemberPriceView:
    row = session.execute(member_prices_stmt(shop_id).where(MemberPrice.id == member_price_id)).one()
    return MemberPriceView(**row._asdict())


def _row(session: DbSession, shop_id: str, member_price_id: str, *, for_update: bool = False) -> MemberPrice:
    """The shop's member price; locked for a change, so a concurrent change waits and then sees the new version."""
    found = None
    if _MEMBER_PRICE_ID.fullmatch(member_price_id):  # anything else never reaches the database
        stmt = sa.select(MemberPrice).where(MemberPrice.id == member_price_id, MemberPrice.shop_id == shop_id)
        if for_update:
            stmt = stmt.with_for_update().execution_options(populate_existing=True)
        found = session.scalar(stmt)
    if found is None:
        raise MemberPriceNotFound(f"No member price {member_price_id} in this shop.")
    return found


def get_member_price(session: DbSession, *, shop_id: str, member_price_id: str) -> MemberPriceView:
    """One member price (404 when it is not the shop's)."""
    return _view(session, shop_id, _row(session, shop_id, member_price_id).id)


def _sku(session: DbSession, shop_id: str, sku_id: str) -> Sku:
    sku = None
    if _SKU_ID.fullmatch(sku_id):
        sku = session.scalar(sa.select(Sku).where(Sku.id == sku_id, Sku.shop_id == shop_id))
    if sku is None:
        raise InvalidMemberPrice(f"No SKU {sku_id} in this shop.", errors={"sku_id": ["No such SKU in this shop."]})
    return sku


def _check_price(price: int, sku: Sku) -> None:
    if not 0 <= price <= MAX_PRICE:
        raise InvalidMemberPrice(f"A price is 0 to {MAX_PRICE} fen.", errors={"price": [f"Must be 0 to {MAX_PRICE}."]})
    if price > sku.price:
        raise InvalidMemberPrice(
            f"A member price ({price} fen) above the SKU's list price ({sku.price} fen) would charge members more.",
            errors={"price": [f"Must not exceed the list price, {sku.price}."]},
            list_price=sku.price,
        )


def _emit(session: DbSession, price: MemberPrice, currency: str, type: str) -> None:
    emit(
        session,
        shop_id=price.shop_id,
        type=type,
        subject_type="member_price",
        subject_id=price.id,
        payload=member_price_payload(price, currency),
    )


def create_member_price(session: DbSession, *, shop_id: str, sku_id: str, level: int, price: int) -> MemberPriceView:
    """Set the price members of ``level`` pay for ``sku_id``: 422 for another shop's SKU or a price above the
    list price, 409 when the SKU already has a member price for that level (change that one instead)."""
    if level not in range(1, 6):
        raise InvalidMemberPrice(f"Levels run from 1 to 5, not {level}.", errors={"level": ["Must be 1 to 5."]})
    sku = _sku(session, shop_id, sku_id)
    _check_price(price, sku)
    row = MemberPrice(shop_id=shop_id, sku_id=sku.id, level=level, price=price)
    try:
        with session.begin_nested():  # a concurrent create of the same (SKU, level) loses here, cleanly
            session.add(row)
            session.flush()
    except IntegrityError:
        existing = session.scalar(
            sa.select(MemberPrice.id).where(
                MemberPrice.shop_id == shop_id, MemberPrice.sku_id == sku.id, MemberPrice.level == level
            )
        )
        raise MemberPriceExists(
            f"SKU {sku.id} already has a member price for V{level} ({existing}); change that one.",
            member_price_id=existing,
        ) from None
    _emit(session, row, sku.currency, "member_price.created")
    return _view(session, shop_id, row.id)


def update_member_price(
    session: DbSession, *, shop_id: str, member_price_id: str, price: int, expected_version: int | None
) -> MemberPriceView:
    """Change a member price (412 when ``expected_version`` is stale)."""
    row = _row(session, shop_id, member_price_id, for_update=True)
    check_version(row.version, expected_version)
    sku = _sku(session, shop_id, row.sku_id)
    _check_price(price, sku)
    row.price = price
    session.flush()
    _emit(session, row, sku.currency, "member_price.updated")
    return _view(session, shop_id, row.id)


def delete_member_price(
    session: DbSession, *, shop_id: str, member_price_id: str, expected_version: int | None
) -> None:
    """Remove a member price: the SKU falls back to the level's discount (412 when the version is stale)."""
    row = _row(session, shop_id, member_price_id, for_update=True)
    check_version(row.version, expected_version)
    currency = session.scalar(sa.select(Sku.currency).where(Sku.id == row.sku_id)) or ""
    _emit(session, row, currency, "member_price.deleted")
    session.delete(row)
    session.flush()


def check_perks(levels: Iterable[Mapping[str, Any]]) -> dict[str, list[str]]:
    """Field errors in the levels' perks (the schema bounds each number; level 1 may have perks too)."""
    errors: dict[str, list[str]] = {}
    for i, entry in enumerate(levels):
        bps = entry.get("discount_bps") or 0
        if not 0 <= bps < MAX_DISCOUNT_BPS:
            errors[f"levels.{i}.discount_bps"] = ["Basis points off, 0 to 9999 (9.5折 = 500)."]
        multiplier = entry.get("points_multiplier_percent", 100)
        if not 0 <= multiplier <= MAX_POINTS_MULTIPLIER_PERCENT:
            errors[f"levels.{i}.points_multiplier_percent"] = ["0 to 1000 (150 earns 1.5×)."]
    return errors
