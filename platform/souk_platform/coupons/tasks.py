"""Periodic coupon jobs."""

from __future__ import annotations

from flask import current_app

from souk_platform.coupons.wallet import expire_entries
from souk_platform.db import db


def expire_wallet_coupons() -> int:
    """Expire issued wallet coupons past their expiry, a batch per commit (safe to run twice)."""
    now = current_app.extensions["souk.clock"].now()
    total = 0
    while True:
        expired = expire_entries(db.session, now=now)
        db.session.commit()
        total += expired
        if expired == 0:
            return total
