"""Providers, services, packages, portfolio and ratings: what merchants browse before they order.

Plain functions taking the session and explicit arguments. Invalid input raises an ``Unprocessable``
subclass with ``errors`` per field (``packages.0.milestones`` style) and writes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

import sqlalchemy as sa

from souk_marketplace.service_market.errors import (
    InvalidProvider,
    InvalidService,
    PortfolioItemNotFound,
    ProviderNotFound,
    ServiceNotFound,
)
from souk_marketplace.service_market.files import IMAGE_TYPES, MAX_IMAGE_BYTES, sniff
from souk_marketplace.service_market.models import (
    CATEGORIES,
    PACKAGE_KINDS,
    PortfolioItem,
    Service,
    ServicePackage,
    ServiceProvider,
    ServiceRating,
)
from souk_platform.apps.services import MIN_PASSWORD_LENGTH
from souk_platform.auth.models import User
from souk_platform.auth.services import create_user
from souk_platform.core.errors import Conflict
from souk_platform.core.money import CURRENCIES
from souk_platform.db import DbSession

MAX_PACKAGES = 3
MAX_MILESTONES = 10
MAX_PRICE = 100_000_000_00  # 100 million yuan in fen
MAX_DELIVERY_DAYS = 365
MAX_REVISIONS = 20


@dataclass(frozen=True, slots=True)
class MilestoneSpec:
    title: str
    amount: int
    delivery_days: int


@dataclass(frozen=True, slots=True)
class PackageSpec:
    """What a provider offers in one package; ``milestones`` only for ``kind="project"``."""

    name: str
    kind: str
    price: int
    currency: str
    delivery_days: int
    revisions: int
    description: str = ""
    milestones: Sequence[MilestoneSpec] = field(default_factory=tuple)


# --- providers ---------------------------------------------------------------------------------


def _check_profile(display_name: str, bio: str, categories: Sequence[str]) -> dict[str, list[str]]:
    problems: dict[str, list[str]] = {}
    if not display_name.strip() or len(display_name) > 100:
        problems["display_name"] = ["Give a display name of 1 to 100 characters."]
    if len(bio) > 5000:
        problems["bio"] = ["Keep the bio under 5,000 characters."]
    unknown = [c for c in categories if c not in CATEGORIES]
    if unknown or not categories:
        problems["categories"] = [f"Choose at least one of: {', '.join(CATEGORIES)}."]
    return problems


def create_provider(
    session: DbSession, *, user: User, display_name: str, bio: str, categories: Sequence[str], now: dt.datetime
) -> ServiceProvider:
    """Give ``user`` a provider profile (409 if they have one)."""
    problems = _check_profile(display_name, bio, categories)
    if problems:
        raise InvalidProvider("The provider profile has invalid fields.", errors=problems)
    if provider_of_user(session, user.id) is not None:
        raise Conflict("This account is a service provider already.")
    provider = ServiceProvider(
        user_id=user.id,
        display_name=display_name.strip(),
        bio=bio.strip(),
        categories=sorted(set(categories)),
        created_at=now,
    )
    session.add(provider)
    session.flush()
    return provider


def sign_up_provider(
    session: DbSession,
    *,
    email: str,
    name: str,
    password: str,
    display_name: str,
    bio: str,
    categories: Sequence[str],
    now: dt.datetime,
) -> ServiceProvider:
    """Create a user account with a provider profile (409 when the email is taken)."""
    problems = _check_profile(display_name, bio, categories)
    if not name.strip() or len(name) > 200:
        problems["name"] = ["Give a name of 1 to 200 characters."]
    if "@" not in email or len(email) > 320:
        problems["email"] = ["Give a valid email address."]
    if len(password) < MIN_PASSWORD_LENGTH:
        problems["password"] = [f"Use at least {MIN_PASSWORD_LENGTH} characters."]
    if problems:
        raise InvalidProvider("The sign-up has invalid fields.", errors=problems)
    user = create_user(session, email=email, name=name.strip(), password=password)
    return create_provider(session, user=user, display_name=display_name, bio=bio, categories=categories, now=now)


def update_provider(
    session: DbSession, *, provider: ServiceProvider, display_name: str, bio: str, categories: Sequence[str]
) -> ServiceProvider:
    problems = _check_profile(display_name, bio, categories)
    if problems:
        raise InvalidProvider("The provider profile has invalid fields.", errors=problems)
    provider.display_name = display_name.strip()
    provider.bio = bio.strip()
    provider.categories = sorted(set(categories))
    session.flush()
    return provider


def provider_of_user(session: DbSession, user_id: str) -> ServiceProvider | None:
    return session.scalar(sa.select(ServiceProvider).where(ServiceProvider.user_id == user_id))


def get_provider(session: DbSession, provider_id: str) -> ServiceProvider:
    provider = session.get(ServiceProvider, provider_id)
    if provider is None:
        raise ProviderNotFound(f"No service provider {provider_id}.")
    return provider


# --- services and packages ---------------------------------------------------------------------


def _check_packages(packages: Sequence[PackageSpec]) -> dict[str, list[str]]:
    problems: dict[str, list[str]] = {}
    if not 1 <= len(packages) <= MAX_PACKAGES:
        problems["packages"] = [f"Offer 1 to {MAX_PACKAGES} packages."]
    for i, spec in enumerate(packages):
        where = f"packages.{i}"
        if not spec.name.strip() or len(spec.name) > 100:
            problems[f"{where}.name"] = ["Give a name of 1 to 100 characters."]
        if spec.kind not in PACKAGE_KINDS:
            problems[f"{where}.kind"] = ["Choose small or project."]
        if not 1 <= spec.price <= MAX_PRICE:
            problems[f"{where}.price"] = ["The price must be at least 1 fen."]
        if spec.currency not in CURRENCIES:
            problems[f"{where}.currency"] = [f"Use one of {', '.join(sorted(CURRENCIES))}."]
        if not 1 <= spec.delivery_days <= MAX_DELIVERY_DAYS:
            problems[f"{where}.delivery_days"] = [f"Give 1 to {MAX_DELIVERY_DAYS} days."]
        if not 0 <= spec.revisions <= MAX_REVISIONS:
            problems[f"{where}.revisions"] = [f"Give 0 to {MAX_REVISIONS} revisions."]
        if len(spec.description) > 1000:
            problems[f"{where}.description"] = ["Keep the description under 1,000 characters."]
        if spec.kind == "small" and spec.milestones:
            problems[f"{where}.milestones"] = ["Only project packages have milestones."]
        if spec.kind == "project":
            problems.update(_check_milestones(where, spec))
    return problems


def _check_milestones(where: str, spec: PackageSpec) -> dict[str, list[str]]:
    problems: dict[str, list[str]] = {}
    if not 1 <= len(spec.milestones) <= MAX_MILESTONES:
        return {f"{where}.milestones": [f"A project package has 1 to {MAX_MILESTONES} milestones."]}
    for j, milestone in enumerate(spec.milestones):
        if not milestone.title.strip() or len(milestone.title) > 200:
            problems[f"{where}.milestones.{j}.title"] = ["Give a title of 1 to 200 characters."]
        if milestone.amount < 1:
            problems[f"{where}.milestones.{j}.amount"] = ["Each milestone is worth at least 1 fen."]
        if milestone.delivery_days < 1:
            problems[f"{where}.milestones.{j}.delivery_days"] = ["Each milestone takes at least 1 day."]
    if problems:
        return problems
    amounts = sum(m.amount for m in spec.milestones)
    if amounts != spec.price:
        problems[f"{where}.milestones"] = [f"The milestones add up to {amounts} fen, not the price {spec.price}."]
    days = sum(m.delivery_days for m in spec.milestones)
    if days != spec.delivery_days:
        problems.setdefault(f"{where}.milestones", []).append(
            f"The milestones take {days} days, not the package's {spec.delivery_days}."
        )
    return problems


def _check_service(category: str, title: str, description: str) -> dict[str, list[str]]:
    problems: dict[str, list[str]] = {}
    if category not in CATEGORIES:
        problems["category"] = [f"Choose one of: {', '.join(CATEGORIES)}."]
    if not title.strip() or len(title) > 200:
        problems["title"] = ["Give a title of 1 to 200 characters."]
    if len(description) > 20000:
        problems["description"] = ["Keep the description under 20,000 characters."]
    return problems


def _add_packages(session: DbSession, service: Service, packages: Sequence[PackageSpec], now: dt.datetime) -> None:
    for position, spec in enumerate(packages):
        session.add(
            ServicePackage(
                service_id=service.id,
                position=position,
                name=spec.name.strip(),
                description=spec.description.strip(),
                kind=spec.kind,
                price=spec.price,
                currency=spec.currency,
                delivery_days=spec.delivery_days,
                revisions=spec.revisions,
                milestones=[
                    {"title": m.title.strip(), "amount": m.amount, "delivery_days": m.delivery_days}
                    for m in spec.milestones
                ],
                created_at=now,
            )
        )


def create_service(
    session: DbSession,
    *,
    provider: ServiceProvider,
    category: str,
    title: str,
    description: str,
    packages: Sequence[PackageSpec],
    now: dt.datetime,
) -> Service:
    """List a new service with its packages (422 with every invalid field named)."""
    problems = _check_service(category, title, description) | _check_packages(packages)
    if problems:
        raise InvalidService("The service has invalid fields.", errors=problems)
    service = Service(
        provider_id=provider.id, category=category, title=title.strip(), description=description.strip(), created_at=now
    )
    session.add(service)
    session.flush()
    _add_packages(session, service, packages, now)
    session.flush()
    session.refresh(service)
    return service


def update_service(
    session: DbSession,
    *,
    provider: ServiceProvider,
    service_id: str,
    category: str,
    title: str,
    description: str,
    status: str,
    packages: Sequence[PackageSpec],
    now: dt.datetime,
) -> Service:
    """Change a service; its packages are replaced (orders placed before keep what they bought)."""
    service = owned_service(session, provider=provider, service_id=service_id)
    problems = _check_service(category, title, description) | _check_packages(packages)
    if status not in ("active", "hidden"):
        problems["status"] = ["Choose active or hidden."]
    if problems:
        raise InvalidService("The service has invalid fields.", errors=problems)
    service.category, service.title, service.description, service.status = (
        category,
        title.strip(),
        description.strip(),
        status,
    )
    session.execute(
        sa.update(ServicePackage)
        .where(ServicePackage.service_id == service.id, ServicePackage.archived_at.is_(None))
        .values(archived_at=now)
    )
    _add_packages(session, service, packages, now)
    session.flush()
    session.refresh(service)
    return service


def get_service(session: DbSession, service_id: str, *, include_hidden: bool = False) -> Service:
    service = session.get(Service, service_id)
    if service is None or (service.status != "active" and not include_hidden):
        raise ServiceNotFound(f"No service {service_id} in the catalogue.")
    return service


def owned_service(session: DbSession, *, provider: ServiceProvider, service_id: str) -> Service:
    service = session.get(Service, service_id)
    if service is None or service.provider_id != provider.id:
        raise ServiceNotFound(f"No service {service_id} of yours.")
    return service


def services_of(session: DbSession, provider_id: str, *, include_hidden: bool = False) -> list[Service]:
    stmt = sa.select(Service).where(Service.provider_id == provider_id)
    if not include_hidden:
        stmt = stmt.where(Service.status == "active")
    return list(session.scalars(stmt.order_by(Service.id.desc())))


def search_services_stmt(*, q: str | None = None, category: str | None = None) -> sa.Select[Any]:
    """Active services matching every word of ``q`` (title, description or provider name; works for
    Chinese, which has no spaces, as a substring) and the category."""
    stmt = sa.select(Service).join(ServiceProvider, ServiceProvider.id == Service.provider_id)
    stmt = stmt.where(Service.status == "active")
    if category:
        stmt = stmt.where(Service.category == category)
    for word in (q or "").split()[:8]:
        pattern = "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(
            sa.or_(
                Service.title.ilike(pattern, escape="\\"),
                Service.description.ilike(pattern, escape="\\"),
                ServiceProvider.display_name.ilike(pattern, escape="\\"),
            )
        )
    return stmt


def starting_prices(session: DbSession, service_ids: Sequence[str]) -> dict[str, tuple[int, str]]:
    """service id → (lowest package price, its currency) among the current packages."""
    rows = session.execute(
        sa.select(ServicePackage.service_id, ServicePackage.price, ServicePackage.currency)
        .where(ServicePackage.service_id.in_(list(service_ids)), ServicePackage.archived_at.is_(None))
        .order_by(ServicePackage.price)
    )
    out: dict[str, tuple[int, str]] = {}
    for service_id, price, currency in rows:
        out.setdefault(service_id, (price, currency))
    return out


# --- portfolio ---------------------------------------------------------------------------------


def _valid_link(link: str) -> bool:
    parsed = urlparse(link)
    return parsed.scheme in ("http", "https") and bool(parsed.netloc) and len(link) <= 500


def add_portfolio_item(
    session: DbSession,
    *,
    provider: ServiceProvider,
    title: str,
    text: str,
    link: str | None,
    image: bytes | None,
    now: dt.datetime,
) -> PortfolioItem:
    """Show past work: a title and a link and/or an image (PNG, JPEG or WebP, ≤ 512 KiB)."""
    problems: dict[str, list[str]] = {}
    if not title.strip() or len(title) > 200:
        problems["title"] = ["Give a title of 1 to 200 characters."]
    if len(text) > 5000:
        problems["text"] = ["Keep the text under 5,000 characters."]
    if link and not _valid_link(link):
        problems["link"] = ["Give an http(s) address of up to 500 characters."]
    image_type = None
    if image:
        image_type = sniff(image)
        if len(image) > MAX_IMAGE_BYTES:
            problems["image"] = ["The image is larger than 512 KiB."]
        elif image_type not in IMAGE_TYPES:
            problems["image"] = ["Upload a PNG, JPEG or WebP image."]
    if problems:
        raise InvalidProvider("The portfolio item has invalid fields.", errors=problems)
    item = PortfolioItem(
        provider_id=provider.id,
        title=title.strip(),
        text=text.strip(),
        link=link or None,
        image=image or None,
        image_type=image_type if image else None,
        created_at=now,
    )
    session.add(item)
    session.flush()
    return item


def portfolio_of(session: DbSession, provider_id: str) -> list[PortfolioItem]:
    return list(
        session.scalars(
            sa.select(PortfolioItem).where(PortfolioItem.provider_id == provider_id).order_by(PortfolioItem.id.desc())
        )
    )


def get_portfolio_item(session: DbSession, item_id: str) -> PortfolioItem:
    item = session.get(PortfolioItem, item_id)
    if item is None:
        raise PortfolioItemNotFound(f"No portfolio item {item_id}.")
    return item


def delete_portfolio_item(session: DbSession, *, provider: ServiceProvider, item_id: str) -> None:
    item = get_portfolio_item(session, item_id)
    if item.provider_id != provider.id:
        raise PortfolioItemNotFound(f"No portfolio item {item_id} of yours.")
    session.delete(item)
    session.flush()


# --- ratings -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RatingSummary:
    count: int
    average: float | None  # one decimal; None with no ratings
    by_stars: dict[int, int]


def rating_summaries(session: DbSession, provider_ids: Sequence[str]) -> dict[str, RatingSummary]:
    """provider id → count, average and count per star of their ratings."""
    counts: dict[str, dict[int, int]] = {pid: dict.fromkeys(range(1, 6), 0) for pid in provider_ids}
    rows = session.execute(
        sa.select(ServiceRating.provider_id, ServiceRating.stars, sa.func.count())
        .where(ServiceRating.provider_id.in_(list(provider_ids)))
        .group_by(ServiceRating.provider_id, ServiceRating.stars)
    )
    for provider_id, stars, count in rows:
        counts[provider_id][int(stars)] = int(count)
    out = {}
    for provider_id, by_stars in counts.items():
        total = sum(by_stars.values())
        average = round(sum(s * n for s, n in by_stars.items()) / total, 1) if total else None
        out[provider_id] = RatingSummary(total, average, by_stars)
    return out


def recent_ratings(session: DbSession, provider_id: str, *, limit: int = 20) -> list[ServiceRating]:
    return list(
        session.scalars(
            sa.select(ServiceRating)
            .where(ServiceRating.provider_id == provider_id)
            .order_by(ServiceRating.id.desc())
            .limit(limit)
        )
    )
