"""Periodic member-level evaluation."""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app

from souk_platform.db import db
from souk_platform.members.models import MemberLevelConfig
from souk_platform.members.services import evaluate_shop_levels


def evaluate_member_levels() -> int:
    """Evaluate every customer of every shop that has level rules (hourly); return how many changed.

    Shops without rules are skipped: with no rules no level can change. Commits per batch; running
    it twice changes nothing the second time.
    """
    now = current_app.extensions["souk.clock"].now()
    shop_ids = list(db.session.scalars(sa.select(MemberLevelConfig.shop_id).order_by(MemberLevelConfig.shop_id)))
    changed = 0
    for shop_id in shop_ids:
        changed += evaluate_shop_levels(db.session, shop_id=shop_id, now=now)
    db.session.commit()
    return changed
