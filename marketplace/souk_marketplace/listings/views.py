"""Listing pages: the developer's "Listing" tab, the platform admins' review queue, and listing images.

A developer sees only their own apps (another app is a 404); admin pages need ``is_platform_admin``
(403 for anyone else, the login page for nobody).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.datastructures import FileStorage

from souk_marketplace.listings import services
from souk_marketplace.listings.errors import InvalidDecision, InvalidSubmission
from souk_marketplace.listings.forms import (
    LANGUAGE_LABELS,
    TEXT_LABELS,
    AdminDelistForm,
    ApproveForm,
    DeveloperDelistForm,
    RejectForm,
    SubmissionForm,
    submission_form,
)
from souk_marketplace.listings.images import MAX_IMAGE_BYTES
from souk_marketplace.listings.models import Listing, ListingSubmission
from souk_platform.apps.models import App, AppVersion
from souk_platform.apps.services import current_version, get_developer_app
from souk_platform.apps.views import developer_required
from souk_platform.auth.models import User
from souk_platform.auth.scopes import describe
from souk_platform.core.clock import app_now
from souk_platform.core.errors import InvalidState
from souk_platform.db import db
from souk_platform.web.auth import admin_required, current_user, signed_in_user
from souk_platform.webhooks.app_endpoints import current_app_webhook_secret
from souk_platform.webhooks.runtime import runtime_for as webhook_runtime_for

bp = Blueprint("listings", __name__)

F = TypeVar("F", bound=Callable[..., Any])

# Six images of 512 KiB plus the texts, as multipart.
SUBMISSION_MAX_BYTES = 6 * 1024 * 1024
PUBLIC_IMAGE_CACHE = "public, max-age=31536000, immutable"  # an image id always names the same bytes


# --- the developer's Listing tab -------------------------------------------------------------------


def _prefill(form: SubmissionForm, previous: ListingSubmission | None) -> None:
    if previous is None:
        return
    for language, fields in previous.texts.items():
        for name, value in fields.items():
            if f"{name}_{language}" in form:
                form[f"{name}_{language}"].data = value
    form.category.data = previous.category
    form.support_contact.data = previous.support_contact
    form.privacy_url.data = previous.privacy_url
    form.install_url.data = previous.install_url or ""
    for scope, field in form.justification_fields():
        field.data = previous.scope_justifications.get(scope, "")


def _render_console(app: App, version: AppVersion, form: SubmissionForm | None = None) -> str:
    listing = services.listing_for_app(db.session, app.id)
    submissions = services.submissions_of(db.session, listing.id) if listing else []
    if form is None:
        form = submission_form(version.scopes, formdata=None)
        _prefill(form, submissions[0] if submissions else None)
    box = webhook_runtime_for(current_app).box
    return render_template(
        "listings/console.html",
        app=app,
        version=version,
        listing=listing,
        submissions=submissions,
        version_numbers=services.version_numbers(db.session, (s.app_version_id for s in submissions)),
        timeline=services.timeline_of(db.session, listing.id) if listing else [],
        webhook_secret=current_app_webhook_secret(app, box=box) if listing else None,
        form=form,
        delist_form=DeveloperDelistForm(formdata=None),
        language_labels=LANGUAGE_LABELS,
        text_labels=TEXT_LABELS,
        describe=describe,
        categories=services.CATEGORIES,
        pending=any(s.status in services.PENDING for s in submissions),
    )


@bp.get("/developer/apps/<app_id>/listing")
@developer_required
def console(app_id: str) -> str:
    app = get_developer_app(db.session, developer_id=signed_in_user().id, app_id=app_id)
    return _render_console(app, current_version(app))


def _uploads(files: list[FileStorage] | FileStorage | None) -> list[bytes]:
    """The uploaded files' bytes (at most one byte over the image limit each: enough to refuse it)."""
    if files is None:
        return []
    found = files if isinstance(files, list) else [files]
    return [
        storage.read(MAX_IMAGE_BYTES + 1) for storage in found if isinstance(storage, FileStorage) and storage.filename
    ]


