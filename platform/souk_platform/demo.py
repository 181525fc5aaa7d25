"""Demo data for ``souk demo`` and ``souk seed``: people, a shop and each domain's samples; the start token.

Seeding is idempotent: it does nothing when the demo owner already exists. Each start of the demo mints
an all-scopes token and prints it (only its hash is stored, so an earlier one cannot be shown again);
the tokens of the last ``KEPT_START_TOKENS`` starts stay valid and older ones are revoked, by name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from flask import Flask, current_app

from souk_platform.auth.models import AccessToken, User
from souk_platform.auth.scopes import all_scopes
from souk_platform.auth.services import create_access_token, create_user, revoke_access_token
from souk_platform.core.clock import Clock
from souk_platform.db import DbSession
from souk_platform.shops.models import Shop, StaffMember
from souk_platform.shops.services import add_staff, create_shop

DEMO_LOGINS = (
    ("shop owner / 店主", "owner@demo.souk.dev", "souk-demo-owner"),
    ("shop staff / 店员", "staff@demo.souk.dev", "souk-demo-staff"),
    ("platform admin / 平台管理员", "admin@demo.souk.dev", "souk-demo-admin"),
    ("developer / 开发者", "dev@demo.souk.dev", "souk-demo-dev"),
)


DEMO_SHOP_NAME = "Souk Demo Tea House 茶舍"
START_TOKEN_NAME = "Demo token (all scopes), printed by souk demo"
# A restart must not break the token the reader copied from the previous start (the tutorial restarts
# the demo), yet a demo started hundreds of times must not keep hundreds of all-scopes tokens alive.
KEPT_START_TOKENS = 3


def seed_demo(session: DbSession, *, echo: Callable[[str], object] = print) -> Shop:
    """Seed the demo once and return its shop; ends with everything committed and no transaction open."""
    existing = demo_shop(session)
    if existing is not None:
        # Under SQLite every transaction starts with BEGIN IMMEDIATE (the write lock): the lookups
        # above must not keep it while the server and the job thread start.
        session.commit()
        echo("      demo data already present / 演示数据已存在")
        return existing
    owner_email = DEMO_LOGINS[0][1]
    users = {}
    for role, email, password in DEMO_LOGINS:
        users[email] = create_user(
            session,
            email=email,
            name=role.split(" / ")[0].title(),
            password=password,
            is_platform_admin=email.startswith("admin@"),
        )
    shop = create_shop(session, name=DEMO_SHOP_NAME, owner=users[owner_email])
    add_staff(session, shop_id=shop.id, user=users[DEMO_LOGINS[1][1]], role="staff")
    session.commit()
    echo(f"      shop {shop.id}")
    steps = _domain_steps()
    for n, (label, step) in enumerate(steps, start=1):
        echo(f"      [{n}/{len(steps)}] {label}")
        step(session, shop)
        session.commit()
    return shop


def demo_shop(session: DbSession) -> Shop | None:
    """The demo owner's shop, if the demo was seeded."""
    return session.scalar(
        sa.select(Shop)
        .join(StaffMember, StaffMember.shop_id == Shop.id)
        .join(User, User.id == StaffMember.user_id)
        .where(User.email == DEMO_LOGINS[0][1], StaffMember.role == "owner")
        .order_by(Shop.created_at)
        .limit(1)
    )


@dataclass(frozen=True, slots=True)
class StartToken:
    plaintext: str
    revoked_hints: list[str]  # the last characters of the earlier start tokens revoked now


def mint_start_token(session: DbSession, shop: Shop, *, clock: Clock) -> StartToken:
    """Mint this start's all-scopes token; revoke the start tokens older than the last ``KEPT_START_TOKENS``.

    The caller commits. The revoked tokens' hints are returned so the caller can say which stopped working.
    """
    owner = session.scalar(sa.select(User).where(User.email == DEMO_LOGINS[0][1]))
    _, plaintext = create_access_token(
        session,
        shop_id=shop.id,
        name=START_TOKEN_NAME,
        scopes=all_scopes(),
        created_by=owner.id if owner is not None else None,
    )
    live = session.scalars(
        sa.select(AccessToken)
        .where(
            AccessToken.shop_id == shop.id,
            AccessToken.name == START_TOKEN_NAME,
            AccessToken.installation_id.is_(None),
            AccessToken.revoked_at.is_(None),
        )
        .order_by(AccessToken.created_at.desc(), AccessToken.id.desc())
    ).all()
    revoked = []
    for token in live[KEPT_START_TOKENS:]:
        revoke_access_token(session, shop_id=shop.id, token_id=token.id, clock=clock)
        revoked.append(token.token_hint)
    return StartToken(plaintext=plaintext, revoked_hints=revoked)


DemoStep = tuple[str, Callable[[DbSession, Shop], None]]


def add_demo_step(app: Flask, label: str, step: Callable[[DbSession, Shop], None]) -> None:
    """Let an extension (the marketplace) seed its part of the demo after the platform's steps."""
    app.extensions.setdefault("souk.demo_steps", []).append((label, step))


def _domain_steps() -> list[DemoStep]:
    from souk_platform.seeds import STEPS

    return list(STEPS) + list(current_app.extensions.get("souk.demo_steps", []))
