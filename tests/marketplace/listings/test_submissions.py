"""Submitting an app version for listing: every field checked at once, images by their bytes, and the rules
about when a submission may be sent."""

from __future__ import annotations

import json

import pytest
from marketplace.listings.world import ICON, JPEG, SHOT, WEBP, draft, list_app, make_app, manifest, run_checks, submit

from souk_marketplace.listings import services
from souk_marketplace.listings.errors import (
    AppNotListable,
    IllegalListingTransition,
    InvalidSubmission,
    SubmissionPending,
)
from souk_marketplace.listings.models import ListingImage, ListingSubmission
from souk_platform.apps.services import publish_version
from souk_platform.webhooks.runtime import runtime_for


def _submit_bad(session, app, a, clock, **overrides) -> dict[str, list[str]]:
    with pytest.raises(InvalidSubmission) as caught:
        services.submit_listing(session, app=a, draft=draft(**overrides), box=runtime_for(app).box, now=clock.now())
    session.rollback()
    assert services.listing_for_app(session, a.id) is None  # nothing was written
    return caught.value.errors or {}


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"texts": {}}, "texts"),
        ({"texts": {"en": {"name": "", "tagline": "", "description": ""}}}, "texts"),
        ({"texts": {"en": {"name": "Helper", "tagline": "", "description": "Does things."}}}, "texts.en.tagline"),
        ({"texts": {"fr": {"name": "Aide", "tagline": "Aide", "description": "Aide."}}}, "texts.fr"),
        ({"texts": {"zh_CN": {"name": "助手" * 60, "tagline": "一", "description": "二"}}}, "texts.zh_CN.name"),
        ({"category": "games"}, "category"),
        ({"icon": b"GIF89a not allowed"}, "icon"),
        ({"icon": b"\x89PNG\r\n\x1a\n" + b"\0" * (512 * 1024)}, "icon"),
        ({"screenshots": []}, "screenshots"),
        ({"screenshots": [SHOT] * 7}, "screenshots"),
        ({"screenshots": [SHOT, b"<svg/>"]}, "screenshots.1"),
        ({"support_contact": "call us"}, "support_contact"),
        ({"privacy_url": "ftp://helper.example.com/privacy"}, "privacy_url"),
        ({"install_url": "http://helper.example.com/install"}, "install_url"),
        ({"changelog": "   "}, "changelog"),
        ({"scope_justifications": {"write_products": "Not asked for."}}, "scope_justifications.write_products"),
    ],
)
def test_each_bad_field_is_named_and_nothing_is_stored(app, session, clock, overrides, field):
    _, a, _ = make_app(session)
    problems = _submit_bad(session, app, a, clock, **overrides)
    assert field in problems, problems


def test_all_problems_come_back_at_once(app, session, clock):
    _, a, _ = make_app(session)
    problems = _submit_bad(session, app, a, clock, category="x", support_contact="", privacy_url="", changelog="")
    assert {"category", "support_contact", "privacy_url", "changelog"} <= set(problems)


def test_a_public_client_must_say_where_it_is_installed(app, session, clock):
    _, a, _ = make_app(session, client_type="public")
    assert "install_url" in _submit_bad(session, app, a, clock)
    submission = submit(session, app, a, clock.now(), install_url="https://helper.example.com/install")
    assert submission.install_url == "https://helper.example.com/install"


def test_one_language_is_enough_and_images_are_recognised_by_their_bytes(app, session, clock):
    _, a, _ = make_app(session)
    texts = {"zh_CN": {"name": "满减助手", "tagline": "满减", "description": "满减活动。"}}
    submission = submit(session, app, a, clock.now(), texts=texts, icon=JPEG, screenshots=[WEBP, SHOT])
    assert set(submission.texts) == {"zh_CN"}
    types = [
        session.get(ListingImage, i).content_type for i in [submission.icon_image_id, *submission.screenshot_image_ids]
    ]
    assert types == ["image/jpeg", "image/webp", "image/png"]