# Where each service error key is shown on the form.
def _field_for(form: SubmissionForm, key: str) -> Any:
    parts = key.split(".")
    if parts[0] == "texts" and len(parts) == 3 and f"{parts[2]}_{parts[1]}" in form:
        return form[f"{parts[2]}_{parts[1]}"]
    if parts[0] == "scope_justifications" and len(parts) == 2 and f"justify_{parts[1]}" in form:
        return form[f"justify_{parts[1]}"]
    if parts[0] in form:
        return form[parts[0]]
    return form.name_en  # "texts" as a whole, or anything else: shown at the top of the texts


@bp.post("/developer/apps/<app_id>/listing")
@developer_required
def submit(app_id: str) -> Any:
    request.max_content_length = SUBMISSION_MAX_BYTES
    app = get_developer_app(db.session, developer_id=signed_in_user().id, app_id=app_id)
    version = current_version(app)
    form = submission_form(version.scopes)
    if not form.validate_on_submit():
        return _render_console(app, version, form)
    icon = _uploads(form.icon.data)
    screenshots = _uploads(form.screenshots.data)
    draft = services.SubmissionDraft(
        texts={
            language: {name: form.text_field(name, language).data or "" for name in services.TEXT_FIELDS}
            for language in services.LANGUAGES
        },
        category=form.category.data or "",
        support_contact=form.support_contact.data or "",
        privacy_url=form.privacy_url.data or "",
        changelog=form.changelog.data or "",
        scope_justifications={scope: field.data or "" for scope, field in form.justification_fields()},
        install_url=form.install_url.data or None,
        icon=icon[0] if icon else None,
        screenshots=screenshots or None,
    )
    try:
        submission = services.submit_listing(
            db.session,
            app=app,
            draft=draft,
            box=webhook_runtime_for(current_app).box,
            now=app_now(),
            app_version_id=version.id,
            submitted_by=signed_in_user().id,
        )
    except InvalidSubmission as exc:
        db.session.rollback()
        for key, messages in (exc.errors or {}).items():
            field = _field_for(form, key)
            field.errors = [*field.errors, *messages]
        flash(_("The submission has problems: see the messages next to the fields."), "error")
        return _render_console(app, version, form)
    except InvalidState as exc:  # another submission pending, an older version, a suspended app
        db.session.rollback()
        flash(exc.detail, "error")
        return _render_console(app, version, form)
    db.session.commit()
    flash(
        _(
            "Submission %(number)d sent. The automated checks are running: this page shows their results.",
            number=submission.number,
        ),
        "success",
    )
    return redirect(url_for("listings.console", app_id=app.id))


@bp.post("/developer/apps/<app_id>/listing/delist")
@developer_required
def developer_delist(app_id: str) -> Any:
    app = get_developer_app(db.session, developer_id=signed_in_user().id, app_id=app_id)
    form = DeveloperDelistForm()
    listing = services.listing_for_app(db.session, app.id)
    if listing is None or not form.validate_on_submit():
        return redirect(url_for("listings.console", app_id=app.id))
    try:
        services.delist(
            db.session, listing_id=listing.id, now=app_now(), developer_id=signed_in_user().id, reason=form.reason.data
        )
    except InvalidState as exc:
        db.session.rollback()
        flash(exc.detail, "error")
    else:
        db.session.commit()
        flash(_("The app is no longer listed in the market."), "success")
    return redirect(url_for("listings.console", app_id=app.id))


# --- the admins' review queue ----------------------------------------------------------------------


@bp.get("/admin/listings")
@admin_required
def review_queue() -> str:
    return render_template(
        "listings/admin_queue.html",
        queue=services.review_queue(db.session),
        listed=services.listed_apps(db.session),
        now=app_now(),
    )


def _render_submission(
    submission: ListingSubmission, *, approve: ApproveForm | None = None, reject: RejectForm | None = None
) -> str:
    app = db.session.get(App, submission.app_id)
    version = db.session.get(AppVersion, submission.app_version_id)
    listing = db.session.get(Listing, submission.listing_id)
    developer = db.session.get(User, app.developer_id) if app else None
    return render_template(
        "listings/admin_submission.html",
        submission=submission,
        app=app,
        version=version,
        listing=listing,
        developer=developer,
        approve_form=approve or ApproveForm(formdata=None),
        reject_form=reject or RejectForm(formdata=None),
        language_labels=LANGUAGE_LABELS,
        describe=describe,
        categories=services.CATEGORIES,
        checklist=services.REVIEW_CHECKLIST,
    )


