"""The listings API: developers submit and follow their listing with an app token; anyone browses the market.

``/app/listing…`` needs a client-credentials app token (``requires_app_token``). ``/market/apps…`` is
public: no token, problem+json errors as everywhere, and a token bucket per client address.
"""

from __future__ import annotations

import base64
import binascii
import functools
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any, TypeVar, cast

import redis
from flask import Response, after_this_request, current_app, g, request
from flask.views import MethodView

from souk_marketplace.listings import services
from souk_marketplace.listings.errors import IllegalListingTransition
from souk_marketplace.listings.models import Listing, ListingEvent, ListingSubmission
from souk_marketplace.listings.schemas import (
    DelistSchema,
    ListingStatusSchema,
    MarketAppDetailSchema,
    MarketAppSchema,
    MarketQuerySchema,
    SubmissionCreateSchema,
    SubmissionSchema,
)
from souk_marketplace.listings.urls import app_page_url, image_url, install_link
from souk_marketplace.ratings import services as ratings
from souk_platform.api import fast_response, page_schema, paginated, transactional
from souk_platform.api.pagination import Page
from souk_platform.api.parsing import Blueprint
from souk_platform.api.reads import READ_ONLY_METHODS, read_only_unit
from souk_platform.apps.models import App
from souk_platform.auth.models import User
from souk_platform.core.clock import app_now
from souk_platform.core.errors import TooManyRequests, Unprocessable
from souk_platform.db import db
from souk_platform.oauth.api import requires_app_token
from souk_platform.ratelimit.buckets import Policy
from souk_platform.ratelimit.limiter import bucket_store, default_policy
from souk_platform.webhooks.app_endpoints import current_app_webhook_secret
from souk_platform.webhooks.runtime import runtime_for as webhook_runtime_for

F = TypeVar("F", bound=Callable[..., Any])

blp = Blueprint(
    "market_listings",
    __name__,
    url_prefix="",  # two families: /app/listing (developers) and /market/apps (public)
    description="App listings: submissions, automated checks and review (developers); the public market.",
)

# Six images of 512 KiB as base64 plus the texts: more than the API's usual 1 MiB body.
SUBMISSION_MAX_BYTES = 6 * 1024 * 1024


def _large_body(view: F) -> F:
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        request.max_content_length = SUBMISSION_MAX_BYTES
        return view(*args, **kwargs)

    return cast(F, wrapper)


def public_rate_limited(view: F) -> F:
    """A token bucket per client address for the unauthenticated market API (as generous as an app's).

    A ``GET`` runs as a read-only unit, like an authenticated read (docs/architecture.md §4.9): no
    ``BEGIN``/``ROLLBACK`` around it, and so its prepared statements survive to the next request.
    """

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if request.method in READ_ONLY_METHODS:
            with read_only_unit(db.session, db.engine):
                return limited(*args, **kwargs)
        return limited(*args, **kwargs)

    def limited(*args: Any, **kwargs: Any) -> Any:
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        policy: Policy = default_policy(app)
        try:
            decision = bucket_store(app).take(f"market:{request.remote_addr}", policy, app_now().timestamp())
        except redis.RedisError:
            return view(*args, **kwargs)  # the limiter being down must not take the market down
        headers = decision.headers()
        if not decision.allowed:
            raise TooManyRequests(
                f"Too many requests from this address; retry after {headers['Retry-After']} s.", headers=headers
            )

        @after_this_request
        def _add_headers(response: Response) -> Response:
            for name, value in headers.items():
                response.headers.setdefault(name, value)
            return response

        return view(*args, **kwargs)

    documented = Blueprint.doc(security=[], responses={"429": "TOO_MANY_REQUESTS"})(wrapper)
    return cast(F, documented)


# --- developers ----------------------------------------------------------------------------------


def submission_view(submission: ListingSubmission, version_number: int | None) -> dict[str, Any]:
    return {
        "id": submission.id,
        "number": submission.number,
        "status": submission.status,
        "app_version_id": submission.app_version_id,
        "version_number": version_number,
        "texts": submission.texts,
        "category": submission.category,
        "icon_url": image_url(submission.icon_image_id, external=True),
        "screenshot_urls": [image_url(i, external=True) for i in submission.screenshot_image_ids],
        "support_contact": submission.support_contact,
        "privacy_url": submission.privacy_url,
        "install_url": submission.install_url,
        "changelog": submission.changelog,
        "scope_justifications": submission.scope_justifications,
        "checks": submission.checks,
        "submitted_at": submission.submitted_at,
        "checks_finished_at": submission.checks_finished_at,
        "decided_at": submission.decided_at,
        "decision_reason": submission.decision_reason,
    }


