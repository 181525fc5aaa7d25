"""The crowdfunding timer: deadlines, delivery vote windows and payout holds."""

from __future__ import annotations

from flask import current_app

from souk_marketplace.requirements.services import run_due_timers, terms_from_config
from souk_platform.core.clock import app_now
from souk_platform.db import db


def enforce_requirement_timers() -> dict[str, int]:
    """Refund past-deadline requirements, close ended delivery votes, pay out after the hold (commits each)."""
    return run_due_timers(db.session, now=app_now(), terms=terms_from_config(current_app.config))
