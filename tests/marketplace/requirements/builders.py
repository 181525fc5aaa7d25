"""Builders for crowdfunding tests: shops with money, a developer with an app version submitted for listing."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import current_app

from souk_marketplace.listings.services import SubmissionDraft, submit_listing
from souk_marketplace.requirements import services
from souk_marketplace.requirements.models import Requirement, RequirementPledge
from souk_platform.apps.models import App
from souk_platform.apps.services import register_app, sign_up_developer
from souk_platform.auth.models import User
from souk_platform.ledger.models import LedgerAccount
from souk_platform.ledger.services import PLATFORM, Leg, balance_of, check_invariants, get_account, post_transfer
from souk_platform.oauth.services import issue_app_token
from souk_platform.shops.models import Shop
from souk_platform.webhooks.runtime import runtime_for

TERMS = services.Terms()  # 20 % fee, 7-day hold, 7-day delivery vote
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
MANIFEST = """\
name: {name}
redirect_uris:
  - https://build.example.com/oauth/callback
scopes:
  - read_orders
"""


def fund(session: Any, shop: Shop, amount: int) -> None:
    """Takings from paid orders, as the test payment provider would settle them."""
    where = {"shop_id": shop.id, "unit": shop.currency}
    post_transfer(
        session,
        shop_id=shop.id,
        kind="test.takings",
        legs=[
            Leg(get_account(session, kind="platform.payments_clearing", owner_id="test-psp", **where), -amount),
            Leg(get_account(session, kind="shop.balance", owner_id=shop.id, **where), amount),
        ],
    )
    session.commit()


def balance(session: Any, shop: Shop) -> int:
    return balance_of(session, shop_id=shop.id, kind="shop.balance", owner_id=shop.id, unit=shop.currency)


def developer_balances(session: Any, developer: User) -> tuple[int, int]:
    """(held, available) earnings of the developer in CNY."""
    return tuple(  # type: ignore[return-value]
        balance_of(session, shop_id=PLATFORM, kind=kind, owner_id=developer.id, unit="CNY")
        for kind in ("developer.earnings_held", "developer.earnings")
    )


def platform_fees(session: Any) -> int:
    return balance_of(session, shop_id=PLATFORM, kind="platform.fees", owner_id=PLATFORM, unit="CNY")


def escrow_balances(session: Any, requirement_id: str) -> list[int]:
    """Every escrow account of every pledge ever made on (or merged into) the requirement."""
    pledge_ids = sa.select(RequirementPledge.id).where(
        sa.or_(RequirementPledge.requirement_id == requirement_id, RequirementPledge.merged_from_id == requirement_id)
    )
    return list(
        session.scalars(
            sa.select(LedgerAccount.balance).where(
                LedgerAccount.kind == "escrow.pledge", LedgerAccount.owner_id.in_(pledge_ids)
            )
        )
    )


def assert_ledger_sound_and_escrow_empty(session: Any, *requirement_ids: str) -> None:
    assert check_invariants(session) == []
    for requirement_id in requirement_ids:
        assert set(escrow_balances(session, requirement_id)) <= {0}, requirement_id


@dataclass
class Developer:
    user: User
    app_id: str
    version_id: str
    headers: dict[str, str]


def make_developer(
    session: Any, now: dt.datetime, *, email: str = "builder@example.com", submit: bool = True
) -> Developer:
    """A developer account with an app whose first version is submitted for listing, and an app token."""
    user = sign_up_developer(session, email=email, name="Bo Builder", password="a long password")
    app, version, _secret = register_app(session, developer=user, manifest_text=MANIFEST.format(name="Points Reminder"))
    session.flush()
    if submit:
        submit_listing(
            session,
            app=app,
            draft=SubmissionDraft(
                texts={"en": {"name": "Points Reminder", "tagline": "Remind members", "description": "Reminds."}},
                category="loyalty",
                support_contact="help@build.example.com",
                privacy_url="https://build.example.com/privacy",
                changelog="First version.",
                icon=PNG,
                screenshots=[PNG],
            ),
            box=runtime_for(current_app).box,
            now=now,
        )
    _token, plaintext = issue_app_token(session, app_id=app.id, now=now)
    session.commit()
    return Developer(user, app.id, version.id, {"Authorization": f"Bearer {plaintext}"})


def post(session: Any, shop: Shop, now: dt.datetime, **overrides: Any) -> Requirement:
    fields: dict[str, Any] = {
        "title": "会员积分到期提醒",
        "description": "积分快过期时自动给会员发短信提醒，提前7天和1天各一次。",
        "category": "loyalty",
        "budget_amount": 300_000,
        "currency": None,
        "deadline": now + dt.timedelta(days=30),
        "acceptance_criteria": "提醒按时发出，文案可配置。",
        "selection_mode": "owner",
    }
    fields.update(overrides)
    requirement = services.post_requirement(session, shop_id=shop.id, posted_by=None, now=now, **fields)
    session.commit()
    return requirement


def requirements_world(session: Any, world: dict[str, str], now: dt.datetime) -> dict[str, str]:
    """For the tenancy suite: shop A's requirement with A's own pledge, and a proposal on it by the
    developer of the world's app (so that app's token is the control for the developer routes)."""
    shop = session.get(Shop, world["shop"])
    fund(session, shop, 10_000)
    requirement = post(session, shop, now)
    pledge = services.pledge(
        session, shop_id=shop.id, requirement_id=requirement.id, amount=1_000, pledged_by=None, now=now
    )
    developer = session.get(User, session.get(App, world["app"]).developer_id)
    proposal = services.submit_proposal(
        session,
        developer=developer,
        requirement_id=requirement.id,
        price_amount=1_000,
        delivery_date=(now + dt.timedelta(days=10)).date(),
        plan="Build it.",
        now=now,
    )
    session.commit()
    return {"requirement": requirement.id, "requirement_pledge": pledge.id, "requirement_proposal": proposal.id}
