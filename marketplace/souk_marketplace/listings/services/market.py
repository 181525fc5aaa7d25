"""The storefront: searching listed apps, categories, an app's page, changelog and images."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import TSQUERY

from souk_marketplace.listings import search
from souk_marketplace.listings.errors import ImageNotFound, ListingNotFound
from souk_marketplace.listings.models import Listing, ListingImage, ListingSubmission
from souk_marketplace.listings.services.indexing import _dialect
from souk_marketplace.listings.services.terms import LANGUAGES
from souk_marketplace.ratings.models import AppRating
from souk_platform.apps.models import App, AppVersion, Installation
from souk_platform.auth.models import User
from souk_platform.core.errors import Unprocessable
from souk_platform.db import DbSession
from souk_platform.prepared import PreparedRead

SORTS = ("featured", "installs", "rating", "newest")


# --- the storefront -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MarketEntry:
    """A listed app as the market shows it."""

    listing: Listing
    submission: ListingSubmission
    app: App
    version: AppVersion
    installs: int
    rating_average: float | None
    rating_count: int


def _installs() -> Any:
    return (
        sa.select(Installation.app_id, sa.func.count().label("n"))
        .where(Installation.status == "active")
        .group_by(Installation.app_id)
        .subquery()
    )


def _ratings() -> Any:
    return (
        sa.select(AppRating.app_id, sa.func.avg(AppRating.stars).label("average"), sa.func.count().label("count"))
        .group_by(AppRating.app_id)
        .subquery()
    )


#: What a market card shows of a listing and its listed submission (``search_market_cards``).
MARKET_CARD_COLUMNS = (
    Listing.id,
    Listing.slug,
    Listing.app_id,
    Listing.category,
    Listing.crowdfunded,
    Listing.first_listed_at,
    ListingSubmission.texts,
    ListingSubmission.icon_image_id,
)


def _market_select(*, cards: bool = False) -> tuple[sa.Select[Any], Any, Any]:
    """The listed apps with installs and ratings: as entities, or (``cards``) as ``MARKET_CARD_COLUMNS``."""
    installs, ratings = _installs(), _ratings()
    selected: tuple[Any, ...] = MARKET_CARD_COLUMNS if cards else (Listing, ListingSubmission, App, AppVersion)
    stmt = (
        sa.select(
            *selected,
            sa.func.coalesce(installs.c.n, 0).label("installs"),
            ratings.c.average.label("rating_average"),
            sa.func.coalesce(ratings.c.count, 0).label("rating_count"),
        )
        .join(ListingSubmission, ListingSubmission.id == Listing.listed_submission_id)
        .join(App, App.id == Listing.app_id)
        .join(AppVersion, AppVersion.id == ListingSubmission.app_version_id)
        .outerjoin(installs, installs.c.app_id == Listing.app_id)
        .outerjoin(ratings, ratings.c.app_id == Listing.app_id)
        .where(Listing.state == "listed")
    )
    return stmt, installs, ratings


def _entry(row: Any) -> MarketEntry:
    listing, submission, app, version, installs, average, count = row
    return MarketEntry(
        listing, submission, app, version, int(installs), float(average) if average is not None else None, int(count)
    )


def search_market(
    session: DbSession,
    *,
    q: str | None = None,
    category: str | None = None,
    sort: str = "featured",
    limit: int = 20,
    offset: int = 0,
) -> list[MarketEntry]:
    """Listed apps matching ``q`` (English or Chinese) in ``category``, sorted; ``limit`` from ``offset``.

    Sorts: ``featured`` (default: crowdfunded apps first, then relevance to ``q``, then installs),
    ``installs``, ``rating`` (average, then how many ratings), ``newest`` (first listed).
    """
    shape, params = _search(session, q, category, sort, limit, offset)
    return [_entry(row) for row in session.execute(_market_statement(shape), params)]


def search_market_cards(
    session: DbSession,
    *,
    q: str | None = None,
    category: str | None = None,
    sort: str = "featured",
    limit: int = 20,
    offset: int = 0,
) -> Sequence[Any]:
    """``search_market`` as rows of what a market card shows: ``MARKET_CARD_COLUMNS`` by key (``row.slug``,
    ``row.texts``) and ``installs``, ``rating_average``, ``rating_count`` — the same apps in the same order.

    A prepared read (docs/architecture.md §4.9): no entities, a tenth of the columns, and on PostgreSQL the
    driver's connection straight away. The API's market list reads this; pages that need the entities
    (the storefront, an app's page) read ``search_market``.
    """
    shape, params = _search(session, q, category, sort, limit, offset)
    return _market_cards_read(shape).all(session, params)


def _search(
    session: DbSession, q: str | None, category: str | None, sort: str, limit: int, offset: int
) -> tuple[_Shape, dict[str, Any]]:
    """A market search's shape and bound values (``sort`` checked)."""
    if sort not in SORTS:
        raise Unprocessable(f"sort must be one of: {', '.join(SORTS)}.", errors={"query.sort": ["Unknown sort."]})
    params: dict[str, Any] = {"limit": limit, "offset": offset}
    if category:
        params["category"] = category
    cjk = words = None
    terms: tuple[str, ...] = ()
    query = search.parse_query(q or "")
    if not query.empty:
        if _dialect(session) == "postgresql":
            cjk, words = search.tsquery_terms(query)
            params.update(cjk=cjk, words=words)
        else:
            terms = (*query.words, *query.cjk_runs)
            params.update({f"like_{i}": search.like_pattern(term) for i, term in enumerate(terms)})
    return _Shape(sort, bool(category), cjk is not None, words is not None, len(terms)), params


@dataclass(frozen=True, slots=True)
class _Shape:
    """What varies in the SQL of a market search; the values themselves are bound parameters."""

    sort: str
    by_category: bool
    cjk: bool  # PostgreSQL full text: the query has CJK runs
    words: bool  # PostgreSQL full text: the query has words
    like_terms: int  # other databases: one LIKE per term


@functools.lru_cache(maxsize=256)
def _market_statement(shape: _Shape, *, cards: bool = False) -> sa.Select[Any]:
    """The market search of one shape, built once per process (docs/architecture.md §4.8).

    Building the statement (two aggregate subqueries, four entities, joins) cost more than running it;
    a statement built once is also compiled once (SQLAlchemy memoizes its cache key on the object).
    Parameters: ``limit``, ``offset``, and as the shape says ``category``, ``cjk``, ``words``, ``like_<i>``.
    """
    stmt, installs, ratings = _market_select(cards=cards)
    if shape.by_category:
        stmt = stmt.where(Listing.category == sa.bindparam("category", type_=sa.String))
    rank: Any = None
    if shape.cjk or shape.words:
        tsquery = search.tsquery_of(
            sa.bindparam("cjk", type_=TSQUERY) if shape.cjk else None,
            sa.bindparam("words", type_=sa.String) if shape.words else None,
        )
        stmt = stmt.where(Listing.search_vector.op("@@")(tsquery))
        rank = sa.func.ts_rank(Listing.search_vector, tsquery)
    for i in range(shape.like_terms):
        stmt = stmt.where(Listing.search_text.like(sa.bindparam(f"like_{i}", type_=sa.String), escape="\\"))
    installs_n = sa.func.coalesce(installs.c.n, 0)
    order: list[Any]
    if shape.sort == "installs":
        order = [installs_n.desc()]
    elif shape.sort == "rating":
        order = [sa.func.coalesce(ratings.c.average, 0).desc(), sa.func.coalesce(ratings.c.count, 0).desc()]
    elif shape.sort == "newest":
        order = [Listing.first_listed_at.desc()]
    else:
        order = [Listing.crowdfunded.desc(), *([rank.desc()] if rank is not None else []), installs_n.desc()]
    return (
        stmt.order_by(*order, Listing.first_listed_at.desc(), Listing.id.desc())
        .limit(sa.bindparam("limit", type_=sa.Integer))
        .offset(sa.bindparam("offset", type_=sa.Integer))
    )


@functools.lru_cache(maxsize=256)
def _market_cards_read(shape: _Shape) -> PreparedRead:
    """The card form of ``_market_statement`` as a prepared read, one per shape (§4.9)."""
    return PreparedRead(_market_statement(shape, cards=True))


def category_counts(session: DbSession) -> dict[str, int]:
    """How many listed apps each category has."""
    stmt = sa.select(Listing.category, sa.func.count()).where(Listing.state == "listed").group_by(Listing.category)
    return {str(category): int(count) for category, count in session.execute(stmt) if category}


def find_listed(session: DbSession, ref: str) -> MarketEntry:
    """A listed app by listing id or slug; ``ListingNotFound`` otherwise (also when not listed)."""
    row = session.execute(_find_statement(), {"ref": ref}).first()
    if row is None:
        raise ListingNotFound(f"No listed app {ref!r} in the market.")
    return _entry(row)


@functools.cache
def _find_statement() -> sa.Select[Any]:
    """The market row of one listing by id or slug (parameter ``ref``), built once like ``_market_statement``."""
    stmt, _installs_q, _ratings_q = _market_select()
    ref = sa.bindparam("ref", type_=sa.String)
    return stmt.where(sa.or_(Listing.id == ref, Listing.slug == ref))


def changelog_of(session: DbSession, listing_id: str) -> list[tuple[int, str, dt.datetime | None]]:
    """(version number, changelog, approved at) of every approved submission, newest first."""
    stmt = (
        sa.select(AppVersion.number, ListingSubmission.changelog, ListingSubmission.decided_at)
        .join(AppVersion, AppVersion.id == ListingSubmission.app_version_id)
        .where(ListingSubmission.listing_id == listing_id, ListingSubmission.status == "approved")
        .order_by(ListingSubmission.number.desc())
    )
    return [(int(number), str(text), decided_at) for number, text, decided_at in session.execute(stmt)]


def texts_for(texts: dict[str, dict[str, str]], locale_code: str) -> dict[str, str]:
    """The name, tagline and description in the viewer's language, or else in the other one."""
    if locale_code in texts:
        return texts[locale_code]
    return next(texts[language] for language in LANGUAGES if language in texts)


def image_is_public(session: DbSession, image: ListingImage) -> bool:
    """Whether the image belongs to what the market shows (the listed submission of a listed app)."""
    listing = session.get(Listing, image.listing_id)
    if listing is None or listing.state != "listed" or not listing.listed_submission_id:
        return False
    listed = session.get(ListingSubmission, listing.listed_submission_id)
    return listed is not None and (image.id == listed.icon_image_id or image.id in listed.screenshot_image_ids)


def get_image(session: DbSession, image_id: str, *, viewer: User | None) -> tuple[ListingImage, bool]:
    """An image and whether it is public; unlisted ones only for the app's developer and admins (else 404)."""
    image = session.get(ListingImage, image_id)
    if image is None:
        raise ImageNotFound(f"There is no image {image_id}.")
    if image_is_public(session, image):
        return image, True
    listing = session.get(Listing, image.listing_id)
    app = session.get(App, listing.app_id) if listing else None
    if viewer is not None and (viewer.is_platform_admin or (app is not None and app.developer_id == viewer.id)):
        return image, False
    raise ImageNotFound(f"There is no image {image_id}.")
