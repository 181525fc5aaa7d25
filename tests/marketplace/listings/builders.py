"""For tests/platform/test_tenancy.py: shop A's app listed in the market, with shop A's rating of it."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from souk_marketplace.listings.models import Listing, ListingImage, ListingSubmission
from souk_marketplace.ratings.models import AppRating
from souk_platform.apps.models import App

_PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 16


def listings_world(session: Any, world: dict[str, str], now: dt.datetime) -> dict[str, str]:
    """The world's app listed (rows written directly: its test manifest would not pass the checks), and
    shop A's rating of it. Returns ``{"listing", "rating"}`` ids."""
    app = session.get(App, world["app"])
    listing = Listing(
        app_id=app.id,
        slug=f"helper-{app.id[-8:]}",
        state="listed",
        category="marketing",
        first_listed_at=now,
        listed_at=now,
        crowdfunded=False,
        search_text="helper",
    )
    session.add(listing)
    session.flush()
    icon = ListingImage(
        listing_id=listing.id,
        sha256=hashlib.sha256(_PNG).hexdigest(),
        content_type="image/png",
        size_bytes=len(_PNG),
        data=_PNG,
        created_at=now,
    )
    session.add(icon)
    session.flush()
    submission = ListingSubmission(
        listing_id=listing.id,
        app_id=app.id,
        app_version_id=app.current_version_id,
        number=1,
        status="approved",
        texts={"en": {"name": "Helper", "tagline": "Helps", "description": "Helps shops."}},
        category="marketing",
        icon_image_id=icon.id,
        screenshot_image_ids=[icon.id],
        support_contact="help@helper.example.com",
        privacy_url="https://helper.example.com/privacy",
        changelog="First.",
        scope_justifications={},
        checks=[],
        checklist=[],
        submitted_at=now,
        decided_at=now,
    )
    session.add(submission)
    session.flush()
    listing.listed_submission_id = submission.id
    rating = AppRating(app_id=app.id, shop_id=world["shop"], stars=4, text="Useful", created_at=now, updated_at=now)
    session.add(rating)
    session.commit()
    return {"listing": listing.id, "rating": rating.id}
