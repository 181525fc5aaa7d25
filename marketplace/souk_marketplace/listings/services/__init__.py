"""Listings: submissions and their automated checks, the review queue, delistings, the storefront's search.

Plain functions: a session and explicit arguments (the time included) in; no Flask request globals.
A listing's state changes only through ``transition`` (the table ``TRANSITIONS`` of actions, a
``StateMachine``), which checks the move, writes the timeline row and emits the developer's outbox
event (``listing.<action>``, a platform-level event: no shop). For the other marketplace packages:
``listing_for_app``, ``submission_for_version`` and ``mark_crowdfunded``.

One module per section: ``checking``, ``indexing``, ``lookups``, ``market``, ``review``, ``states``,
``submitting``, ``terms``. This package re-exports the public names, so callers import from ``services`` as
before.
"""

from __future__ import annotations

from souk_marketplace.listings.services.checking import check_plan, finish_checks, stale_checking_submissions
from souk_marketplace.listings.services.lookups import listing_for_app, mark_crowdfunded, submission_for_version
from souk_marketplace.listings.services.market import (
    SORTS,
    MarketEntry,
    category_counts,
    changelog_of,
    find_listed,
    get_image,
    image_is_public,
    search_market,
    search_market_cards,
    texts_for,
)
from souk_marketplace.listings.services.review import (
    approve_submission,
    delist,
    get_listing,
    get_submission,
    listed_apps,
    reject_submission,
    review_queue,
    submissions_of,
    timeline_of,
    version_numbers,
)
from souk_marketplace.listings.services.states import (
    LISTING_STATES,
    PENDING,
    STATES,
    TRANSITIONS,
    listing_payload,
    transition,
)
from souk_marketplace.listings.services.submitting import SubmissionDraft, latest_submission, submit_listing
from souk_marketplace.listings.services.terms import (
    CATEGORIES,
    CHECK_JOB,
    LANGUAGES,
    MAX_CHANGELOG,
    MAX_JUSTIFICATION,
    MAX_REASON,
    MAX_SCREENSHOTS,
    REVIEW_CHECKLIST,
    STALE_CHECKS_AFTER,
    TEXT_FIELDS,
)

__all__ = [
    "CATEGORIES",
    "CHECK_JOB",
    "LANGUAGES",
    "LISTING_STATES",
    "MAX_CHANGELOG",
    "MAX_JUSTIFICATION",
    "MAX_REASON",
    "MAX_SCREENSHOTS",
    "PENDING",
    "REVIEW_CHECKLIST",
    "SORTS",
    "STALE_CHECKS_AFTER",
    "STATES",
    "TEXT_FIELDS",
    "TRANSITIONS",
    "MarketEntry",
    "SubmissionDraft",
    "approve_submission",
    "category_counts",
    "changelog_of",
    "check_plan",
    "delist",
    "find_listed",
    "finish_checks",
    "get_image",
    "get_listing",
    "get_submission",
    "image_is_public",
    "latest_submission",
    "listed_apps",
    "listing_for_app",
    "listing_payload",
    "mark_crowdfunded",
    "reject_submission",
    "review_queue",
    "search_market",
    "search_market_cards",
    "stale_checking_submissions",
    "submission_for_version",
    "submissions_of",
    "submit_listing",
    "texts_for",
    "timeline_of",
    "transition",
    "version_numbers",
]
