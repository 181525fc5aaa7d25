"""Jobs for the API layer."""

from __future__ import annotations

from flask import current_app

from souk_platform.api.transactions import purge_idempotency_records
from souk_platform.db import db


def purge_idempotency() -> int:
    removed = purge_idempotency_records(db.session, current_app.extensions["souk.clock"].now())
    db.session.commit()
    return removed
