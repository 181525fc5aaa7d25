"""Submitting an app version for listing: the texts, images and links checked, the checks queued."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa

from souk_marketplace.listings.errors import (
    AppNotListable,
    IllegalListingTransition,
    InvalidSubmission,
    SubmissionPending,
)
from souk_marketplace.listings.images import BadImage, content_type_of
from souk_marketplace.listings.models import Listing, ListingImage, ListingSubmission
from souk_marketplace.listings.services.states import PENDING, transition
from souk_marketplace.listings.services.terms import (
    CATEGORIES,
    CHECK_JOB,
    LANGUAGES,
    MAX_CHANGELOG,
    MAX_JUSTIFICATION,
    MAX_SCREENSHOTS,
    TEXT_FIELDS,
)
from souk_platform.apps.manifest import check_redirect_uri
from souk_platform.apps.models import App, AppVersion
from souk_platform.db import DbSession
from souk_platform.jobs.runner import enqueue_after_commit
from souk_platform.webhooks.app_endpoints import app_webhook_secret
from souk_platform.webhooks.secret_box import SecretBox

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True, slots=True)
class SubmissionDraft:
    """What the developer sends with a version. ``icon``/``screenshots`` None: keep the previous submission's."""

    texts: dict[str, dict[str, str]]
    category: str
    support_contact: str
    privacy_url: str
    changelog: str
    scope_justifications: dict[str, str] = field(default_factory=dict)
    install_url: str | None = None
    icon: bytes | None = None
    screenshots: list[bytes] | None = None


# --- submitting ----------------------------------------------------------------------------------


def _slug_for(session: DbSession, app: App) -> str:
    ascii_name = unicodedata.normalize("NFKD", app.name).encode("ascii", "ignore").decode().lower()
    base = re.sub(r"[^a-z0-9]+", "-", ascii_name).strip("-")[:60].strip("-")
    if len(base) < 3:
        base = "app-" + app.id.rsplit("_", 1)[-1][-8:]
    slug, n = base, 1
    while session.scalar(sa.select(Listing.id).where(Listing.slug == slug)) is not None:
        n += 1
        slug = f"{base}-{n}"
    return slug


def _locked_listing(session: DbSession, app: App) -> Listing:
    """The app's listing, row-locked for this transaction; created (draft) if it has none."""
    listing = session.scalar(sa.select(Listing).where(Listing.app_id == app.id).with_for_update())
    if listing is None:
        listing = Listing(app_id=app.id, slug=_slug_for(session, app), state="draft", crowdfunded=False, search_text="")
        session.add(listing)
        session.flush()
    return listing


def _version_of(session: DbSession, app: App, app_version_id: str | None) -> AppVersion:
    version_id = app_version_id or app.current_version_id
    version = session.get(AppVersion, version_id) if version_id else None
    if version is None or version.app_id != app.id:
        raise InvalidSubmission(
            f"The app has no version {app_version_id}.", errors={"app_version_id": ["Not a version of this app."]}
        )
    return version


def _is_web_url(value: str) -> bool:
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return (
        parts.scheme in ("http", "https")
        and bool(parts.hostname)
        and parts.username is None
        and not any(ch.isspace() for ch in value)
    )


def _text_problems(texts: dict[str, dict[str, str]], problems: dict[str, list[str]]) -> dict[str, dict[str, str]]:
    """The languages given (all three fields filled); empty languages are dropped."""
    given: dict[str, dict[str, str]] = {}
    for language, fields in texts.items():
        if language not in LANGUAGES:
            problems[f"texts.{language}"] = [f"Not a language of the market ({', '.join(LANGUAGES)})."]
            continue
        cleaned = {name: str(fields.get(name) or "").strip() for name in TEXT_FIELDS}
        unknown = sorted(set(fields) - set(TEXT_FIELDS))
        for name in unknown:
            problems[f"texts.{language}.{name}"] = ["Unknown field."]
        if not any(cleaned.values()):
            continue
        for name, limit in TEXT_FIELDS.items():
            if not cleaned[name]:
                problems[f"texts.{language}.{name}"] = ["Give this too, or leave the whole language empty."]
            elif len(cleaned[name]) > limit:
                problems[f"texts.{language}.{name}"] = [f"At most {limit} characters."]
        given[language] = cleaned
    if not given and not any(key.startswith("texts.") for key in problems):
        problems["texts"] = ["Give the name, tagline and description in English or Chinese (or both)."]
    return given