@bp.get("/admin/listings/submissions/<submission_id>")
@admin_required
def submission_detail(submission_id: str) -> str:
    return _render_submission(services.get_submission(db.session, submission_id))


@bp.post("/admin/listings/submissions/<submission_id>/approve")
@admin_required
def approve(submission_id: str) -> Any:
    submission = services.get_submission(db.session, submission_id)
    form = ApproveForm()
    if not form.validate_on_submit():
        return _render_submission(submission, approve=form)
    try:
        services.approve_submission(
            db.session,
            submission_id=submission.id,
            admin=signed_in_user(),
            checklist=form.checklist.data or [],
            now=app_now(),
        )
    except InvalidDecision as exc:
        db.session.rollback()
        form.checklist.errors = list((exc.errors or {}).get("checklist", [exc.detail]))
        return _render_submission(services.get_submission(db.session, submission_id), approve=form)
    except InvalidState as exc:
        db.session.rollback()
        flash(exc.detail, "error")
        return redirect(url_for("listings.submission_detail", submission_id=submission_id))
    db.session.commit()
    flash(_("Approved: the app is listed in the market."), "success")
    return redirect(url_for("listings.review_queue"))


@bp.post("/admin/listings/submissions/<submission_id>/reject")
@admin_required
def reject(submission_id: str) -> Any:
    submission = services.get_submission(db.session, submission_id)
    form = RejectForm()
    if not form.validate_on_submit():
        return _render_submission(submission, reject=form)
    try:
        services.reject_submission(
            db.session,
            submission_id=submission.id,
            admin=signed_in_user(),
            reason=form.reason.data or "",
            now=app_now(),
        )
    except InvalidDecision as exc:
        db.session.rollback()
        form.reason.errors = list((exc.errors or {}).get("reason", [exc.detail]))
        return _render_submission(services.get_submission(db.session, submission_id), reject=form)
    except InvalidState as exc:
        db.session.rollback()
        flash(exc.detail, "error")
        return redirect(url_for("listings.submission_detail", submission_id=submission_id))
    db.session.commit()
    flash(_("Rejected: the developer sees your reason."), "success")
    return redirect(url_for("listings.review_queue"))


def _render_listing(listing: Listing, form: AdminDelistForm | None = None) -> str:
    submissions = services.submissions_of(db.session, listing.id)
    return render_template(
        "listings/admin_listing.html",
        listing=listing,
        app=db.session.get(App, listing.app_id),
        submissions=submissions,
        version_numbers=services.version_numbers(db.session, (s.app_version_id for s in submissions)),
        timeline=services.timeline_of(db.session, listing.id),
        form=form or AdminDelistForm(formdata=None),
    )


@bp.get("/admin/listings/<listing_id>")
@admin_required
def listing_detail(listing_id: str) -> str:
    return _render_listing(services.get_listing(db.session, listing_id))


@bp.post("/admin/listings/<listing_id>/delist")
@admin_required
def admin_delist(listing_id: str) -> Any:
    listing = services.get_listing(db.session, listing_id)
    form = AdminDelistForm()
    if not form.validate_on_submit():
        return _render_listing(listing, form)
    try:
        services.delist(
            db.session, listing_id=listing.id, now=app_now(), admin=signed_in_user(), reason=form.reason.data
        )
    except InvalidState as exc:
        db.session.rollback()
        flash(exc.detail, "error")
    else:
        db.session.commit()
        flash(_("Delisted: the developer sees your reason."), "success")
    return redirect(url_for("listings.listing_detail", listing_id=listing_id))


# --- images ---------------------------------------------------------------------------------------


@bp.get("/market/images/<image_id>")
def image(image_id: str) -> Response:
    """An icon or screenshot: public once listed (cached for a year), else only for its developer and admins."""
    found, public = services.get_image(db.session, image_id, viewer=current_user())
    response = Response(status=200, mimetype=found.content_type)
    response.set_etag(found.sha256)
    response.headers["Cache-Control"] = PUBLIC_IMAGE_CACHE if public else "private, no-cache"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'"
    if request.if_none_match.contains(found.sha256):
        response.status_code = 304
        return response
    response.set_data(found.data)
    return response
