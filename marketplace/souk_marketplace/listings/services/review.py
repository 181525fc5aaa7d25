"""The review queue: approving, rejecting and delisting, and what the review pages read."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import sqlalchemy as sa

from souk_marketplace.listings.errors import (
    IllegalListingTransition,
    InvalidDecision,
    ListingNotFound,
    SubmissionNotFound,
)
from souk_marketplace.listings.models import Listing, ListingEvent, ListingSubmission
from souk_marketplace.listings.services.indexing import _index
from souk_marketplace.listings.services.states import transition
from souk_marketplace.listings.services.terms import MAX_REASON, REVIEW_CHECKLIST
from souk_platform.apps.models import App, AppVersion
from souk_platform.auth.models import User
from souk_platform.core.errors import Forbidden
from souk_platform.db import DbSession


def _require_admin(user: User) -> None:
    if not user.is_platform_admin:
        raise Forbidden("Only platform admins review listings.")


def _locked_submission(session: DbSession, submission_id: str) -> tuple[ListingSubmission, Listing]:
    submission = session.get(ListingSubmission, submission_id)
    if submission is None:
        raise SubmissionNotFound(f"There is no listing submission {submission_id}.")
    listing = session.scalar(sa.select(Listing).where(Listing.id == submission.listing_id).with_for_update())
    session.refresh(submission)
    assert listing is not None  # foreign key
    return submission, listing


def _require_in_review(submission: ListingSubmission) -> None:
    if submission.status != "in_review":
        raise IllegalListingTransition(
            f"Submission {submission.number} is {submission.status.replace('_', ' ')}, not in review."
        )


def approve_submission(
    session: DbSession, *, submission_id: str, admin: User, checklist: Iterable[str], now: dt.datetime
) -> ListingSubmission:
    """List the submission's version: every ``REVIEW_CHECKLIST`` item must be ticked (422 otherwise)."""
    _require_admin(admin)
    submission, listing = _locked_submission(session, submission_id)
    _require_in_review(submission)
    ticked = list(dict.fromkeys(checklist))
    unknown = [item for item in ticked if item not in REVIEW_CHECKLIST]
    missing = [item for item in REVIEW_CHECKLIST if item not in ticked]
    if unknown or missing:
        messages = [f"Not a checklist item: {item}." for item in unknown]
        messages += [f"Not ticked: {item}." for item in missing]
        raise InvalidDecision("Tick every item of the review checklist to approve.", errors={"checklist": messages})
    submission.status = "approved"
    submission.decided_at, submission.decided_by = now, admin.id
    submission.checklist = ticked
    listing.listed_submission_id = submission.id
    listing.category = submission.category
    listing.listed_at = now
    listing.first_listed_at = listing.first_listed_at or now
    transition(session, listing, "approved", now=now, actor_kind="admin", actor_id=admin.id, submission=submission)
    _index(session, listing, submission)
    return submission


def reject_submission(
    session: DbSession, *, submission_id: str, admin: User, reason: str, now: dt.datetime
) -> ListingSubmission:
    """Reject a submission in review; the reason (required) is shown to the developer."""
    _require_admin(admin)
    reason = _required_reason(reason)
    submission, listing = _locked_submission(session, submission_id)
    _require_in_review(submission)
    submission.status = "rejected"
    submission.decided_at, submission.decided_by = now, admin.id
    submission.decision_reason = reason
    transition(
        session,
        listing,
        "rejected",
        now=now,
        actor_kind="admin",
        actor_id=admin.id,
        submission=submission,
        reason=reason,
    )
    return submission


def _required_reason(reason: str | None) -> str:
    text = (reason or "").strip()
    if not text or len(text) > MAX_REASON:
        raise InvalidDecision(
            "Give the reason the developer will read.",
            errors={"reason": [f"Give a reason (1 to {MAX_REASON} characters)."]},
        )
    return text


def delist(
    session: DbSession,
    *,
    listing_id: str,
    now: dt.datetime,
    admin: User | None = None,
    developer_id: str | None = None,
    reason: str | None = None,
) -> Listing:
    """Take a listed app off the market: by a platform admin (a reason is required) or by its developer."""
    listing = session.scalar(sa.select(Listing).where(Listing.id == listing_id).with_for_update())
    if listing is None:
        raise ListingNotFound(f"There is no listing {listing_id}.")
    if admin is not None:
        _require_admin(admin)
        text: str | None = _required_reason(reason)
        actor_kind, actor_id = "admin", admin.id  # type: tuple[str, str | None]
    else:
        text = (reason or "").strip() or None
        if text is not None and len(text) > MAX_REASON:
            raise InvalidDecision("The reason is too long.", errors={"reason": [f"At most {MAX_REASON} characters."]})
        actor_kind, actor_id = "developer", developer_id
    transition(session, listing, "delisted", now=now, actor_kind=actor_kind, actor_id=actor_id, reason=text)
    return listing


def review_queue(session: DbSession) -> list[tuple[ListingSubmission, App, AppVersion]]:
    """Submissions waiting for a reviewer, oldest first."""
    stmt = (
        sa.select(ListingSubmission, App, AppVersion)
        .join(App, App.id == ListingSubmission.app_id)
        .join(AppVersion, AppVersion.id == ListingSubmission.app_version_id)
        .where(ListingSubmission.status == "in_review")
        .order_by(ListingSubmission.submitted_at, ListingSubmission.id)
    )
    return [(submission, app, version) for submission, app, version in session.execute(stmt)]


def listed_apps(session: DbSession) -> list[tuple[Listing, App]]:
    stmt = (
        sa.select(Listing, App)
        .join(App, App.id == Listing.app_id)
        .where(Listing.state == "listed")
        .order_by(App.name, Listing.id)
    )
    return [(listing, app) for listing, app in session.execute(stmt)]


def get_submission(session: DbSession, submission_id: str) -> ListingSubmission:
    submission = session.get(ListingSubmission, submission_id)
    if submission is None:
        raise SubmissionNotFound(f"There is no listing submission {submission_id}.")
    return submission


def get_listing(session: DbSession, listing_id: str) -> Listing:
    listing = session.get(Listing, listing_id)
    if listing is None:
        raise ListingNotFound(f"There is no listing {listing_id}.")
    return listing


def submissions_of(session: DbSession, listing_id: str) -> list[ListingSubmission]:
    """Every submission of the listing, newest first."""
    stmt = (
        sa.select(ListingSubmission)
        .where(ListingSubmission.listing_id == listing_id)
        .order_by(ListingSubmission.number.desc())
    )
    return list(session.scalars(stmt))


def timeline_of(session: DbSession, listing_id: str) -> list[ListingEvent]:
    """The listing's timeline, newest first."""
    stmt = sa.select(ListingEvent).where(ListingEvent.listing_id == listing_id).order_by(ListingEvent.number.desc())
    return list(session.scalars(stmt))


def version_numbers(session: DbSession, version_ids: Iterable[str]) -> dict[str, int]:
    ids = list(set(version_ids))
    if not ids:
        return {}
    return dict(session.execute(sa.select(AppVersion.id, AppVersion.number).where(AppVersion.id.in_(ids))).all())
