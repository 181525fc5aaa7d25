"""Builders for service-market tests: a funded shop, a provider, a service with a small and a project package."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from factories import UserFactory
from souk_marketplace.service_market import catalogue, services
from souk_marketplace.service_market.catalogue import MilestoneSpec, PackageSpec
from souk_marketplace.service_market.services import Party
from souk_platform.ledger.services import Leg, check_invariants, get_account, post_transfer
from souk_platform.shops.models import Shop

FUNDS = 500_000  # ¥5,000.00 of takings for the buying shop
SMALL_PRICE = 30_000  # ¥300.00
PROJECT_MILESTONES = (("Design", 40_000, 5), ("Build", 50_001, 10), ("Launch", 9_999, 5))  # ¥1,000.00 in 20 days


@dataclass(frozen=True)
class Offer:
    """Plain ids (ORM objects expire when a request rolls back)."""

    provider_id: str
    provider_user_id: str
    service_id: str
    small_package: str
    project_package: str


def fund(session: Any, shop: Shop, amount: int) -> None:
    """Give the shop takings, as paid orders would (the test payment provider's clearing account pays)."""
    clearing = get_account(session, shop_id=shop.id, kind="platform.payments_clearing", owner_id="test-psp", unit="CNY")
    balance = get_account(session, shop_id=shop.id, kind="shop.balance", owner_id=shop.id, unit="CNY")
    post_transfer(
        session,
        shop_id=shop.id,
        kind="test.takings",
        legs=[Leg(clearing, -amount), Leg(balance, amount)],
        dedupe_key=f"test-takings:{shop.id}:{amount}",
    )
    session.commit()


def small_package(*, price: int = SMALL_PRICE, revisions: int = 1, days: int = 3) -> PackageSpec:
    return PackageSpec(name="Basic", kind="small", price=price, currency="CNY", delivery_days=days, revisions=revisions)


def project_package() -> PackageSpec:
    return PackageSpec(
        name="Full shop",
        kind="project",
        price=sum(m[1] for m in PROJECT_MILESTONES),
        currency="CNY",
        delivery_days=sum(m[2] for m in PROJECT_MILESTONES),
        revisions=1,
        milestones=[MilestoneSpec(title, amount, days) for title, amount, days in PROJECT_MILESTONES],
    )


def make_offer(
    session: Any,
    now: dt.datetime,
    *,
    title: str = "天猫店铺代运营 Tmall store operations",
    category: str = "operations",
    small: PackageSpec | None = None,
    user: Any = None,
) -> Offer:
    user = user or UserFactory(is_developer=True)
    provider = catalogue.create_provider(
        session, user=user, display_name="杭州小二运营", bio="Ten years of Tmall.", categories=[category], now=now
    )
    service = catalogue.create_service(
        session,
        provider=provider,
        category=category,
        title=title,
        description="Listings, campaigns and daily operations for your store.",
        packages=[small or small_package(), project_package()],
        now=now,
    )
    session.commit()
    small_id, project_id = (p.id for p in service.packages)
    return Offer(provider.id, user.id, service.id, small_id, project_id)


def assert_ledger_sound(session: Any) -> None:
    assert check_invariants(session) == []


def service_market_world(session: Any, shop: Shop, now: dt.datetime) -> dict[str, str]:
    """For the tenancy suite: a provider's service, and shop's order of it (in progress) with a file."""
    fund(session, shop, SMALL_PRICE)
    offer = make_offer(session, now)
    order = services.place_order(
        session,
        shop_id=shop.id,
        package_id=offer.small_package,
        requirements="A logo for our tea",
        now=now,
        fee_bps=services.DEFAULT_FEE_BPS,
    )
    stored = services.upload_file(
        session, order_id=order.id, party=Party.buyer(shop.id), filename="brief.txt", content=b"Green tea", now=now
    )
    session.commit()
    return {
        "service": offer.service_id,
        "service_provider": offer.provider_id,
        "service_order": order.id,
        "service_file": stored.id,
    }
