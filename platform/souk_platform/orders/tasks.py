"""Periodic jobs for orders."""

from __future__ import annotations

from souk_platform.core.clock import app_now
from souk_platform.db import db
from souk_platform.orders.services import cancel_expired_orders as _cancel_expired


def cancel_expired_orders() -> int:
    """Cancel unpaid orders past their stock reservation (commits per order; safe to run twice)."""
    return _cancel_expired(db.session, now=app_now())
