"""The marketplace's part of the demo: its seed steps (run after the platform's, see ``souk_platform.demo``)
and the web side of the demo developer's apps (``landing``).

Everything is seeded through the real services — listings through the real checks and review,
pledges and service orders through the ledger's escrow — never by writing rows around them.
"""

from __future__ import annotations

from collections.abc import Callable

from souk_marketplace.demo import apps, neighbours, requirements, service_market
from souk_platform.core.clock import app_now
from souk_platform.db import DbSession
from souk_platform.shops.models import Shop


def seed_board_and_services(session: DbSession, shop: Shop) -> None:
    """Neighbouring shops, the service market's providers and an order in progress, the requirement board."""
    now = app_now()
    others = neighbours.seed(session, now)
    service_market.seed(session, shop, now)
    requirements.seed(session, [shop, *others], now)


DEMO_STEPS: tuple[tuple[str, Callable[[DbSession, Shop], None]], ...] = (
    ("Marketplace apps: checked, listed, one in review / 应用市场：检查并上架，一个待审核", apps.seed),
    ("Requirement board and service market / 定制众筹与服务市场", seed_board_and_services),
)
