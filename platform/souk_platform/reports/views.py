"""The shop's dashboard, its landing page in the back office: today and the last 7 days at a glance.

The figures come from ``reports.services.dashboard`` (docs/architecture.md §14).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template
from flask_babel import lazy_gettext as _l

from souk_platform.core.clock import app_now
from souk_platform.db import db
from souk_platform.reports.services import dashboard as dashboard_figures
from souk_platform.shops.services import get_shop
from souk_platform.web.auth import shop_role_required
from souk_platform.web.forms import refuse_nul_characters
from souk_platform.web.links import add_link

bp = Blueprint("shop_dashboard", __name__)
bp.before_request(refuse_nul_characters)


@bp.record_once
def _link(state: Any) -> None:
    add_link(state.app, "shop", "shop_dashboard.dashboard", _l("Dashboard"))


@bp.get("/shops/<shop_id>")
@shop_role_required("owner", "staff")
def dashboard(shop_id: str) -> str:
    shop = get_shop(db.session, shop_id)
    board = dashboard_figures(db.session, shop_id=shop_id, timezone=shop.timezone, now=app_now())
    busiest = max([bucket.figures.revenue for bucket in board.week_trend] + [1])
    most_members = max([share.customers for share in board.levels] + [1])
    return render_template(
        "dashboard/dashboard.html", shop=shop, board=board, busiest=busiest, most_members=most_members
    )
