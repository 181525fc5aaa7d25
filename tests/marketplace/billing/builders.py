"""Builders for billing tests: a shop with money, a developer's app with every kind of plan, installed with a token."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from factories import ShopFactory
from souk_marketplace.billing import services
from souk_marketplace.billing.models import AppCharge
from souk_marketplace.billing.services import BillingTerms
from souk_platform.apps.models import App, AppVersion, Installation
from souk_platform.apps.services import register_app
from souk_platform.auth.models import User
from souk_platform.auth.services import create_access_token, create_user
from souk_platform.events.models import OutboxEvent
from souk_platform.installations.services import install_app
from souk_platform.ledger.services import PLATFORM, Leg, balance_of, get_account, post_transfer
from souk_platform.shops.models import Shop
from souk_platform.shops.services import add_staff

NOW = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)
TERMS = BillingTerms()  # 20 % fee, 7-day hold, payouts from ¥100
RETURN = "https://shelf.example.com/billing/done"
PASSWORD = "correct horse battery"

MANIFEST = """\
name: Shelf Helper
redirect_uris: [https://shelf.example.com/cb]
scopes: [read_products]
pricing:
  - {id: basic, kind: recurring, price: 9900, currency: CNY, interval: month}
  - {id: pro, kind: recurring, price: 19900, currency: CNY, interval: month}
  - {id: yearly, kind: recurring, price: 99000, currency: CNY, interval: year}
  - {id: trial, kind: recurring, price: 5000, currency: CNY, interval: month, trial_days: 14}
  - {id: metered, kind: usage, price: 1000, currency: CNY, usage_cap: 50000}
  - {id: setup, kind: one_time, price: 30000, currency: CNY}
  - {id: dollars, kind: recurring, price: 900, currency: USD, interval: month}
  - {id: free, kind: free}
"""


@dataclass(frozen=True)
class World:
    """Plain ids: ORM objects detach when a request or a job ends its app context."""

    shop_id: str
    owner_id: str
    developer_id: str
    app_id: str
    installation_id: str
    headers: dict[str, str]  # the installation's token, as the app calls the API


def make_developer(session: Any, email: str = "dev@example.com") -> User:
    developer = create_user(session, email=email, name="Dana Dev", password=PASSWORD)
    developer.is_developer = True
    session.flush()
    return developer


def install(session: Any, *, shop: Shop, owner: User, app: App) -> tuple[Installation, dict[str, str]]:
    installation = install_app(session, app=app, shop_id=shop.id, user_id=owner.id, scopes=["read_products"], now=NOW)
    _, token = create_access_token(
        session,
        shop_id=shop.id,
        name=f"{app.name} (OAuth)",
        scopes=["read_products"],
        created_by=None,
        installation_id=installation.id,
    )
    session.commit()
    return installation, {"Authorization": f"Bearer {token}"}


def fund(session: Any, shop_id: str, amount: int, currency: str = "CNY") -> None:
    """Put takings into the shop's balance, as paid orders would."""
    clearing = get_account(
        session, shop_id=PLATFORM, kind="platform.payments_clearing", owner_id="test-psp", unit=currency
    )
    balance = get_account(session, shop_id=shop_id, kind="shop.balance", owner_id=shop_id, unit=currency)
    post_transfer(session, shop_id=shop_id, kind="test.takings", legs=[Leg(clearing, -amount), Leg(balance, amount)])
    session.commit()


def shop_balance(session: Any, shop_id: str, currency: str = "CNY") -> int:
    return balance_of(session, shop_id=shop_id, kind="shop.balance", owner_id=shop_id, unit=currency)


def earnings(session: Any, developer_id: str, currency: str = "CNY") -> tuple[int, int]:
    """(held, available) of the developer."""
    return tuple(  # type: ignore[return-value]
        balance_of(session, shop_id=PLATFORM, kind=kind, owner_id=developer_id, unit=currency)
        for kind in ("developer.earnings_held", "developer.earnings")
    )


def fees(session: Any, currency: str = "CNY") -> int:
    return balance_of(session, shop_id=PLATFORM, kind="platform.fees", owner_id=PLATFORM, unit=currency)


def events(session: Any, shop_id: str, prefix: str = "") -> list[OutboxEvent]:
    stmt = sa.select(OutboxEvent).where(OutboxEvent.shop_id == shop_id, OutboxEvent.type.startswith(prefix or ""))
    return list(session.scalars(stmt.order_by(OutboxEvent.id)))


def login(client: Any, email: str) -> None:
    response = client.post("/login", data={"email": email, "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)


def build_world(session: Any, *, tag: str = "") -> World:
    """``tag`` makes the logins unique, for tests that commit for real (owner<tag>@…, dev<tag>@…)."""
    owner = create_user(session, email=f"owner{tag}@example.com", name="Olive Owner", password=PASSWORD)
    shop = ShopFactory(name="Tea Corner", owner=owner)
    developer = make_developer(session, f"dev{tag}@example.com")
    app, _version, _secret = register_app(session, developer=developer, manifest_text=MANIFEST)
    session.commit()
    installation, headers = install(session, shop=shop, owner=owner, app=app)
    fund(session, shop.id, 100_000)
    return World(shop.id, owner.id, developer.id, app.id, installation.id, headers)


def subscribe(
    session: Any, world: World, plan_id: str, *, approve: bool = True, now: dt.datetime = NOW, return_url: str = RETURN
) -> Any:
    """The app asks the shop to subscribe to ``plan_id``; the owner approves it (unless ``approve`` is
    False, or the plan needs no approval); committed. Returns the ``AppSubscription``."""
    sub = services.create_subscription(
        session,
        shop_id=world.shop_id,
        installation_id=world.installation_id,
        plan_id=plan_id,
        return_url=return_url,
        terms=TERMS,
        now=now,
    )
    if approve and sub.status == "pending":
        services.approve(session, shop_id=world.shop_id, object_id=sub.id, user_id=world.owner_id, terms=TERMS, now=now)
    session.commit()
    return sub


def billing_world(session: Any, world: dict[str, str], now: dt.datetime) -> dict[str, str]:
    """For the tenancy suite: an approved subscription, its charge and a monthly invoice of shop A's app.

    ``world`` has the shop and an installation whose version lists no plans: one is added to its manifest.
    """
    installation = session.get(Installation, world["installation"])
    version = session.get(AppVersion, installation.app_version_id)
    plan = {"id": "basic", "kind": "recurring", "price": 1000, "currency": "CNY", "interval": "month"}
    version.manifest = {**version.manifest, "pricing": [plan]}
    sub = services.create_subscription(
        session,
        shop_id=world["shop"],
        installation_id=installation.id,
        plan_id="basic",
        return_url="https://helper.example.com/billing",
        terms=TERMS,
        now=now,
    )
    services.approve(session, shop_id=world["shop"], object_id=sub.id, user_id="tenancy", terms=TERMS, now=now)
    charge = session.scalar(sa.select(AppCharge).where(AppCharge.subscription_id == sub.id))
    invoice = services.issue_invoice(
        session, shop_id=world["shop"], year=now.year, month=now.month, now=now + dt.timedelta(days=40)
    )
    assert invoice is not None
    session.commit()
    return {"app_subscription": sub.id, "app_charge": charge.id, "billing_invoice": invoice.id}


def another_shops_installation_token(session: Any, now: dt.datetime) -> dict[str, str]:
    """For the tenancy suite: an app's installation token on a shop that is not shop A."""
    shop = ShopFactory()
    developer = make_developer(session, f"dev-{shop.id}@example.com")
    app, _, _ = register_app(
        session,
        developer=developer,
        manifest_text="name: Elsewhere\nredirect_uris: [https://elsewhere.example.com/cb]\nscopes: [read_products]\n",
    )
    owner = create_user(session, email=f"owner-{shop.id}@example.com", name="Other Owner", password=PASSWORD)
    add_staff(session, shop_id=shop.id, user=owner, role="owner")
    session.commit()
    _, headers = install(session, shop=shop, owner=owner, app=app)
    return headers
