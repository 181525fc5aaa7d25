"""Periodic purge of behaviour events past the retention window (docs/architecture.md §5.4)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask import current_app

from souk_platform.behaviour.services import PURGE_BATCH, purge_shop_events
from souk_platform.core.clock import app_now
from souk_platform.db import db
from souk_platform.shops.models import Shop


def purge_customer_events() -> int:
    """Delete events older than ``SOUK_CUSTOMER_EVENTS_DAYS``, shop by shop in bounded committed batches.

    Hourly; safe to run twice (a second run finds nothing left). Returns how many went.
    """
    now = app_now()
    retention = dt.timedelta(days=current_app.config["SOUK_CUSTOMER_EVENTS_DAYS"])
    total = 0
    for shop_id in db.session.scalars(sa.select(Shop.id).order_by(Shop.id)).all():
        while True:
            deleted = purge_shop_events(db.session, shop_id=shop_id, now=now, retention=retention)
            db.session.commit()
            total += deleted
            if deleted < PURGE_BATCH:
                break
    return total
