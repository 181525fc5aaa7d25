"""Rate limits as an API caller sees them: headers on every authenticated response, 429 when over."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from factories import ShopFactory, install_app, oauth_token, token_for
from souk_platform.apps.models import App, Installation
from souk_platform.db import db
from souk_platform.ratelimit import MemoryStore, RedisStore


@pytest.fixture
def limits(app: Flask) -> Iterator[Any]:
    """Set the platform default for one test (the suite's own default is generous)."""
    saved = app.config["SOUK_RATE_LIMIT_RPS"], app.config["SOUK_RATE_LIMIT_BURST"]

    def set_limits(rps: float, burst: int) -> None:
        app.config["SOUK_RATE_LIMIT_RPS"], app.config["SOUK_RATE_LIMIT_BURST"] = rps, burst

    yield set_limits
    app.config["SOUK_RATE_LIMIT_RPS"], app.config["SOUK_RATE_LIMIT_BURST"] = saved


def statuses(client: Any, headers: dict[str, str], times: int, path: str = "/api/v1/shop") -> list[int]:
    return [client.get(path, headers=headers).status_code for _ in range(times)]


def test_every_authenticated_response_carries_the_headers(client, clock, limits, app) -> None:
    limits(10, 20)
    headers = token_for(ShopFactory())
    ok = client.get("/api/v1/shop", headers=headers)
    assert ok.status_code == 200
    assert (ok.headers["RateLimit-Limit"], ok.headers["RateLimit-Remaining"], ok.headers["RateLimit-Reset"]) == (
        "20",
        "19",
        "1",  # one token spent, back in 0.1 s (rounded up)
    )
    assert "Retry-After" not in ok.headers
    missing = client.get("/api/v1/products/prd_missing", headers=headers)  # an error from the view
    assert missing.status_code == 404 and missing.headers["RateLimit-Remaining"] == "18"
    invalid = client.post("/api/v1/products", json={"title": 7}, headers=headers)  # refused by the schema
    assert invalid.status_code == 422 and invalid.headers["RateLimit-Remaining"] == "17"
    assert isinstance(app.extensions["souk.ratelimit"], RedisStore)  # the suite's app has Redis


def test_a_request_over_the_limit_is_a_429_problem_that_changes_nothing(client, clock, limits) -> None:
    limits(0.5, 2)
    headers = token_for(ShopFactory())
    assert statuses(client, headers, 2) == [200, 200]
    refused = client.post("/api/v1/customers", json={"name": "Lin"}, headers=headers)
    assert refused.status_code == 429
    assert refused.mimetype == "application/problem+json"
    body = refused.get_json()
    assert body["type"] == "https://souk.dev/problems/rate-limited" and body["status"] == 429
    assert "0.5 requests per second" in body["detail"]
    assert refused.headers["Retry-After"] == "2"  # one token takes 2 s at 0.5/s
    assert refused.headers["RateLimit-Remaining"] == "0" and refused.headers["RateLimit-Reset"] == "4"
    clock.advance(seconds=2)
    assert client.get("/api/v1/customers", headers=headers).get_json()["items"] == []  # the POST made nothing
    assert statuses(client, headers, 1) == [429]


def test_tokens_refill_with_time(client, clock, limits) -> None:
    limits(1, 3)
    headers = token_for(ShopFactory())
    assert statuses(client, headers, 4) == [200, 200, 200, 429]
    clock.advance(seconds=2)
    assert statuses(client, headers, 3) == [200, 200, 429]


def test_staff_tokens_have_a_bucket_each(client, clock, limits) -> None:
    limits(1, 2)
    shop = ShopFactory()
    first, second = token_for(shop), token_for(shop)
    assert statuses(client, first, 3) == [200, 200, 429]
    assert statuses(client, second, 2) == [200, 200]


def test_an_installation_shares_one_bucket_across_its_tokens(client, clock, limits) -> None:
    """Per (app, shop): refreshing the token does not refill the bucket; another installation is apart."""
    limits(1, 3)
    shop, other_shop = ShopFactory(), ShopFactory()
    installation = install_app(shop)
    assert statuses(client, oauth_token(shop, installation), 2) == [200, 200]
    assert statuses(client, oauth_token(shop, installation), 2) == [200, 429]
    assert statuses(client, oauth_token(other_shop, install_app(other_shop)), 3) == [200, 200, 200]
    assert statuses(client, token_for(shop), 1) == [200]  # the merchant's own token is not the app's


def test_an_apps_pricing_plan_sets_its_limit(client, clock, limits) -> None:
    limits(100, 100)
    shop = ShopFactory()
    plan = {"name": "free", "rate_limit": {"requests_per_second": 2, "burst": 4}}
    headers = oauth_token(shop, install_app(shop, {"name": "Helper", "pricing": [plan]}))
    r = client.get("/api/v1/shop", headers=headers)
    assert (r.headers["RateLimit-Limit"], r.headers["RateLimit-Remaining"]) == ("4", "3")
    assert statuses(client, headers, 4) == [200, 200, 200, 429]


def test_refused_scopes_cost_a_token_and_bad_tokens_have_no_bucket(client, clock, limits) -> None:
    limits(1, 2)
    headers = token_for(ShopFactory(), scopes=["read_shop"])
    forbidden = client.get("/api/v1/products", headers=headers)
    assert forbidden.status_code == 403 and forbidden.headers["RateLimit-Remaining"] == "1"
    unknown = client.get("/api/v1/shop", headers={"Authorization": "Bearer souk_at_nope"})
    assert unknown.status_code == 401 and "RateLimit-Limit" not in unknown.headers


def test_the_embedded_wiring_limits_in_memory(embedded_app: Flask) -> None:
    saved = embedded_app.config["SOUK_RATE_LIMIT_RPS"], embedded_app.config["SOUK_RATE_LIMIT_BURST"]
    embedded_app.config["SOUK_RATE_LIMIT_RPS"], embedded_app.config["SOUK_RATE_LIMIT_BURST"] = 0.001, 2
    try:
        with embedded_app.app_context():
            headers = token_for(ShopFactory())
        client = embedded_app.test_client()
        assert statuses(client, headers, 3) == [200, 200, 429]
        assert isinstance(embedded_app.extensions["souk.ratelimit"], MemoryStore)
    finally:
        embedded_app.config["SOUK_RATE_LIMIT_RPS"], embedded_app.config["SOUK_RATE_LIMIT_BURST"] = saved


def test_developer_calls_with_an_app_token_have_a_bucket_per_app(client, clock, limits) -> None:
    from souk_platform.oauth.services import issue_app_token

    limits(1, 2)
    shop = ShopFactory()
    installation = db.session.get(Installation, install_app(shop))
    app = db.session.get(App, installation.app_id)
    app.current_version_id = installation.app_version_id
    _, first = issue_app_token(db.session, app_id=app.id, now=clock.now())
    _, second = issue_app_token(db.session, app_id=app.id, now=clock.now())  # the same app: the same bucket
    db.session.commit()
    r = client.get("/api/v1/app", headers={"Authorization": f"Bearer {first}"})
    assert r.status_code == 200 and r.headers["RateLimit-Remaining"] == "1"
    assert statuses(client, {"Authorization": f"Bearer {second}"}, 2, path="/api/v1/app") == [200, 429]
    refused = client.get("/api/v1/app", headers={"Authorization": f"Bearer {first}"})
    assert refused.headers["Content-Type"] == "application/problem+json" and int(refused.headers["Retry-After"]) >= 1
