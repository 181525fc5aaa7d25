"""Jobs for the API layer."""

from __future__ import annotations

from souk_platform.api.transactions import purge_idempotency_records
from souk_platform.core.clock import app_now
from souk_platform.db import db


def purge_idempotency() -> int:
    removed = purge_idempotency_records(db.session, app_now())
    db.session.commit()
    return removed
