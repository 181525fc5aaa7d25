"""The search index of listed apps (PostgreSQL full text, or plain text on SQLite)."""

from __future__ import annotations

import sqlalchemy as sa

from souk_marketplace.listings import search
from souk_marketplace.listings.models import Listing, ListingSubmission
from souk_marketplace.listings.services.terms import LANGUAGES, TEXT_FIELDS
from souk_platform.db import DbSession


def _dialect(session: DbSession) -> str:
    return str(session.get_bind().dialect.name)


def _fields(texts: dict[str, dict[str, str]]) -> list[tuple[str, str]]:
    """(text, weight) of every name, tagline and description, in both languages."""
    return [
        (texts[language].get(name, ""), weight)
        for name, weight in zip(TEXT_FIELDS, search.WEIGHTS, strict=True)
        for language in LANGUAGES
        if language in texts
    ]


def _index(session: DbSession, listing: Listing, submission: ListingSubmission) -> None:
    """Make the listed submission's texts searchable (both backends)."""
    fields = _fields(submission.texts)
    listing.search_text = "\n".join(text for text, _weight in fields).lower()
    session.flush()
    if _dialect(session) == "postgresql":
        session.execute(
            sa.update(Listing).where(Listing.id == listing.id).values(search_vector=search.document_vector(fields))
        )
