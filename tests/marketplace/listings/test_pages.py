"""The listing pages as people use them: the market in two languages, the developer's Listing tab with its
upload form, the admins' review queue, and the images."""

from __future__ import annotations

import io
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

from marketplace.listings.world import ICON, SHOT, admin, list_app, make_app, run_checks, submit

from factories import ShopFactory, UserFactory
from souk_marketplace.listings import services
from souk_marketplace.listings.models import ListingSubmission


def login(client: Any, user: Any) -> None:
    user_id = user.id
    with client.session_transaction() as web_session:
        web_session["user_id"] = user_id


def text(response: Any) -> str:
    return str(response.get_data(as_text=True))


def _ids(session, app, clock, **manifest_overrides: Any) -> tuple[Any, str, str]:
    developer, a, _ = make_app(session, **manifest_overrides)
    listing = list_app(session, app, a, clock.now())
    return developer, a.id, listing.slug


# --- the market ---------------------------------------------------------------------------------------


def test_the_market_speaks_the_visitors_language_and_falls_back(app, client, session, clock):
    _ids(session, app, clock)
    _, english_only, _ = make_app(session, name="Order Shield")
    list_app(
        session,
        app,
        english_only,
        clock.now(),
        texts={"en": {"name": "Order Shield", "tagline": "Stops fraud", "description": "Risk rules."}},
        category="risk",
    )
    english = text(client.get("/market", headers={"Accept-Language": "en"}))
    assert "Full Reduction Helper" in english and "Spend-and-save discounts in a minute" in english
    assert 'href="/market"' in english  # the top bar links the market
    chinese = text(client.get("/market", headers={"Accept-Language": "zh-CN"}))
    assert 'lang="zh-CN"' in chinese and "满减助手" in chinese and "一分钟配置满减活动" in chinese
    assert "Full Reduction Helper" not in chinese and "Order Shield" in chinese  # no Chinese texts: English


def test_search_category_and_sort_work_without_javascript(app, client, session, clock):
    _ids(session, app, clock)
    assert "满减助手" in text(client.get("/market?q=满减", headers={"Accept-Language": "zh-CN"}))
    assert "No app matches." in text(client.get("/market?q=咖啡"))
    assert "No app matches." in text(client.get("/market?category=risk"))
    page = text(client.get("/market?sort=rating&category=nonsense&page=x"))  # bad values fall back
    assert "Full Reduction Helper" in page


def test_the_app_page_shows_plans_in_words_and_an_install_link_to_the_consent_page(app, client, session, clock):
    developer, _app_id, slug = _ids(session, app, clock)
    page = text(client.get(f"/market/apps/{slug}", headers={"Accept-Language": "en"}))
    assert "¥99.00 a month · 14-day free trial" in page and "Free" in page
    assert "First release." in page and developer.name in page
    href = re.search(r'<a class="button" id="install" href="([^"]+)"', page).group(1).replace("&amp;", "&")
    parts = urlsplit(href)
    query = parse_qs(parts.query)
    assert parts.path == "/oauth/authorize"
    assert query["response_type"] == ["code"] and query["scope"] == ["read_orders write_coupons"]
    assert query["redirect_uri"] == ["https://helper.example.com/oauth/callback"] and len(query["state"][0]) >= 16
    assert client.get(f"/market/apps/{slug}").status_code == 200
    chinese = text(client.get(f"/market/apps/{slug}", headers={"Accept-Language": "zh-CN"}))
    assert "设置满减门槛，提升会员复购。" in chinese


def test_a_public_app_installs_from_its_own_url(app, client, session, clock):
    _, a, _ = make_app(session, client_type="public")
    listing = list_app(session, app, a, clock.now(), install_url="https://helper.example.com/install")
    page = text(client.get(f"/market/apps/{listing.slug}"))
    assert 'id="install" href="https://helper.example.com/install"' in page


def test_an_unlisted_app_has_no_page(app, client, session, clock):
    _, a, _ = make_app(session)
    submission = submit(session, app, a, clock.now())
    slug = services.listing_for_app(session, a.id).slug
    assert client.get(f"/market/apps/{slug}").status_code == 404
    assert client.get("/market/apps/nothing").content_type.startswith("text/html")
    assert submission.id


# --- images -------------------------------------------------------------------------------------------