def _event_view(event: ListingEvent) -> dict[str, Any]:
    return {
        "action": event.action,
        "from_state": event.from_state,
        "to_state": event.to_state,
        "actor_kind": event.actor_kind,
        "submission_id": event.submission_id,
        "reason": event.reason,
        "created_at": event.created_at,
    }


def listing_status(app: App) -> dict[str, Any]:
    """The developer's view of the app's listing: state, every submission with checks and reasons, timeline."""
    listing: Listing | None = services.listing_for_app(db.session, app.id)
    if listing is None:
        return {"app_id": app.id, "state": "none", "crowdfunded": False, "submissions": [], "timeline": []}
    submissions = services.submissions_of(db.session, listing.id)
    numbers = services.version_numbers(db.session, (s.app_version_id for s in submissions))
    box = webhook_runtime_for(current_app).box
    return {
        "app_id": app.id,
        "listing_id": listing.id,
        "slug": listing.slug,
        "state": listing.state,
        "listed_submission_id": listing.listed_submission_id,
        "crowdfunded": listing.crowdfunded,
        "public_url": app_page_url(listing, external=True) if listing.state == "listed" else None,
        "webhook_test_secret": current_app_webhook_secret(app, box=box),
        "submissions": [submission_view(s, numbers.get(s.app_version_id)) for s in submissions],
        "timeline": [_event_view(e) for e in services.timeline_of(db.session, listing.id)],
    }


@blp.route("/app/listing")
class AppListing(MethodView):
    @requires_app_token
    @blp.response(200, ListingStatusSchema)
    def get(self) -> Any:
        """The calling app's listing: its state, every submission with check results and reviewer reasons"""
        return listing_status(g.calling_app)


@blp.route("/app/listing/submissions")
class ListingSubmissions(MethodView):
    @requires_app_token
    @_large_body
    @transactional
    @blp.arguments(SubmissionCreateSchema)
    @blp.response(201, SubmissionSchema)
    @blp.alt_response(409, description="Another submission is being checked or reviewed, or the version is older")
    def post(self, args: dict[str, Any]) -> Any:
        """Submit a version of the calling app for listing (images as base64); its automated checks run next"""
        texts = args["texts"]
        draft = services.SubmissionDraft(
            texts={language: dict(fields) for language, fields in texts.items()},
            category=args["category"],
            support_contact=args["support_contact"],
            privacy_url=args["privacy_url"],
            changelog=args["changelog"],
            scope_justifications=args["scope_justifications"],
            install_url=args["install_url"],
            icon=args["icon"],
            screenshots=args["screenshots"],
        )
        submission = services.submit_listing(
            db.session,
            app=g.calling_app,
            draft=draft,
            box=webhook_runtime_for(current_app).box,
            now=app_now(),
            app_version_id=args["app_version_id"],
        )
        numbers = services.version_numbers(db.session, [submission.app_version_id])
        return submission_view(submission, numbers.get(submission.app_version_id)), 201


@blp.route("/app/listing/delist")
class DelistListing(MethodView):
    @requires_app_token
    @transactional
    @blp.arguments(DelistSchema)
    @blp.response(200, ListingStatusSchema)
    @blp.alt_response(409, description="The app is not listed")
    def post(self, args: dict[str, Any]) -> Any:
        """Take the calling app off the market (a new submission lists it again after review)"""
        app: App = g.calling_app
        listing = services.listing_for_app(db.session, app.id)
        if listing is None:
            raise IllegalListingTransition("The app has never been listed.")
        services.delist(db.session, listing_id=listing.id, now=app_now(), developer_id=app.developer_id, **args)
        return listing_status(app)


# --- the public market ---------------------------------------------------------------------------


