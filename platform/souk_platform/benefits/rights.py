"""Package rights at checkout (docs/architecture.md §5.7, §5.10): what a member's held rights do to an order.

A member holds a right through an active grant (until that item's own expiry) or through an active
``level`` package whose level they hold (while they hold it) — the same rights ``customer_benefits``
answers. Checkout's member-perks step reads them with ``member_line_prices`` and prices each line at the
**lowest** of:

1. the SKU's list price;
2. the level perk (the member price for the buyer's level, else the level's discount: members.perks);
3. a held ``member_price`` right for that SKU (``benefit_price``);
4. the best held ``member_discount`` right, ``percent_off`` off the list price rounded half up to the
   fen like level discounts (``benefit_discount``).

Perks never stack: the cheapest wins, ties going to the level perk, then a package's price, then its
discount. A ``free_shipping`` right waives every ``order.extra_fee`` fee of ``kind`` ``shipping``
(``waive_shipping_fees``). Using a right does not use the grant up: a price, a discount or free shipping
serves every order until it expires; the order lines and fees record which grant (or level package) gave
it, so reports can count the use.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from souk_platform.benefits.models import BenefitGrant, BenefitPackage
from souk_platform.core.money import percent_of
from souk_platform.db import DbSession
from souk_platform.members.perks import LevelPerks, MemberUnitPrice, member_unit_prices

__all__ = [
    "BENEFIT_DISCOUNT",
    "BENEFIT_PRICE",
    "NO_RIGHTS",
    "SHIPPING_FEE",
    "HeldRights",
    "LinePerk",
    "RightSource",
    "best_unit_price",
    "held_rights",
    "member_line_prices",
    "package_names",
    "waive_shipping_fees",
]

BENEFIT_PRICE = "benefit_price"  # the line was priced at a package's member price for its SKU
BENEFIT_DISCOUNT = "benefit_discount"  # the line was priced at a package's member discount off the list price
SHIPPING_FEE = "shipping"  # the ``kind`` of an ``order.extra_fee`` fee that free shipping waives
_PRICING_RIGHTS = ("member_discount", "member_price", "free_shipping")


@dataclass(frozen=True, slots=True)
class RightSource:
    """Where a held right comes from: a grant (and its package), or a level package the member's level reaches."""

    package_id: str
    grant_id: str | None = None


@dataclass(frozen=True, slots=True)
class HeldRights:
    """The rights that change what a member pays: the best discount, the lowest price per SKU, free shipping."""

    percent_off: int = 0
    discount_source: RightSource | None = None
    prices: dict[str, tuple[int, RightSource]] = field(default_factory=dict)  # SKU -> (fen, source)
    free_shipping: RightSource | None = None


NO_RIGHTS = HeldRights()


@dataclass(frozen=True, slots=True)
class LinePerk:
    """What a member pays per unit of one SKU, the perk that set it (``None``: the list price) and, for a
    package right, where it came from."""

    unit_price: int
    perk: str | None
    source: RightSource | None = None


def _sources(
    session: DbSession, *, shop_id: str, customer_id: str, level: int, now: dt.datetime
) -> list[tuple[str | None, str, list[Any]]]:
    """(grant id or None, package id, items) of the customer's active grants and reachable level packages:
    one statement, grants first, each part in id order."""
    grants = sa.select(
        BenefitGrant.id.label("grant_id"),
        BenefitGrant.package_id.label("package_id"),
        BenefitGrant.items.label("items"),
        sa.literal(0).label("part"),
    ).where(
        BenefitGrant.shop_id == shop_id,
        BenefitGrant.customer_id == customer_id,
        BenefitGrant.status == "active",
        sa.or_(BenefitGrant.expires_at.is_(None), BenefitGrant.expires_at > now),
    )
    packages = sa.select(
        sa.cast(sa.null(), sa.String).label("grant_id"),
        BenefitPackage.id.label("package_id"),
        BenefitPackage.items.label("items"),
        sa.literal(1).label("part"),
    ).where(
        BenefitPackage.shop_id == shop_id,
        BenefitPackage.status == "active",
        BenefitPackage.trigger == "level",
        BenefitPackage.trigger_params["level"].as_integer() <= level,
    )
    union = sa.union_all(grants, packages).subquery()
    rows = session.execute(
        sa.select(union.c.grant_id, union.c.package_id, union.c["items"]).order_by(
            union.c.part, union.c.grant_id, union.c.package_id
        )
    )
    return [(grant_id, package_id, list(items or [])) for grant_id, package_id, items in rows]