def test_listed_images_are_public_typed_and_cached(app, client, session, clock):
    _, app_id, _slug = _ids(session, app, clock)
    submission = session.get(ListingSubmission, services.listing_for_app(session, app_id).listed_submission_id)
    url = f"/market/images/{submission.icon_image_id}"
    r = client.get(url)
    assert r.status_code == 200 and r.data == ICON and r.content_type == "image/png"
    assert r.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    again = client.get(url, headers={"If-None-Match": r.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""


def test_images_under_review_are_for_the_developer_and_admins_only(app, client, session, clock):
    developer, a, _ = make_app(session)
    submission = submit(session, app, a, clock.now())
    url = f"/market/images/{submission.screenshot_image_ids[0]}"
    assert client.get(url).status_code == 404
    login(client, UserFactory(is_developer=True))
    assert client.get(url).status_code == 404
    login(client, developer)
    r = client.get(url)
    assert r.status_code == 200 and r.data == SHOT and r.headers["Cache-Control"] == "private, no-cache"
    login(client, admin())
    assert client.get(url).status_code == 200


# --- the developer's Listing tab ------------------------------------------------------------------------


def _form(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name_en": "Full Reduction Helper",
        "tagline_en": "Spend-and-save discounts",
        "description_en": "Thresholds with money off.",
        "name_zh_CN": "",
        "tagline_zh_CN": "",
        "description_zh_CN": "",
        "category": "marketing",
        "support_contact": "help@helper.example.com",
        "privacy_url": "https://helper.example.com/privacy",
        "install_url": "",
        "changelog": "First release.",
        "justify_read_orders": "To see orders.",
        "justify_write_coupons": "To issue coupons.",
        "icon": (io.BytesIO(ICON), "icon.png"),
        "screenshots": [(io.BytesIO(SHOT), "one.png"), (io.BytesIO(SHOT + b"\0"), "two.png")],
    }
    data.update(overrides)
    return data


def test_the_listing_tab_is_the_owners_alone(app, client, session, clock):
    developer, a, _ = make_app(session)
    url = f"/developer/apps/{a.id}/listing"
    assert client.get(url).status_code == 302  # log in first
    login(client, UserFactory(is_developer=False))
    assert client.get(url).status_code == 403
    login(client, UserFactory(is_developer=True))
    assert client.get(url).status_code == 404
    login(client, developer)
    page = text(client.get(url))
    assert "Submit version 1 for listing" in page and 'enctype="multipart/form-data"' in page
    assert "justify_write_coupons" in page and "Not submitted" in page
    assert f'href="/developer/apps/{a.id}/listing"' in text(client.get(f"/developer/apps/{a.id}"))  # the tab


def test_the_form_uploads_images_and_shows_the_checks_and_the_reason(app, client, session, clock):
    developer, a, _ = make_app(session)
    app_id = a.id
    login(client, developer)
    r = client.post(f"/developer/apps/{app_id}/listing", data=_form(), content_type="multipart/form-data")
    assert r.status_code == 302
    page = text(client.get(f"/developer/apps/{app_id}/listing"))
    assert "Submission 1 sent" in page and "Checks running" in page
    submission = services.submissions_of(session, services.listing_for_app(session, app_id).id)[0]
    assert len(submission.screenshot_image_ids) == 2 and submission.texts == {
        "en": {
            "name": "Full Reduction Helper",
            "tagline": "Spend-and-save discounts",
            "description": "Thresholds with money off.",
        }
    }
    run_checks(submission.id)
    services.reject_submission(
        session, submission_id=submission.id, admin=admin(), reason="Icon is blurry.", now=clock.now()
    )
    session.commit()
    page = text(client.get(f"/developer/apps/{app_id}/listing"))
    assert "✓ Manifest" in page and "Icon is blurry." in page and "Rejected" in page
    # The next submission may keep the images of the last one.
    r = client.post(
        f"/developer/apps/{app_id}/listing",
        data=_form(icon=(io.BytesIO(b""), ""), screenshots=[], changelog="Sharper icon? Same one."),
        content_type="multipart/form-data",
    )
    assert r.status_code == 302
    latest = services.submissions_of(session, services.listing_for_app(session, app_id).id)[0]
    assert latest.number == 2 and latest.icon_image_id == submission.icon_image_id


def test_form_errors_appear_next_to_their_fields_and_nothing_is_sent(app, client, session, clock):
    developer, a, _ = make_app(session)
    app_id = a.id
    login(client, developer)
    r = client.post(
        f"/developer/apps/{app_id}/listing",
        data=_form(
            icon=(io.BytesIO(b"GIF89a"), "icon.gif"),
            privacy_url="nope",
            tagline_en="",
            justify_write_coupons="x" * 1001,
        ),
        content_type="multipart/form-data",
    )
    page = text(r)
    assert r.status_code == 200
    assert re.search(r'name="justify_write_coupons".*?</label>\s*<p class="field-error">', page, re.S)
    for message in ("Not a PNG, JPEG or WebP image.", "Give the http(s) URL of the app", "Give this too"):
        assert message in page
    assert 'value="Full Reduction Helper"' in page  # what was typed is kept
    assert services.listing_for_app(session, app_id) is None


def test_a_listed_app_is_delisted_by_its_developer(app, client, session, clock):
    developer, app_id, slug = _ids(session, app, clock)
    login(client, developer)
    assert "Delist the app" in text(client.get(f"/developer/apps/{app_id}/listing"))
    r = client.post(f"/developer/apps/{app_id}/listing/delist", data={"reason": "Moving to v2."})
    assert r.status_code == 302
    assert client.get(f"/market/apps/{slug}").status_code == 404
    assert "Moving to v2." in text(client.get(f"/developer/apps/{app_id}/listing"))


# --- the review queue -----------------------------------------------------------------------------------


def _queued(session, app, clock) -> tuple[str, str]:
    _, a, _ = make_app(session)
    submission = submit(session, app, a, clock.now())
    run_checks(submission.id)
    return a.id, submission.id


def test_admin_pages_are_for_platform_admins(app, client, session, clock):
    _, submission_id = _queued(session, app, clock)
    urls = ["/admin/listings", f"/admin/listings/submissions/{submission_id}"]
    for url in urls:
        assert client.get(url).status_code == 302
    login(client, UserFactory(is_developer=True))
    for url in urls:
        assert client.get(url).status_code == 403
    assert client.post(f"{urls[1]}/approve", data={"checklist": list(services.REVIEW_CHECKLIST)}).status_code == 403
    login(client, admin())
    home = text(client.get("/"))
    assert 'href="/admin/listings"' in home
    queue = text(client.get(urls[0]))
    assert "Full Reduction Helper" in queue and f"/admin/listings/submissions/{submission_id}" in queue


def test_an_admin_approves_after_ticking_the_whole_checklist(app, client, session, clock):
    app_id, submission_id = _queued(session, app, clock)
    login(client, admin())
    detail = text(client.get(f"/admin/listings/submissions/{submission_id}"))
    assert "To issue coupons." in detail and "✓ Manifest" in detail and "满减助手" in detail
    half = list(services.REVIEW_CHECKLIST)[:2]
    page = text(client.post(f"/admin/listings/submissions/{submission_id}/approve", data={"checklist": half}))
    assert "Not ticked: privacy_url_works." in page
    assert services.listing_for_app(session, app_id).state == "in_review"
    r = client.post(
        f"/admin/listings/submissions/{submission_id}/approve", data={"checklist": list(services.REVIEW_CHECKLIST)}
    )
    assert r.status_code == 302
    assert services.listing_for_app(session, app_id).state == "listed"
    assert "Nothing to review." in text(client.get("/admin/listings"))


def test_an_admin_rejects_with_a_reason_and_delists_with_one(app, client, session, clock):
    app_id, submission_id = _queued(session, app, clock)
    login(client, admin())
    page = text(client.post(f"/admin/listings/submissions/{submission_id}/reject", data={"reason": ""}))
    assert "Give the reason." in page
    r = client.post(
        f"/admin/listings/submissions/{submission_id}/reject", data={"reason": "Text is machine-translated."}
    )
    assert r.status_code == 302
    assert services.listing_for_app(session, app_id).state == "rejected"
    again = client.post(
        f"/admin/listings/submissions/{submission_id}/reject", data={"reason": "Twice."}, follow_redirects=True
    )
    assert "not in review" in text(again)

    _, listed_app, slug = _ids(session, app, clock)
    listing_id = services.listing_for_app(session, listed_app).id
    assert "Give the reason." in text(client.post(f"/admin/listings/{listing_id}/delist", data={"reason": " "}))
    client.post(f"/admin/listings/{listing_id}/delist", data={"reason": "Fake reviews."})
    assert client.get(f"/market/apps/{slug}").status_code == 404
    assert "Fake reviews." in text(client.get(f"/admin/listings/{listing_id}"))


def test_review_forms_need_a_csrf_token(app, client, session, clock):
    _, submission_id = _queued(session, app, clock)
    login(client, admin())
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        assert 'name="csrf_token"' in text(client.get(f"/admin/listings/submissions/{submission_id}"))
        r = client.post(f"/admin/listings/submissions/{submission_id}/reject", data={"reason": "No token."})
        assert r.status_code == 400
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert session.get(ListingSubmission, submission_id).status == "in_review"


def test_the_listing_pages_render_in_chinese(app, client, session, clock):
    developer, app_id, slug = _ids(session, app, clock)
    login(client, developer)
    client.get("/language/zh_CN")
    for url in (f"/developer/apps/{app_id}/listing", "/market", f"/market/apps/{slug}"):
        r = client.get(url)
        assert r.status_code == 200 and 'lang="zh-CN"' in text(r)


def test_the_install_button_opens_the_consent_page_for_the_listed_scopes(app, client, session, clock):
    _, _app_id, slug = _ids(session, app, clock)
    owner = UserFactory()
    ShopFactory(owner=owner, name="Tea Corner")
    login(client, owner)
    page = text(client.get(f"/market/apps/{slug}"))
    href = re.search(r'id="install" href="([^"]+)"', page).group(1).replace("&amp;", "&")
    consent = client.get(href)
    assert consent.status_code == 200, text(consent)
    body = text(consent)
    assert "Install Full Reduction Helper on Tea Corner?" in body
    assert 'data-scope="read_orders"' in body and 'data-scope="write_coupons"' in body