def test_the_first_submission_creates_the_listing_with_a_slug_and_history(app, session, clock):
    _, a, _ = make_app(session)
    submission = submit(session, app, a, clock.now())
    listing = services.listing_for_app(session, a.id)
    assert listing.slug == "full-reduction-helper" and listing.state == "draft"
    assert submission.number == 1 and submission.status == "checking"
    assert services.submission_for_version(session, a.current_version_id).id == submission.id
    _, other, _ = make_app(session)  # same name, another app: another slug
    submit(session, app, other, clock.now())
    assert services.listing_for_app(session, other.id).slug == "full-reduction-helper-2"


def test_a_chinese_only_name_gets_a_slug_from_the_app_id(app, session, clock):
    _, a, _ = make_app(session, name="满减助手")
    submit(session, app, a, clock.now())
    assert services.listing_for_app(session, a.id).slug.startswith("app-")


def test_no_second_submission_while_one_is_checked_or_reviewed(app, session, clock):
    _, a, _ = make_app(session)
    first = submit(session, app, a, clock.now())
    with pytest.raises(SubmissionPending):
        submit(session, app, a, clock.now())
    session.rollback()
    run_checks(first.id)  # now in review: still blocked
    with pytest.raises(SubmissionPending):
        submit(session, app, a, clock.now())
    session.rollback()
    assert session.query(ListingSubmission).filter_by(app_id=a.id).count() == 1


def test_a_failed_submission_can_be_sent_again_keeping_its_images(app, session, clock):
    _, a, _ = make_app(session)
    first = submit(session, app, a, clock.now(), scope_justifications={})
    assert run_checks(first.id) == "checks_failed"
    second = services.submit_listing(
        session,
        app=a,
        draft=draft(icon=None, screenshots=None),
        box=runtime_for(app).box,
        now=clock.now(),
    )
    session.commit()
    assert second.number == 2
    assert (second.icon_image_id, second.screenshot_image_ids) == (first.icon_image_id, first.screenshot_image_ids)
    assert session.query(ListingImage).count() == 2  # the same bytes are stored once per listing
    assert [s.number for s in services.submissions_of(session, first.listing_id)] == [2, 1]


def test_the_first_submission_needs_its_images(app, session, clock):
    _, a, _ = make_app(session)
    assert "icon" in _submit_bad(session, app, a, clock, icon=None)
    assert "screenshots" in _submit_bad(session, app, a, clock, screenshots=None)


def test_a_version_older_than_the_listed_one_cannot_be_submitted(app, session, clock):
    _, a, v1 = make_app(session)
    publish_version(session, app=a, manifest_text=json.dumps(manifest(description="v2")))
    session.commit()
    list_app(session, app, a, clock.now())  # v2 listed
    with pytest.raises(IllegalListingTransition):
        services.submit_listing(
            session, app=a, draft=draft(), box=runtime_for(app).box, now=clock.now(), app_version_id=v1.id
        )
    session.rollback()


def test_another_apps_version_is_refused(app, session, clock):
    _, a, _ = make_app(session)
    _, _, theirs = make_app(session)
    with pytest.raises(InvalidSubmission) as caught:
        services.submit_listing(
            session, app=a, draft=draft(), box=runtime_for(app).box, now=clock.now(), app_version_id=theirs.id
        )
    assert "app_version_id" in caught.value.errors


def test_a_suspended_app_cannot_be_submitted(app, session, clock):
    _, a, _ = make_app(session)
    a.status = "suspended"
    session.commit()
    with pytest.raises(AppNotListable):
        submit(session, app, a, clock.now())


def test_icon_bytes_round_trip(app, session, clock):
    _, a, _ = make_app(session)
    submission = submit(session, app, a, clock.now())
    assert session.get(ListingImage, submission.icon_image_id).data == ICON
