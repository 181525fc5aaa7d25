"""Plugin jobs: purge invocation inputs and old log rows after their retention windows."""

from __future__ import annotations

from flask import current_app

from souk_platform.core.clock import Clock
from souk_platform.db import db
from souk_platform.plugins import services


def purge_invocations() -> tuple[int, int]:
    """Periodic; safe to run twice (a second run finds nothing left to purge)."""
    clock: Clock = current_app.extensions["souk.clock"]
    purged = services.purge_invocations(db.session, now=clock.now())
    db.session.commit()
    return purged
