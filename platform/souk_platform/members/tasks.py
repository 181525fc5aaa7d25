"""Periodic member-level evaluation."""

from __future__ import annotations

import sqlalchemy as sa

from souk_platform.core.clock import app_now
from souk_platform.db import db
from souk_platform.members.models import MemberLevelConfig
from souk_platform.members.services import evaluate_shop_levels
from souk_platform.plugins.services import shops_with_plugins_at


def evaluate_member_levels() -> int:
    """Evaluate every customer of every shop with level rules or a ``member.level`` plugin (hourly).

    Returns how many changed. Other shops are skipped: with neither, no level can change. Commits
    per batch; running it twice changes nothing the second time (for a plugin that answers alike).
    """
    now = app_now()
    with_rules = set(db.session.scalars(sa.select(MemberLevelConfig.shop_id)))
    shop_ids = sorted(with_rules | shops_with_plugins_at(db.session, point="member.level"))
    changed = 0
    for shop_id in shop_ids:
        changed += evaluate_shop_levels(db.session, shop_id=shop_id, now=now)
    db.session.commit()
    return changed
