"""factory-boy factories and small builders shared by every test package."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

import factory

from souk_platform.apps.models import App, AppVersion, Installation
from souk_platform.auth.models import User
from souk_platform.auth.scopes import all_scopes
from souk_platform.auth.services import create_access_token
from souk_platform.core.ids import new_id
from souk_platform.db import db
from souk_platform.shops.models import Shop
from souk_platform.shops.services import DEFAULT_SETTINGS, add_staff


class Base(factory.alchemy.SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731 - resolved per test
        sqlalchemy_session_persistence = "commit"  # a request's rollback must not undo setup


class UserFactory(Base):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"user{n}@example.test")
    name = factory.Faker("name")
    password_hash = "scrypt:unusable"
    is_platform_admin = False


class ShopFactory(Base):
    class Meta:
        model = Shop

    name = factory.Sequence(lambda n: f"Shop {n}")
    currency = "CNY"
    settings = factory.LazyFunction(lambda: dict(DEFAULT_SETTINGS))

    @factory.post_generation
    def owner(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        if create:
            add_staff(db.session, shop_id=self.id, user=extracted or UserFactory(), role="owner")
            db.session.commit()


def token_for(shop: Shop, scopes: Iterable[str] | None = None) -> dict[str, str]:
    """Authorization header for a fresh access token on ``shop`` (every registered scope unless given)."""
    scopes = all_scopes() if scopes is None else scopes
    _, plaintext = create_access_token(db.session, shop_id=shop.id, name="test", scopes=scopes, created_by=None)
    db.session.commit()
    return {"Authorization": f"Bearer {plaintext}"}


def form_key() -> str:
    """The fresh key a send-once form carries in each rendering (``souk_platform.web.once``)."""
    return uuid.uuid4().hex


def emit_order_paid(session: Any, shop_id: str, order_id: str) -> None:
    """An ``order.paid`` event in the shop's outbox, committed (what a paid order leaves for webhooks)."""
    from souk_platform.events.services import emit

    emit(
        session,
        shop_id=shop_id,
        type="order.paid",
        subject_type="order",
        subject_id=order_id,
        payload={"id": order_id, "status": "paid", "version": 2},
    )
    session.commit()


def install_app(shop: Shop, manifest: dict[str, Any] | None = None) -> str:
    """An app (owned by a developer) installed on ``shop`` with every scope; returns the installation id."""
    app = App(developer_id=UserFactory().id, name="Helper", client_id=new_id("cli"), client_type="confidential")
    db.session.add(app)
    db.session.flush()
    version = AppVersion(
        app_id=app.id, number=1, manifest=manifest or {"name": "Helper"}, scopes=list(all_scopes()), redirect_uris=[]
    )
    db.session.add(version)
    db.session.flush()
    installation = Installation(
        app_id=app.id, shop_id=shop.id, app_version_id=version.id, granted_scopes=list(all_scopes())
    )
    db.session.add(installation)
    db.session.commit()
    return installation.id


def oauth_token(shop: Shop, installation_id: str) -> dict[str, str]:
    """Authorization header for an OAuth-style access token of the installation, with every scope."""
    _, plaintext = create_access_token(
        db.session, shop_id=shop.id, name="oauth", scopes=all_scopes(), created_by=None, installation_id=installation_id
    )
    db.session.commit()
    return {"Authorization": f"Bearer {plaintext}"}


def log_in_to_shop(client: Any, shop_id: str, *, role: str = "owner") -> User:
    """Log ``client`` in, through the login form, as a new member of the shop's staff with ``role``."""
    from souk_platform.auth.services import create_user

    email = f"staff-{uuid.uuid4().hex[:12]}@shop.example"
    user = create_user(db.session, email=email, name="Staff", password="correct horse battery")
    add_staff(db.session, shop_id=shop_id, user=user, role=role)
    db.session.commit()
    response = client.post("/login", data={"email": email, "password": "correct horse battery"})
    assert response.status_code == 302, response.get_data(as_text=True)
    return user
