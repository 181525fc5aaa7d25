"""The review queue: checklist, approve, reject with reasons, delist; resubmissions keep the whole history."""

from __future__ import annotations

import json

import pytest
from marketplace.listings.world import admin, list_app, make_app, manifest, run_checks, submit

from factories import UserFactory
from souk_marketplace.listings import services
from souk_marketplace.listings.errors import IllegalListingTransition, InvalidDecision
from souk_platform.apps.services import publish_version
from souk_platform.core.errors import Forbidden
from souk_platform.events.models import OutboxEvent

CHECKLIST = list(services.REVIEW_CHECKLIST)


def _queued(session, app, a, clock, **overrides):
    submission = submit(session, app, a, clock.now(), **overrides)
    assert run_checks(submission.id) == "in_review"
    return submission


def _events(session, listing_id: str) -> list[str]:
    rows = session.query(OutboxEvent).filter_by(subject_id=listing_id).order_by(OutboxEvent.id).all()
    return [row.type for row in rows]


def test_the_queue_lists_submissions_oldest_first(app, session, clock):
    _, older, _ = make_app(session)
    _, newer, _ = make_app(session)
    first = _queued(session, app, older, clock)
    clock.advance(hours=2)
    second = _queued(session, app, newer, clock)
    assert [s.id for s, _app, _version in services.review_queue(session)] == [first.id, second.id]


def test_approval_needs_every_checklist_item(app, session, clock):
    _, a, _ = make_app(session)
    submission = _queued(session, app, a, clock)
    with pytest.raises(InvalidDecision) as caught:
        services.approve_submission(
            session, submission_id=submission.id, admin=admin(), checklist=CHECKLIST[:-1], now=clock.now()
        )
    assert caught.value.errors["checklist"] == [f"Not ticked: {CHECKLIST[-1]}."]
    session.rollback()
    with pytest.raises(InvalidDecision):
        services.approve_submission(
            session, submission_id=submission.id, admin=admin(), checklist=[*CHECKLIST, "bribe"], now=clock.now()
        )
    session.rollback()
    assert services.listing_for_app(session, a.id).state == "in_review"


def test_approval_lists_the_app_and_tells_the_developer(app, session, clock):
    _, a, _ = make_app(session)
    submission = _queued(session, app, a, clock)
    services.approve_submission(
        session, submission_id=submission.id, admin=admin(), checklist=CHECKLIST, now=clock.now()
    )
    session.commit()
    listing = services.listing_for_app(session, a.id)
    assert (listing.state, listing.listed_submission_id, listing.category) == ("listed", submission.id, "marketing")
    assert submission.checklist == CHECKLIST and services.review_queue(session) == []
    assert [e.app.id for e in services.search_market(session)] == [a.id]
    assert _events(session, listing.id) == ["listing.submitted", "listing.queued", "listing.approved"]


def test_only_platform_admins_decide(app, session, clock):
    _, a, _ = make_app(session)
    submission = _queued(session, app, a, clock)
    with pytest.raises(Forbidden):
        services.approve_submission(
            session, submission_id=submission.id, admin=UserFactory(), checklist=CHECKLIST, now=clock.now()
        )
    with pytest.raises(Forbidden):
        services.reject_submission(
            session, submission_id=submission.id, admin=UserFactory(), reason="no", now=clock.now()
        )


def test_rejection_needs_a_reason_the_developer_then_reads(app, session, clock):
    _, a, _ = make_app(session)
    submission = _queued(session, app, a, clock)
    for blank in ("", "   "):
        with pytest.raises(InvalidDecision) as caught:
            services.reject_submission(
                session, submission_id=submission.id, admin=admin(), reason=blank, now=clock.now()
            )
        assert "reason" in caught.value.errors
    services.reject_submission(
        session, submission_id=submission.id, admin=admin(), reason="Screenshots are mock-ups.", now=clock.now()
    )
    session.commit()
    listing = services.listing_for_app(session, a.id)
    assert listing.state == "rejected" and submission.decision_reason == "Screenshots are mock-ups."
    rejected = services.timeline_of(session, listing.id)[0]
    assert (rejected.action, rejected.reason, rejected.actor_kind) == ("rejected", "Screenshots are mock-ups.", "admin")
    event = session.query(OutboxEvent).filter_by(subject_id=listing.id, type="listing.rejected").one()
    assert event.payload["reason"] == "Screenshots are mock-ups."


def test_a_decided_submission_cannot_be_decided_again(app, session, clock):
    _, a, _ = make_app(session)
    submission = _queued(session, app, a, clock)
    services.reject_submission(session, submission_id=submission.id, admin=admin(), reason="No.", now=clock.now())
    session.commit()
    with pytest.raises(IllegalListingTransition):
        services.approve_submission(
            session, submission_id=submission.id, admin=admin(), checklist=CHECKLIST, now=clock.now()
        )
    with pytest.raises(IllegalListingTransition):
        services.reject_submission(
            session, submission_id=submission.id, admin=admin(), reason="Again.", now=clock.now()
        )


