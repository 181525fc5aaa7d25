"""Ratings: only shops that used an app for a day, one per shop (the latest edit counts), one developer reply,
aggregates with counts per star, and nothing of one shop visible to another."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from marketplace.listings.world import app_token, install, list_app, make_app

from factories import ShopFactory, UserFactory, token_for
from souk_marketplace.ratings import services
from souk_marketplace.ratings.errors import AlreadyReplied, AppNotInstalled, InvalidRating, RatingNotAllowedYet
from souk_marketplace.ratings.models import AppRating
from souk_platform.apps.models import Installation
from souk_platform.auth.services import create_access_token
from souk_platform.events.models import OutboxEvent
from souk_platform.shops.models import Shop

DAY = dt.timedelta(days=1)


def rating_url(app_id: str) -> str:
    return f"/api/v1/market/apps/{app_id}/rating"


def shop_token(session, listed: dict[str, Any], scopes: Any = None) -> dict[str, str]:
    """A staff token of the listed fixture's shop (read again: a request closes the test's session)."""
    shop = session.get(Shop, listed["shop_id"])
    return token_for(shop, scopes) if scopes else token_for(shop)


@pytest.fixture
def listed(app, session, clock) -> dict[str, Any]:
    """A listed app and a shop that installed it two days ago."""
    developer, a, _ = make_app(session)
    listing = list_app(session, app, a, clock.now())
    shop = ShopFactory()
    install(session, a, shop.id, clock.now() - 2 * DAY)
    return {"developer": developer, "app": a, "app_id": a.id, "slug": listing.slug, "shop": shop, "shop_id": shop.id}


# --- who may rate ------------------------------------------------------------------------------------


def test_a_shop_rates_after_a_day_of_use_and_not_before(app, session, clock, listed):
    fresh = ShopFactory()
    install(session, listed["app"], fresh.id, clock.now() - dt.timedelta(hours=23))
    with pytest.raises(RatingNotAllowedYet) as caught:
        services.rate_app(session, app_id=listed["app_id"], shop_id=fresh.id, stars=5, text="Great", now=clock.now())
    assert "may rate it from" in caught.value.detail
    clock.advance(hours=1)
    rating, created = services.rate_app(
        session, app_id=listed["app_id"], shop_id=fresh.id, stars=5, text="Great", now=clock.now()
    )
    assert created and rating.stars == 5


def test_still_allowed_after_uninstalling_but_not_after_a_quick_try(app, session, clock, listed):
    kept = ShopFactory()
    install(
        session,
        listed["app"],
        kept.id,
        clock.now() - 10 * DAY,
        status="uninstalled",
        uninstalled_at=clock.now() - 5 * DAY,
    )
    services.rate_app(session, app_id=listed["app_id"], shop_id=kept.id, stars=2, text="Left it", now=clock.now())
    tried = ShopFactory()
    start = clock.now() - 10 * DAY
    install(session, listed["app"], tried.id, start, status="uninstalled", uninstalled_at=start + dt.timedelta(hours=1))
    with pytest.raises(RatingNotAllowedYet):
        services.rate_app(session, app_id=listed["app_id"], shop_id=tried.id, stars=1, text="Meh", now=clock.now())


def test_a_shop_that_never_installed_the_app_cannot_rate_it(app, session, clock, listed):
    with pytest.raises(AppNotInstalled):
        services.rate_app(
            session, app_id=listed["app_id"], shop_id=ShopFactory().id, stars=1, text="?", now=clock.now()
        )


@pytest.mark.parametrize(
    ("stars", "text", "field"),
    [(0, "ok", "stars"), (6, "ok", "stars"), (True, "ok", "stars"), (3, "  ", "text"), (3, "x" * 2001, "text")],
)
def test_bad_stars_or_text_are_refused(app, session, clock, listed, stars, text, field):
    with pytest.raises(InvalidRating) as caught:
        services.rate_app(
            session, app_id=listed["app_id"], shop_id=listed["shop_id"], stars=stars, text=text, now=clock.now()
        )
    assert field in caught.value.errors


def test_one_rating_per_shop_and_the_latest_edit_counts(app, session, clock, listed):
    first, created = services.rate_app(
        session, app_id=listed["app_id"], shop_id=listed["shop_id"], stars=2, text="Slow", now=clock.now()
    )
    clock.advance(hours=3)
    second, created_again = services.rate_app(
        session, app_id=listed["app_id"], shop_id=listed["shop_id"], stars=4, text="Faster now", now=clock.now()
    )
    session.commit()
    assert created and not created_again and first.id == second.id
    assert session.query(AppRating).filter_by(app_id=listed["app_id"]).count() == 1
    assert (second.stars, second.text, second.updated_at) == (4, "Faster now", clock.now())
    summary = services.summary(session, listed["app_id"])
    assert (summary.average, summary.count) == (4.0, 1)
    types = [e.type for e in session.query(OutboxEvent).filter_by(subject_id=first.id).order_by(OutboxEvent.id)]
    assert types == ["rating.created", "rating.updated"]


def test_the_aggregate_counts_each_number_of_stars(app, session, clock, listed):
    for stars in (5, 5, 4, 1):
        shop = ShopFactory()
        install(session, listed["app"], shop.id, clock.now() - 3 * DAY)
        services.rate_app(session, app_id=listed["app_id"], shop_id=shop.id, stars=stars, text="t", now=clock.now())
    summary = services.summary(session, listed["app_id"])
    assert summary.by_stars == {5: 2, 4: 1, 3: 0, 2: 0, 1: 1} and summary.count == 4 and summary.average == 3.75


def test_the_developer_replies_once(app, session, clock, listed):
    rating, _ = services.rate_app(
        session, app_id=listed["app_id"], shop_id=listed["shop_id"], stars=3, text="OK", now=clock.now()
    )
    services.reply(session, app_id=listed["app_id"], rating_id=rating.id, text="Thanks, v2 is faster.", now=clock.now())
    with pytest.raises(AlreadyReplied):
        services.reply(session, app_id=listed["app_id"], rating_id=rating.id, text="Again", now=clock.now())
    assert rating.reply_text == "Thanks, v2 is faster."


# --- the API ---------------------------------------------------------------------------------------------


def test_a_shop_rates_by_api_and_reads_its_own_rating(app, client, session, clock, listed):
    headers = shop_token(session, listed, ["write_shop"])
    r = client.put(rating_url(listed["app_id"]), headers=headers, json={"stars": 4, "text": "Solid"})
    assert r.status_code == 201 and r.get_json()["stars"] == 4 and r.headers["ETag"] == '"1"'
    r = client.put(
        rating_url(listed["app_id"]), headers={**headers, "If-Match": '"1"'}, json={"stars": 5, "text": "Better"}
    )
    assert r.status_code == 200 and r.get_json()["version"] == 2
    stale = client.put(
        rating_url(listed["app_id"]), headers={**headers, "If-Match": '"1"'}, json={"stars": 1, "text": "x"}
    )
    assert stale.status_code == 412
    mine = client.get(rating_url(listed["app_id"]), headers=shop_token(session, listed, ["read_shop"]))
    assert mine.status_code == 200 and mine.get_json()["text"] == "Better" and mine.get_json()["reply"] is None


def test_rating_api_errors_are_problems(app, client, session, clock, listed):
    shop_id = listed["shop_id"]
    headers = shop_token(session, listed, ["write_shop"])
    cases = [
        ({"stars": 6, "text": "x"}, 422),
        ({"stars": "5", "text": "x"}, 422),
        ({"stars": 5}, 422),
        ({"stars": 5, "text": "x", "shop_id": "shp_other"}, 422),
    ]
    for body, status in cases:
        r = client.put(rating_url(listed["app_id"]), headers=headers, json=body)
        assert r.status_code == status and r.content_type == "application/problem+json", body
    assert (
        client.put(
            rating_url(listed["app_id"]),
            headers=shop_token(session, listed, ["read_shop"]),
            json={"stars": 5, "text": "x"},
        ).status_code
        == 403
    )
    r = client.put(rating_url("app_nothing"), headers=headers, json={"stars": 5, "text": "x"})
    assert r.status_code == 404 and r.get_json()["type"].endswith("/app-not-installed")
    assert session.query(AppRating).filter_by(shop_id=shop_id).count() == 0


def test_an_installed_apps_token_cannot_rate_for_the_merchant(app, client, session, clock, listed):
    installation = session.query(Installation).filter_by(shop_id=listed["shop_id"]).one()
    _, plaintext = create_access_token(
        session,
        shop_id=listed["shop_id"],
        name="app",
        scopes=["write_shop"],
        created_by=None,
        installation_id=installation.id,
    )
    session.commit()
    r = client.put(
        rating_url(listed["app_id"]), headers={"Authorization": f"Bearer {plaintext}"}, json={"stars": 5, "text": "Me!"}
    )
    assert r.status_code == 403 and r.get_json()["type"].endswith("/ratings-by-staff-only")


def test_a_shop_sees_only_its_own_rating(app, client, session, clock, listed):
    client.put(rating_url(listed["app_id"]), headers=shop_token(session, listed), json={"stars": 2, "text": "Mine"})
    other = ShopFactory()
    r = client.get(rating_url(listed["app_id"]), headers=token_for(other))
    assert r.status_code == 404 and r.get_json()["type"].endswith("/rating-not-found")
    r = client.put(rating_url(listed["app_id"]), headers=token_for(other), json={"stars": 1, "text": "Theirs"})
    assert r.status_code == 404
    assert [r.text for r in session.query(AppRating).filter_by(app_id=listed["app_id"])] == ["Mine"]


def test_the_developer_lists_and_replies_with_an_app_token(app, client, session, clock, listed):
    rated = client.put(
        rating_url(listed["app_id"]), headers=shop_token(session, listed), json={"stars": 3, "text": "Fine"}
    )
    rating_id = rated.get_json()["id"]
    headers = app_token(session, listed["app"], clock.now())
    listing = client.get("/api/v1/app/ratings", headers=headers).get_json()
    assert [r["id"] for r in listing["items"]] == [rating_id] and "shop_id" not in listing["items"][0]
    r = client.post(f"/api/v1/app/ratings/{rating_id}/reply", headers=headers, json={"text": "Thank you!"})
    assert r.status_code == 200 and r.get_json()["reply"]["text"] == "Thank you!"
    again = client.post(f"/api/v1/app/ratings/{rating_id}/reply", headers=headers, json={"text": "Twice"})
    assert again.status_code == 409 and again.get_json()["type"].endswith("/rating-already-replied")
    assert client.post(f"/api/v1/app/ratings/{rating_id}/reply", headers=headers, json={"text": ""}).status_code == 422
    _, stranger, _ = make_app(session)
    theirs = client.post(
        f"/api/v1/app/ratings/{rating_id}/reply", headers=app_token(session, stranger, clock.now()), json={"text": "Hi"}
    )
    assert theirs.status_code == 404
    public = client.get(f"/api/v1/market/apps/{listed['slug']}").get_json()
    assert public["recent_ratings"][0]["reply"]["text"] == "Thank you!"
    assert public["rating"]["by_stars"]["3"] == 1


# --- the pages -----------------------------------------------------------------------------------------


def login(client: Any, user_id: str) -> None:
    with client.session_transaction() as web_session:
        web_session["user_id"] = user_id


def test_an_eligible_owner_rates_on_the_app_page(app, client, session, clock, listed):
    owner = UserFactory()
    shop = ShopFactory(owner=owner, name="Tea Corner")
    install(session, listed["app"], shop.id, clock.now() - 2 * DAY)
    login(client, owner.id)
    page = client.get(f"/market/apps/{listed['slug']}").get_data(as_text=True)
    assert 'id="rate"' in page and "Tea Corner" in page
    bad = client.post(f"/market/apps/{listed['slug']}/rating", data={"shop_id": shop.id, "stars": "9", "text": ""})
    assert bad.status_code == 200 and "Write a few words." in bad.get_data(as_text=True)
    r = client.post(
        f"/market/apps/{listed['slug']}/rating", data={"shop_id": shop.id, "stars": "4", "text": "Does the job"}
    )
    assert r.status_code == 302
    page = client.get(f"/market/apps/{listed['slug']}").get_data(as_text=True)
    assert "Does the job" in page and "1 rating" in page


def test_no_rating_form_for_people_without_an_eligible_shop(app, client, session, clock, listed):
    assert 'id="rate"' not in client.get(f"/market/apps/{listed['slug']}").get_data(as_text=True)
    owner = UserFactory()
    shop = ShopFactory(owner=owner)
    install(session, listed["app"], shop.id, clock.now() - dt.timedelta(hours=2))
    login(client, owner.id)
    assert 'id="rate"' not in client.get(f"/market/apps/{listed['slug']}").get_data(as_text=True)
    r = client.post(f"/market/apps/{listed['slug']}/rating", data={"shop_id": shop.id, "stars": "5", "text": "Early"})
    assert "may rate it from" in r.get_data(as_text=True)
    staff_shop = ShopFactory()  # owned by someone else: this person may not rate for it
    r = client.post(f"/market/apps/{listed['slug']}/rating", data={"shop_id": staff_shop.id, "stars": "5", "text": "x"})
    assert "Choose one of the shops you own." in r.get_data(as_text=True)
    assert session.query(AppRating).count() == 0


def test_the_developer_replies_in_the_console(app, client, session, clock, listed):
    rating, _ = services.rate_app(
        session, app_id=listed["app_id"], shop_id=listed["shop_id"], stars=1, text="Broken", now=clock.now()
    )
    session.commit()
    rating_id = rating.id
    login(client, listed["developer"].id)
    url = f"/developer/apps/{listed['app_id']}/ratings"
    page = client.get(url).get_data(as_text=True)
    assert "Broken" in page and "One reply per rating" in page
    empty = client.post(f"{url}/{rating_id}/reply", data={"text": ""})
    assert "Write your reply." in empty.get_data(as_text=True)
    assert client.post(f"{url}/{rating_id}/reply", data={"text": "Fixed in v2."}).status_code == 302
    again = client.post(f"{url}/{rating_id}/reply", data={"text": "Again"}, follow_redirects=True).get_data(
        as_text=True
    )
    assert "already replied" in again
    login(client, UserFactory(is_developer=True).id)
    assert client.get(url).status_code == 404
    client.get("/language/zh_CN")
    login(client, listed["developer"].id)
    r = client.get(url)
    assert r.status_code == 200 and 'lang="zh-CN"' in r.get_data(as_text=True)
