"""The automated checks on a submission: what to check, recording the outcome, the sweep for lost runs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa

from souk_marketplace.listings.checks import CheckPlan, CheckResult, UploadedModule
from souk_marketplace.listings.models import Listing, ListingSubmission
from souk_marketplace.listings.services.states import transition
from souk_marketplace.listings.services.terms import MAX_REASON, STALE_CHECKS_AFTER
from souk_platform.apps.models import App, AppVersion
from souk_platform.db import DbSession
from souk_platform.plugins.models import Plugin
from souk_platform.webhooks.app_endpoints import app_webhook_secret
from souk_platform.webhooks.secret_box import SecretBox


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
