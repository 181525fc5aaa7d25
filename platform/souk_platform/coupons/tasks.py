"""Periodic coupon jobs."""

from __future__ import annotations

from souk_platform.core.clock import app_now
from souk_platform.coupons.issues import resume_issues, run_issue
from souk_platform.coupons.wallet import expire_entries
from souk_platform.db import db


def expire_wallet_coupons() -> int:
    """Expire issued wallet coupons past their expiry, a batch per commit (safe to run twice)."""
    now = app_now()
    total = 0
    while True:
        expired = expire_entries(db.session, now=now)
        db.session.commit()
        total += expired
        if expired == 0:
            return total


def run_coupon_issue(issue_id: str) -> str | None:
    """Issue a coupon to an issue's customers, a batch per commit (safe to run twice, continues after a crash)."""
    return run_issue(db.session, issue_id=issue_id, now=app_now())


def resume_coupon_issues() -> int:
    """Finish issues a dead worker left unfinished (a run holding one is skipped, not waited for)."""
    return resume_issues(db.session, now=app_now())