def _collect(sources: Iterable[tuple[str | None, str, list[Any]]], now: dt.datetime) -> HeldRights:
    percent_off, discount_source, free_shipping = 0, None, None
    prices: dict[str, tuple[int, RightSource]] = {}
    for grant_id, package_id, items in sources:
        source = RightSource(package_id=package_id, grant_id=grant_id)
        for item in items:
            kind = item.get("type")
            if kind not in _PRICING_RIGHTS:
                continue
            if grant_id is not None and dt.datetime.fromisoformat(item["expires_at"]) <= now:
                continue  # this item's right has ended, though the grant holds a longer one
            if kind == "member_discount" and int(item["percent_off"]) > percent_off:
                percent_off, discount_source = int(item["percent_off"]), source
            elif kind == "member_price":
                held = prices.get(item["sku_id"])
                if held is None or int(item["price"]) < held[0]:
                    prices[item["sku_id"]] = (int(item["price"]), source)
            elif kind == "free_shipping" and free_shipping is None:
                free_shipping = source
    return HeldRights(percent_off, discount_source, prices, free_shipping)


def held_rights(session: DbSession, *, shop_id: str, customer_id: str, level: int, now: dt.datetime) -> HeldRights:
    """The pricing rights (member discount, member prices, free shipping) the customer holds now. One statement."""
    return _collect(_sources(session, shop_id=shop_id, customer_id=customer_id, level=level, now=now), now)


def best_unit_price(sku_id: str, list_price: int, level_price: MemberUnitPrice, rights: HeldRights) -> LinePerk:
    """The lowest of the list price, the level perk and the held rights for one SKU (ties: the level perk)."""
    best = LinePerk(level_price.unit_price, level_price.perk)
    held = rights.prices.get(sku_id)
    if held is not None and held[0] < best.unit_price:
        best = LinePerk(held[0], BENEFIT_PRICE, held[1])
    if rights.percent_off:
        unit = list_price - percent_of(list_price, rights.percent_off * 100)
        if unit < best.unit_price:
            best = LinePerk(unit, BENEFIT_DISCOUNT, rights.discount_source)
    return best


def member_line_prices(
    session: DbSession,
    *,
    shop_id: str,
    customer_id: str,
    level: int,
    list_prices: Mapping[str, int],
    now: dt.datetime,
) -> tuple[LevelPerks, HeldRights, dict[str, LinePerk]]:
    """The level's perks, the rights held and each SKU's member unit price (``list_prices``: SKU → fen).

    Three statements whatever the number of SKUs: the level configuration, the level's member prices of
    these SKUs, the held rights.
    """
    perks, level_prices = member_unit_prices(session, shop_id=shop_id, level=level, list_prices=list_prices)
    rights = held_rights(session, shop_id=shop_id, customer_id=customer_id, level=level, now=now)
    prices = {
        sku_id: best_unit_price(sku_id, list_price, level_prices[sku_id], rights)
        for sku_id, list_price in list_prices.items()
    }
    return perks, rights, prices


def waive_shipping_fees(fees: Sequence[Mapping[str, Any]], free_shipping: RightSource | None) -> list[dict[str, Any]]:
    """The fees as an order keeps them: ``{label, amount}`` plus ``kind`` when the plugin named one. With free
    shipping held, a ``shipping`` fee is kept at amount 0 with ``waived``, its ``original_amount`` and the
    right's ``benefit_grant_id``/``benefit_package_id``."""
    kept: list[dict[str, Any]] = []
    for fee in fees:
        out: dict[str, Any] = {"label": str(fee["label"]), "amount": int(fee["amount"])}
        if fee.get("kind") is not None:
            out["kind"] = str(fee["kind"])
        if free_shipping is not None and out.get("kind") == SHIPPING_FEE and out["amount"] > 0:
            out.update(
                amount=0,
                waived=True,
                original_amount=int(fee["amount"]),
                benefit_grant_id=free_shipping.grant_id,
                benefit_package_id=free_shipping.package_id,
            )
        kept.append(out)
    return kept


def package_names(session: DbSession, *, shop_id: str, package_ids: Iterable[str | None]) -> dict[str, str]:
    """The names of the shop's packages among ``package_ids`` (an order page names the rights it used)."""
    wanted = {package_id for package_id in package_ids if package_id}
    if not wanted:
        return {}
    rows = session.execute(
        sa.select(BenefitPackage.id, BenefitPackage.name).where(
            BenefitPackage.shop_id == shop_id, BenefitPackage.id.in_(wanted)
        )
    )
    return {package_id: name for package_id, name in rows}
