"""The listings API: developers with app tokens, the public market with problem+json errors and a rate limit."""

from __future__ import annotations

import base64
import json

import pytest
from marketplace.listings.world import (
    DISCOUNT_TEST,
    ICON,
    SHOT,
    TIERED_DISCOUNT,
    admin,
    app_token,
    b64,
    install,
    list_app,
    make_app,
    manifest,
    run_checks,
    submission_json,
)

from factories import ShopFactory, token_for
from souk_marketplace.listings import services
from souk_marketplace.ratings.models import AppRating


def _submit(client, headers, **overrides):
    return client.post("/api/v1/app/listing/submissions", headers=headers, json=submission_json(**overrides))


def test_a_developer_submits_and_follows_the_checks_and_the_decision(app, client, session, clock):
    _, a, version = make_app(session)
    headers = app_token(session, a, clock.now())
    assert client.get("/api/v1/app/listing", headers=headers).get_json()["state"] == "none"

    r = _submit(client, headers)
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["status"] == "checking" and body["version_number"] == version.number
    assert body["icon_url"].startswith("http://localhost/market/images/lim_")

    assert run_checks(body["id"]) == "in_review"
    status = client.get("/api/v1/app/listing", headers=headers).get_json()
    assert status["state"] == "in_review" and status["webhook_test_secret"].startswith("whsec_")
    assert [c["check"] for c in status["submissions"][0]["checks"]] == ["manifest", "redirect_uris", "scopes"]

    services.reject_submission(session, submission_id=body["id"], admin=admin(), reason="Blurry icon.", now=clock.now())
    session.commit()
    status = client.get("/api/v1/app/listing", headers=headers).get_json()
    assert status["state"] == "rejected"
    assert status["submissions"][0]["decision_reason"] == "Blurry icon."
    assert status["timeline"][0] == {
        "action": "rejected",
        "from_state": "in_review",
        "to_state": "rejected",
        "actor_kind": "admin",
        "submission_id": body["id"],
        "reason": "Blurry icon.",
        "created_at": "2026-03-02T10:00:00+00:00",
    }


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"surprise": True}, "surprise"),
        ({"icon": "not base64!"}, "icon"),
        ({"icon": base64.b64encode(b"GIF89a....").decode()}, "icon"),
        ({"screenshots": [b64(SHOT)] * 7}, "screenshots"),
        ({"screenshots": [b64(SHOT), "%%%"]}, "screenshots.1"),
        ({"category": "games"}, "category"),
        ({"texts": {}}, "texts._schema"),
        ({"texts": {"en": {"name": "x", "tagline": "y"}}}, "texts.en.description"),
        ({"scope_justifications": {"read_everything": "why not"}}, "scope_justifications.read_everything.key"),
        ({"privacy_url": "not a url"}, "privacy_url"),
    ],
)
def test_bad_fields_are_422_problems_naming_the_field(app, client, session, clock, overrides, field):
    _, a, _ = make_app(session)
    headers = app_token(session, a, clock.now())
    r = _submit(client, headers, **overrides)
    assert r.status_code == 422 and r.content_type == "application/problem+json"
    assert field in r.get_json()["errors"], r.get_json()
    assert client.get("/api/v1/app/listing", headers=headers).get_json()["state"] == "none"


def test_submitting_twice_is_a_409_and_the_first_stands(app, client, session, clock):
    _, a, _ = make_app(session)
    headers = app_token(session, a, clock.now())
    assert _submit(client, headers).status_code == 201
    r = _submit(client, headers)
    assert r.status_code == 409 and r.get_json()["type"].endswith("/listing-submission-pending")
    assert len(client.get("/api/v1/app/listing", headers=headers).get_json()["submissions"]) == 1


def test_six_large_screenshots_fit_although_the_api_body_limit_is_1_mib(app, client, session, clock):
    _, a, _ = make_app(session)
    headers = app_token(session, a, clock.now())
    big = SHOT + b"\0" * (400 * 1024)  # still a PNG by its bytes
    r = _submit(client, headers, screenshots=[b64(big)] * 6)
    assert r.status_code == 201, r.get_json()
    assert len(r.get_json()["screenshot_urls"]) == 6


def test_shop_tokens_and_no_token_cannot_submit(app, client, session, clock):
    r = client.post("/api/v1/app/listing/submissions", json=submission_json())
    assert r.status_code == 401 and r.content_type == "application/problem+json"
    r = client.post("/api/v1/app/listing/submissions", json=submission_json(), headers=token_for(ShopFactory()))
    assert r.status_code == 403 and r.get_json()["type"].endswith("/app-token-required")


