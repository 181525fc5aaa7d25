"""Demo seed: the demo developer and a sample confidential app, "Souk Loyalty Boost"."""

from __future__ import annotations

import sqlalchemy as sa

from souk_platform.apps.models import App
from souk_platform.apps.services import register_app
from souk_platform.auth.models import User
from souk_platform.db import DbSession
from souk_platform.shops.models import Shop

DEMO_DEVELOPER_EMAIL = "dev@demo.souk.dev"

SAMPLE_MANIFEST = """\
name: Souk Loyalty Boost
description: Extra points for loyal customers, and a weekly report of who is about to level up.
client_type: confidential
redirect_uris:
  - http://127.0.0.1:8765/callback
scopes:
  - read_customers
  - read_members
  - read_orders
  - read_points
webhooks:
  - topic: order.paid
    uri: https://loyalty-boost.example.com/webhooks
pricing:
  - id: free
    kind: free
  - id: pro
    kind: recurring
    price: 9900
    currency: CNY
    interval: month
    trial_days: 14
    rate_limit: {requests_per_second: 5, burst: 20}
"""


def seed(session: DbSession, shop: Shop) -> None:
    """Make the demo developer a developer and register the sample app (once).

    Its client secret is not kept anywhere: rotate it in the developer console to get one.
    """
    developer = session.scalar(sa.select(User).where(User.email == DEMO_DEVELOPER_EMAIL))
    if developer is None:
        return
    developer.is_developer = True
    exists = session.scalar(sa.select(App.id).where(App.developer_id == developer.id, App.name == "Souk Loyalty Boost"))
    if exists is None:
        register_app(session, developer=developer, manifest_text=SAMPLE_MANIFEST)
