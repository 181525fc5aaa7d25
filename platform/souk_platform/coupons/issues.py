"""Issuing a coupon to a list of customers or a segment, as a job with progress (docs/architecture.md §5.9).

``create_issue`` checks the request and records a ``CouponIssue`` (the API enqueues ``run_issue`` after
commit). ``run_issue`` first fixes the target — one ``pending`` result row per customer, so ``total`` is
known and a segment is read once — then works through the pending rows in batches of ``BATCH``, each
batch one transaction that takes the issue's row lock with ``SKIP LOCKED``: two runs never work on one
issue at once, and a run that crashed loses only its open batch, which the next run (or the
``resume_issues`` timer) does again. Every customer is issued through ``issue_coupon`` with source
``issue`` and the issue's id, so a re-run never issues twice. Each wallet entry emits its own
``coupon.issued`` (receivers react per customer: a message, a push), not one event per batch.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from souk_platform.core.errors import NotFound
from souk_platform.coupons.errors import CouponIssueNotFound, CouponNotIssuable, InvalidIssue
from souk_platform.coupons.models import Coupon, CouponIssue, CouponIssueResult
from souk_platform.coupons.wallet import issue_coupon
from souk_platform.customers.models import Customer
from souk_platform.db import DbSession
from souk_platform.points.errors import CustomerNotFound
from souk_platform.tags.services import get_segment, segment_customers_stmt
from souk_platform.tags.snapshots import get_snapshot, member_ids_stmt

BATCH = 200  # customers per transaction
MAX_LISTED = 10_000  # customer ids one request may list (a bigger audience is a segment)
ISSUE_STATUSES = ("pending", "running", "done")
RESULT_OUTCOMES = ("pending", "issued", "skipped")

__all__ = [
    "BATCH",
    "create_issue",
    "get_issue",
    "issue_results_stmt",
    "issues_stmt",
    "resume_issues",
    "run_issue",
]


def _coupon(session: DbSession, shop_id: str, coupon_id: str) -> Coupon:
    from souk_platform.coupons.services import get_coupon  # services imports the wallet, not this module

    return get_coupon(session, shop_id=shop_id, coupon_id=coupon_id)


def create_issue(
    session: DbSession,
    *,
    shop_id: str,
    coupon_id: str,
    customer_ids: Sequence[str] | None,
    segment_id: str | None,
    now: dt.datetime,
    snapshot_id: str | None = None,
) -> CouponIssue:
    """Record an issue of ``coupon_id`` to ``customer_ids`` (≤ 10,000, duplicates dropped), a segment (its
    members when the job starts) or a segment snapshot (its frozen members).

    422 unless exactly one target is given; 404 for another shop's coupon, segment or snapshot; 409
    ``coupon-not-issuable`` for a coupon that cannot be issued at all (a public code, disabled or
    ended). Per-customer refusals (limits, unknown customers) are the job's skipped results.
    """
    if sum(target is not None for target in (customer_ids, segment_id, snapshot_id)) != 1:
        raise InvalidIssue(
            "Give one of customer_ids, segment_id and snapshot_id.",
            errors={"customer_ids": ["Give exactly one of customer_ids, segment_id and snapshot_id."]},
        )
    coupon = _coupon(session, shop_id, coupon_id)
    if coupon.distribution != "issued":
        raise CouponNotIssuable("Only coupons with distribution 'issued' can be issued; this one is a public code.")
    if coupon.status != "active":
        raise CouponNotIssuable("This coupon is disabled; enable it before issuing it.")
    if coupon.ends_at is not None and now >= coupon.ends_at:
        raise CouponNotIssuable("This coupon has ended.")
    listed: list[str] | None = None
    if customer_ids is not None:
        listed = list(dict.fromkeys(customer_ids))
        if not 1 <= len(listed) <= MAX_LISTED:
            raise InvalidIssue(
                f"List 1 to {MAX_LISTED} customers (use a segment for more).",
                errors={"customer_ids": [f"1 to {MAX_LISTED} ids."]},
            )
    elif segment_id is not None:
        get_segment(session, shop_id=shop_id, segment_id=segment_id)
    else:
        assert snapshot_id is not None
        get_snapshot(session, shop_id=shop_id, snapshot_id=snapshot_id)
    issue = CouponIssue(
        shop_id=shop_id,
        coupon_id=coupon.id,
        segment_id=segment_id,
        snapshot_id=snapshot_id,
        customer_ids=listed,
        status="pending",
        total=None,
        done=0,
        issued=0,
        skipped=0,
        created_at=now,
    )
    session.add(issue)
    session.flush()
    return issue


def get_issue(session: DbSession, *, shop_id: str, coupon_id: str, issue_id: str) -> CouponIssue:
    issue = session.scalar(
        sa.select(CouponIssue).where(
            CouponIssue.shop_id == shop_id, CouponIssue.coupon_id == coupon_id, CouponIssue.id == issue_id
        )
    )
    if issue is None:
        raise CouponIssueNotFound(f"No issue {issue_id} of coupon {coupon_id} in this shop.")
    return issue


def issues_stmt(session: DbSession, *, shop_id: str, coupon_id: str) -> sa.Select[Any]:
    coupon = _coupon(session, shop_id, coupon_id)
    return sa.select(CouponIssue).where(CouponIssue.shop_id == shop_id, CouponIssue.coupon_id == coupon.id)


def issue_results_stmt(
    session: DbSession, *, shop_id: str, coupon_id: str, issue_id: str, outcome: str | None = None
) -> sa.Select[Any]:
    issue = get_issue(session, shop_id=shop_id, coupon_id=coupon_id, issue_id=issue_id)
    stmt = sa.select(CouponIssueResult).where(
        CouponIssueResult.shop_id == shop_id, CouponIssueResult.issue_id == issue.id
    )
    if outcome:
        stmt = stmt.where(CouponIssueResult.outcome == outcome)
    return stmt


def _lock(session: DbSession, issue_id: str) -> CouponIssue | None:
    stmt = (
        sa.select(CouponIssue)
        .where(CouponIssue.id == issue_id)
        .execution_options(populate_existing=True)
        .with_for_update(skip_locked=session.get_bind().dialect.name != "sqlite")
    )
    return session.scalar(stmt)


def _fix_target(session: DbSession, issue: CouponIssue, now: dt.datetime) -> None:
    """One pending result per targeted customer, written once (the issue's lock is held). A segment or
    snapshot deleted since the issue was asked for targets nobody."""
    wanted: list[str] = []
    if issue.customer_ids is not None:
        wanted = [str(c) for c in issue.customer_ids]
    elif issue.segment_id is not None:
        try:
            segment = get_segment(session, shop_id=issue.shop_id, segment_id=issue.segment_id)
        except NotFound:
            segment = None
        if segment is not None:
            members = segment_customers_stmt(segment, now=now).with_only_columns(Customer.id).order_by(Customer.id)
            wanted = list(session.scalars(members))
    elif issue.snapshot_id is not None:
        try:
            snapshot = get_snapshot(session, shop_id=issue.shop_id, snapshot_id=issue.snapshot_id)
        except NotFound:
            snapshot = None
        if snapshot is not None:
            wanted = list(session.scalars(member_ids_stmt(snapshot)))
    rows = [{"shop_id": issue.shop_id, "issue_id": issue.id, "customer_id": c, "outcome": "pending"} for c in wanted]
    for start in range(0, len(rows), 1000):
        session.execute(sa.insert(CouponIssueResult), rows[start : start + 1000])
    issue.total, issue.status, issue.started_at = len(rows), "running", now


def _issue_one(session: DbSession, issue: CouponIssue, result: CouponIssueResult, now: dt.datetime) -> None:
    try:
        with session.begin_nested():
            entry = issue_coupon(
                session,
                shop_id=issue.shop_id,
                coupon_id=issue.coupon_id,
                customer_id=result.customer_id,
                source="issue",
                source_id=issue.id,
                now=now,
            )
        result.outcome, result.customer_coupon_id = "issued", entry.id
        issue.issued += 1
    except CustomerNotFound:
        result.outcome, result.reason, result.reason_code = "skipped", "No such customer in this shop.", "no_customer"
        issue.skipped += 1
    except CouponNotIssuable as exc:
        result.outcome, result.reason, result.reason_code = "skipped", exc.detail[:300], exc.extra.get("reason")
        issue.skipped += 1
    issue.done += 1


def run_issue(session: DbSession, *, issue_id: str, now: dt.datetime, max_batches: int | None = None) -> str | None:
    """Work through an issue, committing after each batch; returns its status when this run stopped
    (None when another run holds it). Safe to run twice and in parallel; ``max_batches`` bounds a run."""
    batches = 0
    while max_batches is None or batches < max_batches:
        issue = _lock(session, issue_id)
        if issue is None:
            session.rollback()
            return None
        if issue.status == "done":
            session.rollback()
            return "done"
        if issue.total is None:
            _fix_target(session, issue, now)
        pending = list(
            session.scalars(
                sa.select(CouponIssueResult)
                .where(CouponIssueResult.issue_id == issue.id, CouponIssueResult.outcome == "pending")
                .order_by(CouponIssueResult.customer_id)
                .limit(BATCH)
            )
        )
        for result in pending:
            _issue_one(session, issue, result, now)
        if len(pending) < BATCH:
            issue.status, issue.finished_at = "done", now
        session.commit()
        batches += 1
        if issue.status == "done":
            return "done"
    return "running"


def resume_issues(session: DbSession, *, now: dt.datetime) -> int:
    """Run every unfinished issue (a worker may have died mid-way); returns how many it looked at."""
    unfinished = list(session.scalars(sa.select(CouponIssue.id).where(CouponIssue.status != "done")))
    session.rollback()
    for issue_id in unfinished:
        run_issue(session, issue_id=issue_id, now=now)
    return len(unfinished)