def test_the_developer_delists_and_a_second_delist_is_409(app, client, session, clock):
    _, a, _ = make_app(session)
    headers = app_token(session, a, clock.now())
    r = client.post("/api/v1/app/listing/delist", headers=headers, json={})
    assert r.status_code == 409
    list_app(session, app, a, clock.now())
    r = client.post("/api/v1/app/listing/delist", headers=headers, json={"reason": "Rebuilding it."})
    assert r.status_code == 200 and r.get_json()["state"] == "delisted"
    assert r.get_json()["timeline"][0]["reason"] == "Rebuilding it."
    assert client.post("/api/v1/app/listing/delist", headers=headers, json={}).status_code == 409
    assert client.get("/api/v1/market/apps").get_json()["items"] == []


# --- the public market --------------------------------------------------------------------------------


def _listed(session, app, clock, name: str, category: str = "marketing", **overrides):
    _, a, _ = make_app(session, name=name)
    texts = {"en": {"name": name, "tagline": f"{name} tagline", "description": f"{name} does things."}}
    list_app(session, app, a, clock.now(), texts=texts, category=category, **overrides)
    return a


def test_anyone_browses_searches_filters_and_sorts_the_market(app, client, session, clock):
    coupons = _listed(session, app, clock, "Coupon Rain", category="marketing")
    clock.advance(hours=1)
    guard = _listed(session, app, clock, "Risk Guard", category="risk")
    for _ in range(3):
        install(session, guard, ShopFactory().id, clock.now())
    r = client.get("/api/v1/market/apps")
    assert r.status_code == 200 and "RateLimit-Remaining" in r.headers
    items = r.get_json()["items"]
    assert [i["app_id"] for i in items] == [guard.id, coupons.id]  # featured: the installs decide
    assert items[0]["installs"] == 3 and items[0]["texts"]["en"]["name"] == "Risk Guard"
    newest = client.get("/api/v1/market/apps?sort=newest").get_json()["items"]
    assert [i["app_id"] for i in newest] == [guard.id, coupons.id]
    only_risk = client.get("/api/v1/market/apps?category=risk").get_json()["items"]
    assert [i["app_id"] for i in only_risk] == [guard.id]
    found = client.get("/api/v1/market/apps?q=coupon").get_json()["items"]
    assert [i["app_id"] for i in found] == [coupons.id]


def test_sort_by_rating_uses_the_average_then_the_count(app, client, session, clock):
    good = _listed(session, app, clock, "Good")
    better = _listed(session, app, clock, "Better")
    for stars, target in ((4, good), (5, better), (3, good)):
        shop = ShopFactory()
        session.add(
            AppRating(
                app_id=target.id,
                shop_id=shop.id,
                stars=stars,
                text="ok",
                created_at=clock.now(),
                updated_at=clock.now(),
            )
        )
    session.commit()
    items = client.get("/api/v1/market/apps?sort=rating").get_json()["items"]
    assert [(i["app_id"], i["rating"]) for i in items] == [
        (better.id, {"average": 5.0, "count": 1}),
        (good.id, {"average": 3.5, "count": 2}),
    ]


def test_pages_follow_the_cursor_and_a_forged_cursor_is_422(app, client, session, clock):
    ids = sorted(_listed(session, app, clock, f"App {n}").id for n in range(5))
    seen, url = [], "/api/v1/market/apps?limit=2&sort=newest"
    while url:
        r = client.get(url)
        seen += [i["app_id"] for i in r.get_json()["items"]]
        url = r.headers.get("Link", "").split(";")[0].strip("<>").replace("http://localhost", "") or None
    assert sorted(seen) == ids
    bad = client.get("/api/v1/market/apps?cursor=bm9wZQ")
    assert bad.status_code == 422 and "query.cursor" in bad.get_json()["errors"]
    assert client.get("/api/v1/market/apps?sort=cheapest").status_code == 422
    assert client.get("/api/v1/market/apps?limit=500").status_code == 422


def test_one_app_by_slug_or_id_with_plans_install_link_and_changelog(app, client, session, clock):
    _, a, version = make_app(session)
    listing = list_app(session, app, a, clock.now())
    by_slug = client.get(f"/api/v1/market/apps/{listing.slug}")
    assert by_slug.status_code == 200
    detail = by_slug.get_json()
    assert client.get(f"/api/v1/market/apps/{listing.id}").get_json() == detail
    assert detail["texts"]["zh_CN"]["name"] == "满减助手" and detail["version_number"] == version.number
    assert [p["id"] for p in detail["plans"]] == ["free", "pro"] and detail["plans"][1]["price"] == 9900
    assert detail["install"]["kind"] == "oauth"
    assert detail["install"]["url"].startswith(
        "http://localhost/oauth/authorize?response_type=code&client_id=" + a.client_id
    )
    assert "scope=read_orders+write_coupons" in detail["install"]["url"]
    assert detail["changelog"][0]["text"] == "First release."
    assert detail["rating"] == {"average": None, "count": 0, "by_stars": {"5": 0, "4": 0, "3": 0, "2": 0, "1": 0}}


