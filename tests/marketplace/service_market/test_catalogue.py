"""Providers and services: sign-up, package rules (milestones add up), editing, portfolio."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from marketplace.service_market.builders import make_offer, project_package, small_package

from factories import UserFactory
from souk_marketplace.service_market import catalogue
from souk_marketplace.service_market.catalogue import MilestoneSpec, PackageSpec
from souk_marketplace.service_market.errors import InvalidProvider, InvalidService, ServiceNotFound
from souk_marketplace.service_market.models import ServicePackage, ServiceProvider
from souk_platform.core.errors import Conflict

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def test_a_provider_signs_up_with_an_account_and_a_profile(session, clock):
    provider = catalogue.sign_up_provider(
        session,
        email="Li@Design.example",
        name="Li Na",
        password="long enough pw",
        display_name="Li Design",
        bio="Logos",
        categories=["design", "design"],
        now=clock.now(),
    )
    assert provider.categories == ["design"] and provider.user_id
    with pytest.raises(Conflict):
        catalogue.sign_up_provider(
            session, email="li@design.example", name="x", password="long enough pw", display_name="x", bio="",
            categories=["design"], now=clock.now(),
        )  # fmt: skip


def test_bad_profiles_name_every_field(session, clock):
    with pytest.raises(InvalidProvider) as caught:
        catalogue.sign_up_provider(
            session, email="nope", name="", password="short", display_name="", bio="", categories=["cooking"],
            now=clock.now(),
        )  # fmt: skip
    assert set(caught.value.errors or {}) == {"email", "name", "password", "display_name", "categories"}
    assert session.scalar(sa.select(sa.func.count()).select_from(ServiceProvider)) == 0


def test_a_developer_becomes_a_provider_once(session, clock):
    developer = UserFactory(is_developer=True)
    catalogue.create_provider(
        session, user=developer, display_name="Dev", bio="", categories=["development"], now=clock.now()
    )
    with pytest.raises(Conflict):
        catalogue.create_provider(
            session, user=developer, display_name="Dev", bio="", categories=["development"], now=clock.now()
        )


@pytest.mark.parametrize(
    ("package", "field"),
    [
        (PackageSpec("", "small", 100, "CNY", 3, 1), "packages.0.name"),
        (PackageSpec("A", "huge", 100, "CNY", 3, 1), "packages.0.kind"),
        (PackageSpec("A", "small", 0, "CNY", 3, 1), "packages.0.price"),
        (PackageSpec("A", "small", 100, "XYZ", 3, 1), "packages.0.currency"),
        (PackageSpec("A", "small", 100, "CNY", 0, 1), "packages.0.delivery_days"),
        (PackageSpec("A", "small", 100, "CNY", 3, 21), "packages.0.revisions"),
        (PackageSpec("A", "small", 100, "CNY", 3, 1, milestones=[MilestoneSpec("x", 100, 3)]), "packages.0.milestones"),
        (PackageSpec("A", "project", 100, "CNY", 3, 1), "packages.0.milestones"),
        (
            PackageSpec(
                "A", "project", 100, "CNY", 3, 1, milestones=[MilestoneSpec("a", 60, 1), MilestoneSpec("b", 30, 2)]
            ),
            "packages.0.milestones",
        ),
        (
            PackageSpec("A", "project", 100, "CNY", 3, 1, milestones=[MilestoneSpec("a", 100, 4)]),
            "packages.0.milestones",
        ),
        (
            PackageSpec("A", "project", 100, "CNY", 3, 1, milestones=[MilestoneSpec("", 100, 3)]),
            "packages.0.milestones.0.title",
        ),
    ],
)
def test_package_rules(session, clock, package, field):
    provider = catalogue.create_provider(
        session, user=UserFactory(), display_name="P", bio="", categories=["design"], now=clock.now()
    )
    with pytest.raises(InvalidService) as caught:
        catalogue.create_service(
            session,
            provider=provider,
            category="design",
            title="Logo",
            description="",
            packages=[package],
            now=clock.now(),
        )
    assert field in (caught.value.errors or {}), caught.value.errors


def test_milestones_must_add_up_to_price_and_days(session, clock):
    provider = catalogue.create_provider(
        session, user=UserFactory(), display_name="P", bio="", categories=["design"], now=clock.now()
    )
    bad = PackageSpec(
        "A", "project", 100, "CNY", 3, 1, milestones=[MilestoneSpec("a", 60, 1), MilestoneSpec("b", 30, 1)]
    )
    with pytest.raises(InvalidService) as caught:
        catalogue.create_service(
            session, provider=provider, category="design", title="Logo", description="", packages=[bad], now=clock.now()
        )
    messages = caught.value.errors["packages.0.milestones"]  # type: ignore[index]
    assert messages == [
        "The milestones add up to 90 fen, not the price 100.",
        "The milestones take 2 days, not the package's 3.",
    ]


def test_editing_a_service_replaces_packages_but_keeps_old_ones_for_orders(session, clock):
    offer = make_offer(session, clock.now())
    provider = session.get(ServiceProvider, offer.provider_id)
    service = catalogue.update_service(
        session,
        provider=provider,
        service_id=offer.service_id,
        category="operations",
        title="New title",
        description="",
        status="active",
        packages=[small_package(price=50_000), project_package()],
        now=clock.now(),
    )
    assert [p.price for p in service.packages] == [50_000, 100_000]
    old = session.get(ServicePackage, offer.small_package)
    assert old is not None and old.archived_at is not None
    hidden = catalogue.update_service(
        session, provider=provider, service_id=offer.service_id, category="operations", title="t", description="",
        status="hidden", packages=[small_package()], now=clock.now(),
    )  # fmt: skip
    assert hidden.status == "hidden"
    with pytest.raises(ServiceNotFound):
        catalogue.get_service(session, offer.service_id)
    other = catalogue.create_provider(
        session, user=UserFactory(), display_name="O", bio="", categories=["design"], now=clock.now()
    )
    with pytest.raises(ServiceNotFound):  # another provider's service
        catalogue.owned_service(session, provider=other, service_id=offer.service_id)


def test_portfolio_images_are_checked(session, clock):
    offer = make_offer(session, clock.now())
    provider = session.get(ServiceProvider, offer.provider_id)
    item = catalogue.add_portfolio_item(
        session, provider=provider, title="Tea shop", text="", link="https://tea.example/", image=PNG, now=clock.now()
    )
    assert item.image_type == "image/png"
    for image, link, field in [
        (b"GIF89a....", None, "image"),
        (PNG + b"\x00" * 512 * 1024, None, "image"),
        (None, "javascript:alert(1)", "link"),
    ]:
        with pytest.raises(InvalidProvider) as caught:
            catalogue.add_portfolio_item(
                session, provider=provider, title="x", text="", link=link, image=image, now=clock.now()
            )
        assert field in (caught.value.errors or {})