def _draft_problems(
    draft: SubmissionDraft, app: App, version: AppVersion
) -> tuple[dict[str, list[str]], dict[str, Any]]:
    """Every field problem of ``draft`` at once, and the cleaned values."""
    problems: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {"texts": _text_problems(draft.texts, problems)}
    if draft.category not in CATEGORIES:
        problems["category"] = [f"Choose one of: {', '.join(CATEGORIES)}."]
    contact = draft.support_contact.strip()
    if not contact or len(contact) > 320 or not (_EMAIL.match(contact) or _is_web_url(contact)):
        problems["support_contact"] = ["Give an email address or an http(s) URL where merchants get help."]
    privacy = draft.privacy_url.strip()
    if not privacy or len(privacy) > 2000 or not _is_web_url(privacy):
        problems["privacy_url"] = ["Give the http(s) URL of the app's privacy policy."]
    install_url = (draft.install_url or "").strip() or None
    if install_url is not None:
        try:
            check_redirect_uri(install_url)
        except ValueError as exc:
            problems["install_url"] = [str(exc)]
        if len(install_url) > 2000:
            problems["install_url"] = ["At most 2000 characters."]
    elif app.client_type == "public":
        problems["install_url"] = [
            "A public client starts its own PKCE authorization: give the URL where merchants install it."
        ]
    changelog = draft.changelog.strip()
    if not changelog or len(changelog) > MAX_CHANGELOG:
        problems["changelog"] = [f"Say what is new in this version (1 to {MAX_CHANGELOG} characters)."]
    justifications: dict[str, str] = {}
    for scope, text in draft.scope_justifications.items():
        if scope not in version.scopes:
            problems[f"scope_justifications.{scope}"] = ["Not a scope this version requests."]
        elif len(str(text)) > MAX_JUSTIFICATION:
            problems[f"scope_justifications.{scope}"] = [f"At most {MAX_JUSTIFICATION} characters."]
        elif str(text).strip():
            justifications[scope] = str(text).strip()
    images: dict[str, tuple[bytes, str]] = {}
    if draft.icon is not None:
        _check_image("icon", draft.icon, images, problems)
    if draft.screenshots is not None:
        if not 1 <= len(draft.screenshots) <= MAX_SCREENSHOTS:
            problems["screenshots"] = [f"Give 1 to {MAX_SCREENSHOTS} screenshots."]
        for index, data in enumerate(draft.screenshots):
            _check_image(f"screenshots.{index}", data, images, problems)
    cleaned.update(
        contact=contact, privacy=privacy, install_url=install_url, changelog=changelog, justifications=justifications
    )
    cleaned["images"] = images
    return problems, cleaned


def _check_image(name: str, data: bytes, images: dict[str, tuple[bytes, str]], problems: dict[str, list[str]]) -> None:
    try:
        images[name] = (data, content_type_of(data))
    except BadImage as exc:
        problems[name] = [str(exc)]


def _store_image(session: DbSession, listing: Listing, upload: tuple[bytes, str], now: dt.datetime) -> str:
    """The id of the listing's image with these bytes and type (stored once per listing)."""
    data, content_type = upload
    digest = hashlib.sha256(data).hexdigest()
    existing = session.scalar(
        sa.select(ListingImage.id).where(ListingImage.listing_id == listing.id, ListingImage.sha256 == digest)
    )
    if existing is not None:
        return existing
    image = ListingImage(
        listing_id=listing.id,
        sha256=digest,
        content_type=content_type,
        size_bytes=len(data),
        data=data,
        created_at=now,
    )
    session.add(image)
    session.flush()
    return image.id