def test_an_unknown_or_unlisted_app_is_a_404_problem(app, client, session, clock):
    _, a, _ = make_app(session)
    headers = app_token(session, a, clock.now())
    submission = _submit(client, headers).get_json()
    run_checks(submission["id"])
    listing = services.listing_for_app(session, a.id)
    for ref in ("no-such-app", listing.slug, listing.id, a.id):
        r = client.get(f"/api/v1/market/apps/{ref}")
        assert r.status_code == 404 and r.content_type == "application/problem+json"
        assert r.get_json()["type"].endswith("/listing-not-found")


def test_the_public_market_is_rate_limited_per_address(app, client, session, clock, monkeypatch):
    monkeypatch.setitem(app.config, "SOUK_RATE_LIMIT_RPS", 1.0)
    monkeypatch.setitem(app.config, "SOUK_RATE_LIMIT_BURST", 2)
    statuses = [client.get("/api/v1/market/apps").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    r = client.get("/api/v1/market/apps")
    assert r.content_type == "application/problem+json" and int(r.headers["Retry-After"]) >= 1


def test_the_market_shows_no_shop_of_the_installations_or_ratings(app, client, session, clock):
    a = _listed(session, app, clock, "Private Matters")
    shop = ShopFactory(name="Secret Tea Shop")
    install(session, a, shop.id, clock.now())
    session.add(
        AppRating(app_id=a.id, shop_id=shop.id, stars=4, text="Nice", created_at=clock.now(), updated_at=clock.now())
    )
    session.commit()
    listing = services.listing_for_app(session, a.id)
    text = client.get(f"/api/v1/market/apps/{listing.slug}").get_data(as_text=True) + client.get(
        "/api/v1/market/apps"
    ).get_data(as_text=True)
    assert shop.id not in text and "Secret Tea Shop" not in text
    assert (
        json.loads(client.get(f"/api/v1/market/apps/{listing.slug}").get_data())["recent_ratings"][0]["text"] == "Nice"
    )


def test_the_openapi_document_describes_the_market(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["paths"]["/api/v1/market/apps"]["get"]["security"] == []
    assert "/api/v1/app/listing/submissions" in spec["paths"]
    icon = spec["components"]["schemas"]["SubmissionCreate"]["properties"]["icon"]
    assert icon["format"] == "byte"


def test_icon_only_resubmission_is_not_possible_by_api_without_images(app, client, session, clock):
    _, a, _ = make_app(session)
    headers = app_token(session, a, clock.now())
    body = submission_json()
    del body["icon"]
    r = client.post("/api/v1/app/listing/submissions", headers=headers, json=body)
    assert r.status_code == 422 and "icon" in r.get_json()["errors"]
    assert ICON  # the API always sends the images; the console may keep the last ones


def test_a_body_over_the_submission_limit_is_a_413_problem(app, client, session, clock):
    _, a, _ = make_app(session)
    headers = app_token(session, a, clock.now())
    r = _submit(client, headers, changelog="x" * (7 * 1024 * 1024))
    assert r.status_code == 413 and r.content_type == "application/problem+json"


def test_a_version_with_a_plugin_goes_from_upload_to_the_review_queue_through_the_apis(app, client, session, clock):
    _, a, _ = make_app(session)
    headers = app_token(session, a, clock.now())
    plugin = {"point": "cart.discounts", "module": "plugins/discount.wasm", "tests": [DISCOUNT_TEST]}
    r = client.post("/api/v1/app/versions", headers=headers, json={"manifest": json.dumps(manifest(plugins=[plugin]))})
    assert r.status_code in (200, 201), r.get_json()
    version_id = r.get_json()["id"]
    r = client.post(
        f"/api/v1/app/versions/{version_id}/modules",
        headers=headers,
        json={"module": "plugins/discount.wasm", "module_base64": b64(TIERED_DISCOUNT)},
    )
    assert r.status_code in (200, 201), r.get_json()
    submitted = _submit(client, headers, app_version_id=version_id).get_json()
    assert run_checks(submitted["id"]) == "in_review"
    checks = client.get("/api/v1/app/listing", headers=headers).get_json()["submissions"][0]["checks"]
    plugin_check = next(c for c in checks if c["check"] == "plugin")
    assert plugin_check["passed"] and plugin_check["subject"] == "cart.discounts plugins/discount.wasm"
