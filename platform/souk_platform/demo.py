"""Demo data for ``souk demo`` and ``souk seed``: people, a shop, a token, and each domain's samples.

Seeding is idempotent: it does nothing when the demo owner already exists.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from flask import Flask, current_app

from souk_platform.auth.models import User
from souk_platform.auth.scopes import all_scopes
from souk_platform.auth.services import create_access_token, create_user
from souk_platform.db import DbSession
from souk_platform.shops.models import Shop
from souk_platform.shops.services import add_staff, create_shop

DEMO_LOGINS = (
    ("shop owner / 店主", "owner@demo.souk.dev", "souk-demo-owner"),
    ("shop staff / 店员", "staff@demo.souk.dev", "souk-demo-staff"),
    ("platform admin / 平台管理员", "admin@demo.souk.dev", "souk-demo-admin"),
    ("developer / 开发者", "dev@demo.souk.dev", "souk-demo-dev"),
)


def seed_demo(session: DbSession, *, echo: Callable[[str], object] = print) -> Shop:
    owner_email = DEMO_LOGINS[0][1]
    existing = session.scalar(sa.select(User).where(User.email == owner_email))
    if existing is not None:
        shop = session.scalar(sa.select(Shop).order_by(Shop.created_at))
        assert shop is not None
        echo("      demo data already present / 演示数据已存在")
        return shop
    users = {}
    for role, email, password in DEMO_LOGINS:
        users[email] = create_user(
            session,
            email=email,
            name=role.split(" / ")[0].title(),
            password=password,
            is_platform_admin=email.startswith("admin@"),
        )
    shop = create_shop(session, name="Souk Demo Tea House 茶舍", owner=users[owner_email])
    add_staff(session, shop_id=shop.id, user=users[DEMO_LOGINS[1][1]], role="staff")
    _, token = create_access_token(
        session, shop_id=shop.id, name="Demo token (all scopes)", scopes=all_scopes(), created_by=users[owner_email].id
    )
    session.commit()
    echo(f"      shop {shop.id} with an all-scopes token: {token}")
    steps = _domain_steps()
    for n, (label, step) in enumerate(steps, start=1):
        echo(f"      [{n}/{len(steps)}] {label}")
        step(session, shop)
        session.commit()
    return shop


DemoStep = tuple[str, Callable[[DbSession, Shop], None]]


def add_demo_step(app: Flask, label: str, step: Callable[[DbSession, Shop], None]) -> None:
    """Let an extension (the marketplace) seed its part of the demo after the platform's steps."""
    app.extensions.setdefault("souk.demo_steps", []).append((label, step))


def _domain_steps() -> list[DemoStep]:
    from souk_platform.seeds import STEPS

    return list(STEPS) + list(current_app.extensions.get("souk.demo_steps", []))
