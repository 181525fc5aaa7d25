"""The listing state machine (one ``StateMachine`` driven by actions), its timeline and ``listing.<action>`` events."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from souk_marketplace.listings.errors import IllegalListingTransition
from souk_marketplace.listings.models import Listing, ListingEvent, ListingSubmission
from souk_platform.core.states import Move, StateMachine
from souk_platform.db import DbSession
from souk_platform.events.services import emit

STATES = ("draft", "in_review", "listed", "rejected", "delisted")
PENDING = ("checking", "in_review")  # submission statuses that block another submission
_SAME = {state: state for state in STATES}

# action → {state before: state after}. A new version reviewed while the app is listed leaves it
# listed; a submission approved after its app was delisted lists it again.
TRANSITIONS: dict[str, dict[str, str]] = {
    "submitted": _SAME,
    "checks_failed": _SAME,
    "queued": {"draft": "in_review", "rejected": "in_review", "delisted": "in_review", "listed": "listed"},
    "approved": {"in_review": "listed", "listed": "listed", "delisted": "listed"},
    "rejected": {"in_review": "rejected", "listed": "listed", "delisted": "delisted"},
    "delisted": {"listed": "delisted"},
    "crowdfunded": _SAME,
}


# --- transitions and payloads ---------------------------------------------------------------------


def listing_payload(listing: Listing) -> dict[str, Any]:
    return {
        "id": listing.id,
        "app_id": listing.app_id,
        "slug": listing.slug,
        "state": listing.state,
        "listed_submission_id": listing.listed_submission_id,
        "crowdfunded": listing.crowdfunded,
        "version": listing.version,
    }


def _illegal(listing: Listing, action: str, allowed: tuple[str, ...]) -> IllegalListingTransition:
    return IllegalListingTransition(
        f"A {listing.state.replace('_', ' ')} listing cannot be {action.replace('_', ' ')}."
    )


def _record_move(
    session: DbSession,
    listing: Listing,
    move: Move,
    *,
    now: dt.datetime,
    actor_kind: str,
    actor_id: str | None = None,
    submission: ListingSubmission | None = None,
    reason: str | None = None,
) -> None:
    """Write the timeline row (numbered per listing) and emit ``listing.<action>``."""
    last = session.scalar(sa.select(sa.func.max(ListingEvent.number)).where(ListingEvent.listing_id == listing.id))
    event = ListingEvent(
        listing_id=listing.id,
        number=(last or 0) + 1,
        submission_id=submission.id if submission else None,
        action=move.name,
        from_state=move.before,
        to_state=move.to,
        actor_kind=actor_kind,
        actor_id=actor_id,
        reason=reason,
        created_at=now,
    )
    session.add(event)
    session.flush()
    emit(
        session,
        shop_id=None,
        type=f"listing.{move.name}",
        subject_type="listing",
        subject_id=listing.id,
        payload={
            "listing": listing_payload(listing),
            "submission": _submission_payload(submission) if submission else None,
            "reason": reason,
        },
    )


LISTING_STATES: StateMachine[Listing] = StateMachine.of_actions(TRANSITIONS, illegal=_illegal, record=_record_move)


def transition(
    session: DbSession,
    listing: Listing,
    action: str,
    *,
    now: dt.datetime,
    actor_kind: str,
    actor_id: str | None = None,
    submission: ListingSubmission | None = None,
    reason: str | None = None,
) -> None:
    """Apply ``action`` to ``listing`` (``IllegalListingTransition`` if its state does not allow it).

    The caller holds the listing's row lock (``_locked_listing`` or ``with_for_update``).
    """
    LISTING_STATES.transition(
        session,
        listing,
        action,
        now=now,
        actor_kind=actor_kind,
        actor_id=actor_id,
        submission=submission,
        reason=reason,
    )


def _submission_payload(submission: ListingSubmission) -> dict[str, Any]:
    return {
        "id": submission.id,
        "number": submission.number,
        "app_version_id": submission.app_version_id,
        "status": submission.status,
        "checks": list(submission.checks),
        "decision_reason": submission.decision_reason,
    }
