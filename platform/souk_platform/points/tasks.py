"""Periodic points jobs."""

from __future__ import annotations

from souk_platform.core.clock import app_now
from souk_platform.db import db
from souk_platform.points.services import expire_due_points


def expire_points() -> int:
    """Expire every points lot past its expiry (commits per customer; safe to run twice)."""
    return expire_due_points(db.session, now=app_now())
