"""Ratings: only shops that used an app for a day rate it, once (editable); its developer replies once.

A shop may rate an app when one of its installations of the app lasted at least ``RATING_AFTER``: it
was installed at least that long ago and, if uninstalled since, was uninstalled no sooner than that
after installing (a quick install-and-remove does not earn a rating). Events (platform-level, for the
developer): ``rating.created``, ``rating.updated``, ``rating.replied``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from souk_marketplace.ratings.errors import (
    AlreadyReplied,
    AppNotInstalled,
    InvalidRating,
    RatingNotAllowedYet,
    RatingNotFound,
)
from souk_marketplace.ratings.models import AppRating
from souk_platform.apps.models import Installation
from souk_platform.core.versions import check_version
from souk_platform.db import DbSession
from souk_platform.events.services import emit

RATING_AFTER = dt.timedelta(days=1)
MAX_TEXT = 2000
STARS = (1, 2, 3, 4, 5)


@dataclass(frozen=True, slots=True)
class RatingSummary:
    average: float | None
    count: int
    by_stars: dict[int, int]  # stars → how many ratings, for 5 down to 1


def _lasted(installation: Installation, now: dt.datetime) -> bool:
    if installation.installed_at > now - RATING_AFTER:
        return False
    ended = installation.uninstalled_at
    return ended is None or ended - installation.installed_at >= RATING_AFTER


def can_rate(session: DbSession, *, app_id: str, shop_id: str, now: dt.datetime) -> bool:
    installations = session.scalars(
        sa.select(Installation).where(Installation.app_id == app_id, Installation.shop_id == shop_id)
    )
    return any(_lasted(installation, now) for installation in installations)


def _require_eligible(session: DbSession, *, app_id: str, shop_id: str, now: dt.datetime) -> None:
    installations = list(
        session.scalars(
            sa.select(Installation)
            .where(Installation.app_id == app_id, Installation.shop_id == shop_id)
            .order_by(Installation.installed_at)
        )
    )
    if not installations:
        raise AppNotInstalled(f"This shop never installed the app {app_id}; only shops that used an app rate it.")
    if not any(_lasted(installation, now) for installation in installations):
        since = installations[-1].installed_at
        raise RatingNotAllowedYet(
            "Rate an app after using it for a day: this shop installed it on "
            f"{since:%Y-%m-%d %H:%M} UTC and may rate it from {since + RATING_AFTER:%Y-%m-%d %H:%M} UTC."
        )


def _clean_text(text: str, problems: dict[str, list[str]], field: str = "text") -> str:
    cleaned = (text or "").strip()
    if not cleaned or len(cleaned) > MAX_TEXT:
        problems[field] = [f"Write 1 to {MAX_TEXT} characters."]
    return cleaned


def rating_payload(rating: AppRating) -> dict[str, Any]:
    return {
        "id": rating.id,
        "app_id": rating.app_id,
        "stars": rating.stars,
        "text": rating.text,
        "reply": rating.reply_text,
        "version": rating.version,
    }


def rate_app(
    session: DbSession,
    *,
    app_id: str,
    shop_id: str,
    stars: int,
    text: str,
    now: dt.datetime,
    expected_version: int | None = None,
) -> tuple[AppRating, bool]:
    """Create or change the shop's rating of the app; returns it and whether it is new.

    404 when the shop never installed the app, 403 until an installation lasted a day, 422 for bad
    stars or text, 412 for a stale ``expected_version``. An edit replaces stars and text.
    """
    problems: dict[str, list[str]] = {}
    if isinstance(stars, bool) or not isinstance(stars, int) or stars not in STARS:
        problems["stars"] = ["Give 1 to 5 stars."]
    cleaned = _clean_text(text, problems)
    if problems:
        raise InvalidRating("The rating has invalid fields: " + ", ".join(sorted(problems)) + ".", errors=problems)
    _require_eligible(session, app_id=app_id, shop_id=shop_id, now=now)
    rating = session.scalar(
        sa.select(AppRating).where(AppRating.app_id == app_id, AppRating.shop_id == shop_id).with_for_update()
    )
    created = rating is None
    if rating is None:
        rating = AppRating(app_id=app_id, shop_id=shop_id, stars=stars, text=cleaned, created_at=now, updated_at=now)
        session.add(rating)
    else:
        check_version(rating.version, expected_version)
        rating.stars, rating.text, rating.updated_at = stars, cleaned, now
    session.flush()
    emit(
        session,
        shop_id=None,
        type="rating.created" if created else "rating.updated",
        subject_type="rating",
        subject_id=rating.id,
        payload=rating_payload(rating),
    )
    return rating, created


def shop_rating(session: DbSession, *, app_id: str, shop_id: str) -> AppRating | None:
    return session.scalar(sa.select(AppRating).where(AppRating.app_id == app_id, AppRating.shop_id == shop_id))


def get_shop_rating(session: DbSession, *, app_id: str, shop_id: str) -> AppRating:
    """The shop's own rating of the app (404 when it has none)."""
    rating = shop_rating(session, app_id=app_id, shop_id=shop_id)
    if rating is None:
        raise RatingNotFound(f"This shop has not rated the app {app_id}.")
    return rating


def get_app_rating(session: DbSession, *, app_id: str, rating_id: str) -> AppRating:
    """A rating of ``app_id`` (a rating of another app is a 404)."""
    rating = session.get(AppRating, rating_id)
    if rating is None or rating.app_id != app_id:
        raise RatingNotFound(f"There is no rating {rating_id} of this app.")
    return rating


def reply(session: DbSession, *, app_id: str, rating_id: str, text: str, now: dt.datetime) -> AppRating:
    """The app developer's one public reply to a rating of the app (409 for a second one)."""
    problems: dict[str, list[str]] = {}
    cleaned = _clean_text(text, problems)
    if problems:
        raise InvalidRating("The reply is empty or too long.", errors=problems)
    rating = get_app_rating(session, app_id=app_id, rating_id=rating_id)
    session.refresh(rating, with_for_update=True)
    if rating.reply_text is not None:
        raise AlreadyReplied("You have already replied to this rating; a rating gets one reply.")
    rating.reply_text, rating.replied_at = cleaned, now
    session.flush()
    emit(
        session,
        shop_id=None,
        type="rating.replied",
        subject_type="rating",
        subject_id=rating.id,
        payload=rating_payload(rating),
    )
    return rating


def summary(session: DbSession, app_id: str) -> RatingSummary:
    """The average, the count and how many ratings have each number of stars."""
    counts = dict.fromkeys(reversed(STARS), 0)
    for stars, count in session.execute(
        sa.select(AppRating.stars, sa.func.count()).where(AppRating.app_id == app_id).group_by(AppRating.stars)
    ):
        counts[int(stars)] = int(count)
    total = sum(counts.values())
    average = sum(stars * count for stars, count in counts.items()) / total if total else None
    return RatingSummary(round(average, 2) if average is not None else None, total, counts)


def recent(session: DbSession, app_id: str, *, limit: int = 10) -> list[AppRating]:
    """The most recently written or edited ratings of the app."""
    stmt = (
        sa.select(AppRating)
        .where(AppRating.app_id == app_id)
        .order_by(AppRating.updated_at.desc(), AppRating.id.desc())
        .limit(limit)
    )
    return list(session.scalars(stmt))


def ratings_stmt(app_id: str) -> sa.Select[Any]:
    """Every rating of the app (for the developer's paginated list)."""
    return sa.select(AppRating).where(AppRating.app_id == app_id)
