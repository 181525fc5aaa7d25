"""Lookups other marketplace packages use, and marking an app crowdfunded."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from souk_marketplace.listings.errors import ListingNotFound
from souk_marketplace.listings.models import Listing, ListingSubmission
from souk_marketplace.listings.services.states import transition
from souk_marketplace.listings.services.submitting import _locked_listing
from souk_platform.apps.models import App
from souk_platform.db import DbSession


def listing_for_app(session: DbSession, app_id: str) -> Listing | None:
    """The app's listing, whatever its state (None if the app was never submitted or crowdfunded)."""
    return session.scalar(sa.select(Listing).where(Listing.app_id == app_id))


def submission_for_version(session: DbSession, app_version_id: str) -> ListingSubmission | None:
    """The latest submission of this app version (any status), or None."""
    return session.scalar(
        sa.select(ListingSubmission)
        .where(ListingSubmission.app_version_id == app_version_id)
        .order_by(ListingSubmission.submitted_at.desc(), ListingSubmission.id.desc())
        .limit(1)
    )


def mark_crowdfunded(session: DbSession, *, app_id: str, requirement_id: str, now: dt.datetime | None = None) -> None:
    """Show the app as crowdfunded (a badge; first in the market's default order). Safe to call again.

    The listing is created (as a draft) when the app has none yet; it still needs a submission and a
    review before the market shows it. ``now`` defaults to the system time.
    """
    app = session.get(App, app_id)
    if app is None:
        raise ListingNotFound(f"There is no app {app_id}.")
    listing = _locked_listing(session, app)
    if listing.crowdfunded and listing.crowdfunded_requirement_id == requirement_id:
        return
    listing.crowdfunded = True
    listing.crowdfunded_requirement_id = requirement_id
    transition(
        session,
        listing,
        "crowdfunded",
        now=now or dt.datetime.now(dt.UTC),
        actor_kind="system",
        reason=f"Delivered for the crowdfunded requirement {requirement_id}.",
    )
