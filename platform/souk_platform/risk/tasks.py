"""Risk-control timers (docs/architecture.md §5.13): safe to run twice and late."""

from __future__ import annotations

from souk_platform.core.clock import app_now
from souk_platform.db import db
from souk_platform.risk import services


def expire_risk_reviews() -> int:
    """Every five minutes: open reviews past their expiry are released or cancelled per the shop's rule."""
    return services.expire_due_reviews(db.session, now=app_now())
