"""Catalog jobs."""

from __future__ import annotations

from souk_platform.catalog.services import expired_reservation_refs, release_stock
from souk_platform.core.clock import app_now
from souk_platform.db import db


def release_expired_reservations() -> int:
    """Release stock held past its expiry (unpaid orders); returns how many refs were released.

    Each ref is released and committed on its own, so one slow order does not hold the others'
    locks. Running it twice, or alongside a payment, is safe: both lock the same SKU rows, and a
    hold that is no longer active is left alone.
    """
    now = app_now()
    refs = expired_reservation_refs(db.session, now=now, limit=1000)  # the rest wait for the next run
    for shop_id, ref in refs:
        release_stock(db.session, shop_id=shop_id, ref=ref, expired_before=now)
        db.session.commit()
    return len(refs)
