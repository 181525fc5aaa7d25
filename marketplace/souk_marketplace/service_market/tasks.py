"""The service market's timer job (listed in ``souk_marketplace.jobs.PERIODIC_JOBS``)."""

from __future__ import annotations

from souk_marketplace.service_market.services import run_timers
from souk_platform.core.clock import app_now
from souk_platform.db import db


def run_service_order_timers() -> dict[str, int]:
    """Expire extension requests, auto-complete, settle, decide unanswered disputes, escalate mediations.

    Commits order by order with the app's clock; safe to run twice or concurrently."""
    return run_timers(db.session, now=app_now())