def latest_submission(session: DbSession, listing_id: str) -> ListingSubmission | None:
    return session.scalar(
        sa.select(ListingSubmission)
        .where(ListingSubmission.listing_id == listing_id)
        .order_by(ListingSubmission.number.desc())
        .limit(1)
    )


def submit_listing(
    session: DbSession,
    *,
    app: App,
    draft: SubmissionDraft,
    box: SecretBox,
    now: dt.datetime,
    app_version_id: str | None = None,
    submitted_by: str | None = None,
) -> ListingSubmission:
    """Submit a version of ``app`` (default: its current one) for listing; its checks run in a job.

    422 (``InvalidSubmission``, every field at once) for bad input; 409 when another submission is
    being checked or reviewed, for a version older than the listed one, or for a suspended app. The
    listing is created on the first submission, with its slug and webhook test secret.
    """
    if app.status != "active":
        raise AppNotListable(f"The app {app.name} is {app.status}; it cannot be submitted for listing.")
    version = _version_of(session, app, app_version_id)
    problems, cleaned = _draft_problems(draft, app, version)
    if problems:
        raise InvalidSubmission(_summary(problems), errors=problems)
    listing = _locked_listing(session, app)
    pending = session.scalar(
        sa.select(ListingSubmission.number).where(
            ListingSubmission.listing_id == listing.id, ListingSubmission.status.in_(PENDING)
        )
    )
    if pending is not None:
        raise SubmissionPending(f"Submission {pending} of this app is still being checked or reviewed; wait for it.")
    if listing.listed_submission_id:
        listed = session.get(ListingSubmission, listing.listed_submission_id)
        listed_version = session.get(AppVersion, listed.app_version_id) if listed else None
        if listed_version is not None and version.number < listed_version.number:
            raise IllegalListingTransition(
                f"Version {version.number} is older than the listed version {listed_version.number}."
            )
    previous = latest_submission(session, listing.id)
    images = cleaned["images"]
    if "icon" in images:
        icon_id = _store_image(session, listing, images["icon"], now)
    elif previous is not None:
        icon_id = previous.icon_image_id
    else:
        raise InvalidSubmission("The first submission needs an icon.", errors={"icon": ["Upload an icon."]})
    if draft.screenshots is not None:
        screenshot_ids = [
            _store_image(session, listing, images[f"screenshots.{i}"], now) for i in range(len(draft.screenshots))
        ]
    elif previous is not None:
        screenshot_ids = list(previous.screenshot_image_ids)
    else:
        raise InvalidSubmission(
            "The first submission needs screenshots.", errors={"screenshots": ["Upload at least one screenshot."]}
        )
    app_webhook_secret(session, app=app, box=box)  # the checks sign their webhook.test with it
    submission = ListingSubmission(
        listing_id=listing.id,
        app_id=app.id,
        app_version_id=version.id,
        number=(previous.number + 1) if previous else 1,
        status="checking",
        texts=cleaned["texts"],
        category=draft.category,
        icon_image_id=icon_id,
        screenshot_image_ids=screenshot_ids,
        support_contact=cleaned["contact"],
        privacy_url=cleaned["privacy"],
        install_url=cleaned["install_url"],
        changelog=cleaned["changelog"],
        scope_justifications=cleaned["justifications"],
        checks=[],
        checklist=[],
        submitted_by=submitted_by,
        submitted_at=now,
    )
    session.add(submission)
    session.flush()
    transition(
        session, listing, "submitted", now=now, actor_kind="developer", actor_id=submitted_by, submission=submission
    )
    enqueue_after_commit(session, CHECK_JOB, submission.id)
    return submission


def _summary(problems: dict[str, list[str]]) -> str:
    return "The submission has invalid fields: " + ", ".join(sorted(problems)) + "."
