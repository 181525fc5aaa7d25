"""Benefit timers (docs/architecture.md §5.10): every one is safe to run twice and late."""

from __future__ import annotations

from souk_platform.benefits import services
from souk_platform.core.clock import app_now
from souk_platform.db import db


def grant_join_and_level_benefits() -> int:
    """Every minute: 入会礼 to new customers, 成长礼 to customers who reached a level."""
    return _drain(("join", "level"))


def grant_birthday_and_dormant_benefits() -> int:
    """Hourly (so each shop's midnight is met in its timezone): 生日礼 and 流失唤醒礼."""
    return _drain(("birthday", "dormant"))


def _drain(triggers: tuple[str, ...]) -> int:
    made = 0
    while True:
        batch = services.run_triggers(db.session, triggers=triggers, now=app_now())
        db.session.commit()
        made += batch
        if batch == 0:
            return made


def expire_benefit_grants() -> int:
    """Hourly: active grants past their expiry become expired (``benefit.expired``)."""
    expired = 0
    while True:
        batch = services.expire_due_grants(db.session, now=app_now())
        db.session.commit()
        expired += batch
        if batch == 0:
            return expired
