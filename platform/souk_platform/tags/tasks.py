"""Periodic re-evaluation of rule tags."""

from __future__ import annotations

import sqlalchemy as sa

from souk_platform.core.clock import app_now
from souk_platform.db import db
from souk_platform.tags.models import Tag
from souk_platform.tags.services import evaluate_rule_tag


def evaluate_rule_tags() -> int:
    """Re-evaluate every rule tag of every shop (hourly), committing after each; return how many ran.

    Customers' spend, levels and points move all the time, so rule tags are refreshed here as well
    as on demand. Running it twice changes nothing the second time.
    """
    now = app_now()
    tags = db.session.execute(sa.select(Tag.id, Tag.shop_id).where(Tag.kind == "rule").order_by(Tag.id)).all()
    for tag_id, shop_id in tags:
        evaluate_rule_tag(db.session, shop_id=shop_id, tag_id=tag_id, now=now)
        db.session.commit()
    return len(tags)
