"""Periodic stored-value jobs."""

from __future__ import annotations

from souk_platform.core.clock import app_now
from souk_platform.db import db
from souk_platform.stored_value.services import credit_due_cashback as _credit_due


def credit_due_cashback() -> int:
    """Credit cashback whose refund window has passed into stored value (commits each; safe to run twice)."""
    return _credit_due(db.session, now=app_now())