def _encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str | None) -> int:
    """The offset inside a market cursor.

    The market orders by computed values (installs, ratings, search rank, the crowdfunded badge), not by
    one stored column, so neither ``page_of`` nor ``sorted_page_of`` fits: the cursor is an offset.
    """
    if not cursor:
        return 0
    try:
        text = base64.b64decode(cursor + "=" * (-len(cursor) % 4), altchars=b"-_", validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        text = ""
    prefix, _, number = text.partition(":")
    if prefix != "offset" or not number.isdigit() or int(number) > 100_000:
        raise Unprocessable("The cursor is not one this API gave out.", errors={"query.cursor": ["Invalid cursor."]})
    return int(number)


def card_view(card: Any) -> dict[str, Any]:
    """A market card — a ``search_market_cards`` row, or ``entry_view``'s entry — as ``MarketAppSchema`` reads it.

    ``listed_at`` stays a datetime: the fast encoder writes it as ``isoformat()`` would (§4.8).
    """
    average = card.rating_average
    return {
        "id": card.id,
        "slug": card.slug,
        "app_id": card.app_id,
        "texts": {
            language: {"name": fields["name"], "tagline": fields["tagline"]} for language, fields in card.texts.items()
        },
        "category": card.category,
        "icon_url": image_url(card.icon_image_id, external=True),
        "installs": int(card.installs),
        "rating": {"average": float(average) if average is not None else None, "count": int(card.rating_count)},
        "crowdfunded": card.crowdfunded,
        "listed_at": card.first_listed_at,
        "page_url": app_page_url(card, external=True),
    }


def entry_view(entry: services.MarketEntry) -> dict[str, Any]:
    """``card_view`` of a market entry (its entities)."""
    listing, submission = entry.listing, entry.submission
    return card_view(
        SimpleNamespace(
            id=listing.id,
            slug=listing.slug,
            app_id=entry.app.id,
            category=listing.category,
            crowdfunded=listing.crowdfunded,
            first_listed_at=listing.first_listed_at,
            texts=submission.texts,
            icon_image_id=submission.icon_image_id,
            installs=entry.installs,
            rating_average=entry.rating_average,
            rating_count=entry.rating_count,
        )
    )


def _reply_of(rating: Any) -> dict[str, Any] | None:
    return {"text": rating.reply_text, "created_at": rating.replied_at} if rating.reply_text else None


def detail_view(entry: services.MarketEntry) -> dict[str, Any]:
    submission, version = entry.submission, entry.version
    summary = ratings.summary(db.session, entry.app.id)
    kind, url = install_link(entry.app, version, submission, with_state=False, external=True)
    developer = db.session.get(User, entry.app.developer_id)
    return {
        **entry_view(entry),
        "texts": submission.texts,
        "rating": {
            "average": summary.average,
            "count": summary.count,
            "by_stars": {str(stars): count for stars, count in summary.by_stars.items()},
        },
        "version_number": version.number,
        "screenshot_urls": [image_url(i, external=True) for i in submission.screenshot_image_ids],
        "scopes": list(version.scopes),
        "plans": list(version.manifest.get("pricing") or []),
        "developer": developer.name if developer else "",
        "support_contact": submission.support_contact,
        "privacy_url": submission.privacy_url,
        "install": {"kind": kind, "url": url},
        "changelog": [
            {"version": number, "text": text, "listed_at": at}
            for number, text, at in services.changelog_of(db.session, entry.listing.id)
        ],
        "recent_ratings": [
            {
                "id": rating.id,
                "stars": rating.stars,
                "text": rating.text,
                "created_at": rating.created_at,
                "updated_at": rating.updated_at,
                "reply": _reply_of(rating),
            }
            for rating in ratings.recent(db.session, entry.app.id)
        ],
    }


@blp.route("/market/apps")
class MarketApps(MethodView):
    @public_rate_limited
    @blp.arguments(MarketQuerySchema, location="query")
    @fast_response(blp, 200, page_schema(MarketAppSchema))
    def get(self, args: dict[str, Any]) -> Any:
        """Listed apps: full-text search (English, Chinese), a category; by featured, installs, rating or newest"""
        offset, limit = _decode_cursor(args["cursor"]), args["limit"]
        cards = services.search_market_cards(
            db.session, q=args["q"], category=args["category"], sort=args["sort"], limit=limit + 1, offset=offset
        )
        more = len(cards) > limit
        page = Page([card_view(card) for card in cards[:limit]], _encode_cursor(offset + limit) if more else None)
        return paginated(page)


@blp.route("/market/apps/<string(maxlength=80):app_ref>")  # a slug (≤ 80) or a listing id
class MarketApp(MethodView):
    @public_rate_limited
    @blp.response(200, MarketAppDetailSchema)
    def get(self, app_ref: str) -> Any:
        """One listed app by listing id or slug: texts, screenshots, plans, ratings, changelog, install link"""
        return detail_view(services.find_listed(db.session, app_ref))
