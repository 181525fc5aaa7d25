"""Demo seed: the demo shop has the sample app "Souk Loyalty Boost" installed with part of its scopes.

Part, so that authorizing it again from an OAuth client shows the scope-upgrade consent.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app

from souk_platform.apps.demo import DEMO_DEVELOPER_EMAIL
from souk_platform.apps.models import App
from souk_platform.auth.models import User
from souk_platform.core.clock import SystemClock
from souk_platform.db import DbSession
from souk_platform.installations.services import active_installation, install_app
from souk_platform.shops.models import Shop, StaffMember
from souk_platform.webhooks.runtime import runtime_for


def seed(session: DbSession, shop: Shop) -> None:
    app = session.scalar(
        sa.select(App)
        .join(User, User.id == App.developer_id)
        .where(User.email == DEMO_DEVELOPER_EMAIL, App.name == "Souk Loyalty Boost")
    )
    owner_id = session.scalar(
        sa.select(StaffMember.user_id).where(StaffMember.shop_id == shop.id, StaffMember.role == "owner")
    )
    if app is None or owner_id is None or active_installation(session, app_id=app.id, shop_id=shop.id):
        return
    install_app(
        session,
        app=app,
        shop_id=shop.id,
        user_id=owner_id,
        scopes=["read_customers", "read_orders"],
        now=SystemClock().now(),
        box=runtime_for(current_app).box,  # its manifest declares an order.paid endpoint
    )
