"""OAuth jobs: purge the codes and tokens that can no longer be used."""

from __future__ import annotations

from souk_platform.core.clock import app_now
from souk_platform.db import db
from souk_platform.oauth import services


def purge_expired_tokens() -> dict[str, int]:
    """Periodic: delete dead authorization codes and OAuth-issued tokens (see ``services.purge_expired``)."""
    removed = services.purge_expired(db.session, now=app_now())
    db.session.commit()
    return removed
