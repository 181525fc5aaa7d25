"""Listings: submissions and their automated checks, the review queue, delistings, the storefront's search.

Plain functions: a session and explicit arguments (the time included) in; no Flask request globals.
A listing's state changes only through ``transition`` (the table ``TRANSITIONS`` of actions, a
``StateMachine``), which checks the
move, writes the timeline row and emits the developer's outbox event (``listing.<action>``, a
platform-level event: no shop). For the other marketplace packages: ``listing_for_app``,
``submission_for_version`` and ``mark_crowdfunded``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from souk_marketplace.listings import search
from souk_marketplace.listings.checks import CheckPlan, CheckResult, UploadedModule
from souk_marketplace.listings.errors import (
    AppNotListable,
    IllegalListingTransition,
    ImageNotFound,
    InvalidDecision,
    InvalidSubmission,
    ListingNotFound,
    SubmissionNotFound,
    SubmissionPending,
)
from souk_marketplace.listings.images import BadImage, content_type_of
from souk_marketplace.listings.models import Listing, ListingEvent, ListingImage, ListingSubmission
from souk_marketplace.ratings.models import AppRating
from souk_platform.apps.manifest import check_redirect_uri
from souk_platform.apps.models import App, AppVersion, Installation
from souk_platform.auth.models import User
from souk_platform.core.errors import Forbidden, Unprocessable
from souk_platform.core.states import Move, StateMachine
from souk_platform.db import DbSession
from souk_platform.events.services import emit
from souk_platform.jobs.runner import enqueue_after_commit
from souk_platform.plugins.models import Plugin
from souk_platform.webhooks.app_endpoints import app_webhook_secret
from souk_platform.webhooks.secret_box import SecretBox

CHECK_JOB = "souk_marketplace.listings.tasks.run_submission_checks"
# A submission still "checking" this long after it was sent lost its job (a flushed queue, a killed
# worker): the periodic sweep runs its checks again. Longer than the slowest run (every webhook timing out).
STALE_CHECKS_AFTER = dt.timedelta(minutes=15)

# The fixed category list: id → label (the market shows the label in the viewer's language).
CATEGORIES: dict[str, Any] = {
    "marketing": _l("Marketing"),
    "loyalty": _l("Loyalty and points"),
    "risk": _l("Risk control"),
    "orders": _l("Orders"),
    "analytics": _l("Analytics"),
    "operations": _l("Operations tools"),
}
LANGUAGES = ("en", "zh_CN")
TEXT_FIELDS = {"name": 100, "tagline": 140, "description": 5000}  # field → most characters
MAX_SCREENSHOTS = 6
MAX_CHANGELOG = 5000
MAX_JUSTIFICATION = 1000
MAX_REASON = 2000

# What a reviewer confirms before approving: every item must be ticked.
REVIEW_CHECKLIST: dict[str, Any] = {
    "description_accurate": _l("The description says truthfully what the app does"),
    "screenshots_real": _l("The screenshots show the real app"),
    "scopes_justified": _l("Every requested scope is needed, as its justification says"),
    "privacy_url_works": _l("The privacy policy URL opens a real privacy policy"),
    "plugins_sensible": _l("The plugins do what the listing says, and nothing else"),
}

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

SORTS = ("featured", "installs", "rating", "newest")
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


# --- lookups other packages use -----------------------------------------------------------------


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


# --- checks --------------------------------------------------------------------------------------


def check_plan(session: DbSession, *, submission_id: str, box: SecretBox) -> CheckPlan | None:
    """What the checks of a "checking" submission need, read now (None when it is not checking)."""
    submission = session.get(ListingSubmission, submission_id)
    if submission is None or submission.status != "checking":
        return None
    app = session.get(App, submission.app_id)
    version = session.get(AppVersion, submission.app_version_id)
    assert app is not None and version is not None  # foreign keys
    manifest = dict(version.manifest)
    modules = []
    for entry in manifest.get("plugins") or []:
        if not isinstance(entry, dict):
            continue
        stored = session.scalar(
            sa.select(Plugin).where(Plugin.app_version_id == version.id, Plugin.module_path == entry.get("module"))
        )
        tests = [
            test
            for test in entry.get("tests") or []
            if isinstance(test, dict) and isinstance(test.get("input"), dict) and "name" in test
        ]
        modules.append(
            UploadedModule(
                point=str(entry.get("point")),
                module_path=str(entry.get("module")),
                wasm=bytes(stored.module) if stored is not None else None,
                tests=tests,
            )
        )
    return CheckPlan(
        app_id=submission.app_id,
        submission_id=submission.id,
        manifest=manifest,
        modules=modules,
        scope_justifications=dict(submission.scope_justifications),
        # The secret production deliveries to these endpoints are signed with.
        webhook_secret=app_webhook_secret(session, app=app, box=box),
    )


def finish_checks(
    session: DbSession, *, submission_id: str, results: Sequence[CheckResult], now: dt.datetime
) -> ListingSubmission | None:
    """Record the check results: all passed → in the review queue; any failed → ``checks_failed``.

    A second run for the same submission (a re-sent job) finds it no longer checking and changes nothing.
    """
    submission = session.get(ListingSubmission, submission_id)
    if submission is None:
        return None
    listing = session.scalar(sa.select(Listing).where(Listing.id == submission.listing_id).with_for_update())
    session.refresh(submission)
    if listing is None or submission.status != "checking":
        return None
    submission.checks = [result.as_dict() for result in results]
    submission.checks_finished_at = now
    failed = [result for result in results if not result.passed]
    if failed:
        submission.status = "checks_failed"
        reason = "; ".join(f"{r.check}{' ' + r.subject if r.subject else ''}: {r.message}" for r in failed)
        transition(
            session,
            listing,
            "checks_failed",
            now=now,
            actor_kind="system",
            submission=submission,
            reason=reason[:MAX_REASON],
        )
    else:
        submission.status = "in_review"
        transition(session, listing, "queued", now=now, actor_kind="system", submission=submission)
    return submission


def stale_checking_submissions(session: DbSession, *, now: dt.datetime) -> list[str]:
    """Submissions whose checks should have finished long ago (their job was lost)."""
    return list(
        session.scalars(
            sa.select(ListingSubmission.id).where(
                ListingSubmission.status == "checking", ListingSubmission.submitted_at < now - STALE_CHECKS_AFTER
            )
        )
    )


# --- review --------------------------------------------------------------------------------------


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


# --- search index ---------------------------------------------------------------------------------


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


def _market_select() -> tuple[sa.Select[Any], Any, Any]:
    installs, ratings = _installs(), _ratings()
    stmt = (
        sa.select(
            Listing,
            ListingSubmission,
            App,
            AppVersion,
            sa.func.coalesce(installs.c.n, 0).label("installs"),
            ratings.c.average,
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
    if sort not in SORTS:
        raise Unprocessable(f"sort must be one of: {', '.join(SORTS)}.", errors={"query.sort": ["Unknown sort."]})
    stmt, installs, ratings = _market_select()
    if category:
        stmt = stmt.where(Listing.category == category)
    rank: Any = None
    query = search.parse_query(q or "")
    if not query.empty:
        if _dialect(session) == "postgresql":
            tsquery = search.tsquery(query)
            stmt = stmt.where(Listing.search_vector.op("@@")(tsquery))
            rank = sa.func.ts_rank(Listing.search_vector, tsquery)
        else:
            for term in (*query.words, *query.cjk_runs):
                stmt = stmt.where(Listing.search_text.like(search.like_pattern(term), escape="\\"))
    installs_n = sa.func.coalesce(installs.c.n, 0)
    order: list[Any]
    if sort == "installs":
        order = [installs_n.desc()]
    elif sort == "rating":
        order = [sa.func.coalesce(ratings.c.average, 0).desc(), sa.func.coalesce(ratings.c.count, 0).desc()]
    elif sort == "newest":
        order = [Listing.first_listed_at.desc()]
    else:
        order = [Listing.crowdfunded.desc(), *([rank.desc()] if rank is not None else []), installs_n.desc()]
    stmt = stmt.order_by(*order, Listing.first_listed_at.desc(), Listing.id.desc()).limit(limit).offset(offset)
    return [_entry(row) for row in session.execute(stmt)]


def category_counts(session: DbSession) -> dict[str, int]:
    """How many listed apps each category has."""
    stmt = sa.select(Listing.category, sa.func.count()).where(Listing.state == "listed").group_by(Listing.category)
    return {str(category): int(count) for category, count in session.execute(stmt) if category}


def find_listed(session: DbSession, ref: str) -> MarketEntry:
    """A listed app by listing id or slug; ``ListingNotFound`` otherwise (also when not listed)."""
    stmt, _installs_q, _ratings_q = _market_select()
    row = session.execute(stmt.where(sa.or_(Listing.id == ref, Listing.slug == ref))).first()
    if row is None:
        raise ListingNotFound(f"No listed app {ref!r} in the market.")
    return _entry(row)


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
