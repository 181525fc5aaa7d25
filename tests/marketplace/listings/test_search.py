"""Full-text search in English and Chinese: PostgreSQL (ranked) and the SQLite fallback of the demo."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest
from marketplace.listings.world import list_app, make_app

from souk_marketplace.listings import search, services

APPS = {
    "reduction": {
        "en": {"name": "Threshold Deals", "tagline": "Spend more, pay less", "description": "Coupons with thresholds."},
        "zh_CN": {"name": "满减助手", "tagline": "一分钟配置满减活动", "description": "设置满减门槛。"},
    },
    "members": {
        "en": {"name": "Member Club", "tagline": "Points for regulars", "description": "Loyalty points and levels."},
        "zh_CN": {"name": "会员俱乐部", "tagline": "老顾客积分", "description": "会员积分与等级，满减券也能发。"},
    },
    "risk": {
        "en": {"name": "Order Shield", "tagline": "Stops fraud", "description": "Risk rules for suspicious orders."},
    },
}

QUERIES = [
    ("满减", ["reduction", "members"]),  # in a name outranks in a description
    ("会员", ["members"]),
    ("会员积分", ["members"]),
    ("满减助手", ["reduction"]),
    ("助满", []),  # the characters, but not together
    ("loyalty", ["members"]),
    ("loyal", ["members"]),  # a prefix
    ("coupon", ["reduction"]),  # stemmed: "Coupons"
    ("fraud orders", ["risk"]),
    ("会员 loyalty", ["members"]),
    ("咖啡", []),
]


def _world(session, app, now):
    ids = {}
    for key, texts in APPS.items():
        _, a, _ = make_app(session, name=f"{key} {uuid.uuid4().hex[:6]}")
        list_app(session, app, a, now, texts=json.loads(json.dumps(texts)))
        ids[key] = a.id
    return ids


@pytest.mark.parametrize(("q", "expected"), QUERIES)
def test_postgresql_finds_english_and_chinese_ranked(app, session, clock, q, expected):
    ids = _world(session, app, clock.now())
    found = [e.app.id for e in services.search_market(session, q=q)]
    assert found == [ids[key] for key in expected]


def test_no_query_can_break_the_search(app, client, session, clock):
    _world(session, app, clock.now())
    for q in [
        "'",
        "a & b | !c",
        ":*",
        "(满减",
        "\\",
        "% _",
        "x" * 200,
        "😀",
        "ＡＢＣ",
        "test'); drop table listings; --",
    ]:
        r = client.get("/api/v1/market/apps", query_string={"q": q})
        assert r.status_code == 200, (q, r.get_json())
    assert client.get("/api/v1/market/apps", query_string={"q": "x" * 201}).status_code == 422


def test_query_terms_are_split_by_script():
    query = search.parse_query("满减 Loyalty, 会员积分!")
    assert query.words == ("loyalty",) and query.cjk_runs == ("满减", "会员积分")
    assert search.cjk_tsquery_literal(["会员积分", "满"]) == "('会员' <-> '员积' <-> '积分') & '满'"
    assert search.like_pattern("50%_off") == "%50\\%\\_off%"


@pytest.mark.embedded
def test_the_sqlite_fallback_finds_english_and_chinese(embedded_app):
    from souk_platform.db import db

    with embedded_app.app_context():
        ids = _world(db.session, embedded_app, dt.datetime.now(dt.UTC))
        mine = set(ids.values())
        for q, expected in QUERIES:  # every term a substring: the same apps, unranked
            found = {e.app.id for e in services.search_market(db.session, q=q) if e.app.id in mine}
            assert found == {ids[key] for key in expected}, q
        db.session.rollback()  # SQLite: every transaction holds the write lock; the job thread needs it
    client = embedded_app.test_client()  # outside the test's app context: each request its own session
    r = client.get("/api/v1/market/apps", query_string={"q": "满减", "limit": 50})
    assert {ids["reduction"], ids["members"]} <= {item["app_id"] for item in r.get_json()["items"]}
    page = client.get("/market", query_string={"q": "会员"}).get_data(as_text=True)
    assert "Member Club" in page and "Threshold Deals" not in page


def _cards_match_entries(session, **search_args):
    entries = services.search_market(session, **search_args)
    cards = services.search_market_cards(session, **search_args)
    as_entries = [
        (e.listing.id, e.listing.slug, e.app.id, e.submission.texts, e.installs, e.rating_average, e.rating_count)
        for e in entries
    ]
    as_cards = [
        (
            c.id,
            c.slug,
            c.app_id,
            c.texts,
            int(c.installs),
            float(c.rating_average) if c.rating_average is not None else None,
            int(c.rating_count),
        )
        for c in cards
    ]
    assert as_cards == as_entries, search_args
    return as_cards


def test_market_cards_are_the_entries_search_finds_in_the_same_order_on_postgresql(app, session, clock):
    _world(session, app, clock.now())
    seen = 0
    for sort in services.SORTS:
        for q, _expected in QUERIES:
            seen += len(_cards_match_entries(session, q=q, sort=sort))
        for category in (None, "marketing", "no-such-category"):
            seen += len(_cards_match_entries(session, sort=sort, category=category, limit=2, offset=1))
    assert seen > 0  # the comparisons saw apps, not only empty pages


@pytest.mark.embedded
def test_market_cards_are_the_entries_search_finds_on_sqlite(embedded_app):
    from souk_platform.db import db

    with embedded_app.app_context():
        _world(db.session, embedded_app, dt.datetime.now(dt.UTC))
        seen = 0
        for sort in services.SORTS:
            seen += len(_cards_match_entries(db.session, q="满减", sort=sort, limit=50))
            seen += len(_cards_match_entries(db.session, sort=sort, limit=3, offset=1))
        assert seen > 0
        db.session.rollback()
