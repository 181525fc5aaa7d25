"""Plugin jobs: purge invocation inputs and old log rows after their retention windows; compile stored modules."""

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


def compile_plugin(plugin_id: str) -> bool:
    """Queued by a call that found no compiled code for this server; safe to run twice."""
    compiled = services.compile_stored_module(db.session, plugin_id=plugin_id)
    db.session.commit()
    return compiled