def test_a_submission_still_checking_cannot_be_approved(app, session, clock):
    _, a, _ = make_app(session)
    submission = submit(session, app, a, clock.now())
    with pytest.raises(IllegalListingTransition):
        services.approve_submission(
            session, submission_id=submission.id, admin=admin(), checklist=CHECKLIST, now=clock.now()
        )


def test_a_rejected_app_resubmits_and_keeps_its_history(app, session, clock):
    _, a, _ = make_app(session)
    first = _queued(session, app, a, clock)
    services.reject_submission(session, submission_id=first.id, admin=admin(), reason="Vague text.", now=clock.now())
    session.commit()
    clock.advance(days=1)
    second = _queued(session, app, a, clock, changelog="Clearer text.")
    assert services.listing_for_app(session, a.id).state == "in_review"
    services.approve_submission(session, submission_id=second.id, admin=admin(), checklist=CHECKLIST, now=clock.now())
    session.commit()
    history = services.submissions_of(session, first.listing_id)
    assert [(s.number, s.status, s.decision_reason) for s in history] == [
        (2, "approved", None),
        (1, "rejected", "Vague text."),
    ]
    actions = [e.action for e in reversed(services.timeline_of(session, first.listing_id))]
    assert actions == ["submitted", "queued", "rejected", "submitted", "queued", "approved"]


def test_a_new_version_is_reviewed_while_the_listed_one_stays_listed(app, session, clock):
    _, a, _ = make_app(session)
    listing = list_app(session, app, a, clock.now())
    first_listed = listing.listed_submission_id
    publish_version(session, app=a, manifest_text=json.dumps(manifest(description="v2")))
    session.commit()
    pending = _queued(session, app, a, clock, changelog="Version 2: faster.")
    session.refresh(listing)
    assert listing.state == "listed" and listing.listed_submission_id == first_listed
    assert [e.version.number for e in services.search_market(session)] == [1]
    services.reject_submission(session, submission_id=pending.id, admin=admin(), reason="Crashes.", now=clock.now())
    session.commit()
    session.refresh(listing)
    assert listing.state == "listed" and listing.listed_submission_id == first_listed
    again = _queued(session, app, a, clock, changelog="Version 2: fixed.")
    services.approve_submission(session, submission_id=again.id, admin=admin(), checklist=CHECKLIST, now=clock.now())
    session.commit()
    assert [e.version.number for e in services.search_market(session)] == [2]
    assert [(n, text) for n, text, _at in services.changelog_of(session, listing.id)] == [
        (2, "Version 2: fixed."),
        (1, "First release."),
    ]


def test_admins_delist_with_a_reason_and_developers_without(app, session, clock):
    _, a, _ = make_app(session)
    listing = list_app(session, app, a, clock.now())
    with pytest.raises(InvalidDecision):
        services.delist(session, listing_id=listing.id, now=clock.now(), admin=admin(), reason="")
    services.delist(session, listing_id=listing.id, now=clock.now(), admin=admin(), reason="Misleading claims.")
    session.commit()
    assert listing.state == "delisted" and services.search_market(session) == []
    with pytest.raises(IllegalListingTransition):  # not listed any more
        services.delist(session, listing_id=listing.id, now=clock.now(), developer_id=a.developer_id)
    session.rollback()
    assert _events(session, listing.id)[-1] == "listing.delisted"
    # A resubmission goes through review again, then the app is back.
    submission = _queued(session, app, a, clock, changelog="Honest claims.")
    assert services.listing_for_app(session, a.id).state == "in_review"
    services.approve_submission(
        session, submission_id=submission.id, admin=admin(), checklist=CHECKLIST, now=clock.now()
    )
    session.commit()
    assert [e.app.id for e in services.search_market(session)] == [a.id]
    services.delist(session, listing_id=listing.id, now=clock.now(), developer_id=a.developer_id)
    session.commit()
    assert services.timeline_of(session, listing.id)[0].actor_kind == "developer"


def test_a_draft_or_in_review_listing_cannot_be_delisted(app, session, clock):
    _, a, _ = make_app(session)
    submission = submit(session, app, a, clock.now())
    with pytest.raises(IllegalListingTransition):
        services.delist(session, listing_id=submission.listing_id, now=clock.now(), developer_id=a.developer_id)


def test_crowdfunded_apps_get_a_badge_and_rank_first_by_default(app, session, clock):
    _, popular, _ = make_app(session, name="Popular")
    _, funded, _ = make_app(session, name="Funded")
    list_app(session, app, popular, clock.now())
    services.mark_crowdfunded(session, app_id=funded.id, requirement_id="req_1", now=clock.now())
    session.commit()
    listing = services.listing_for_app(session, funded.id)
    assert listing.crowdfunded and listing.state == "draft"  # marked before it was ever submitted
    list_app(session, app, funded, clock.now())
    services.mark_crowdfunded(session, app_id=funded.id, requirement_id="req_1", now=clock.now())  # again: no-op
    session.commit()
    assert [e.app.name for e in services.search_market(session)] == ["Funded", "Popular"]
    assert next(e.app.name for e in services.search_market(session, sort="newest")) == "Funded"
    assert services.listing_for_app(session, funded.id).crowdfunded_requirement_id == "req_1"
    assert [e.action for e in services.timeline_of(session, listing.id)].count("crowdfunded") == 1
