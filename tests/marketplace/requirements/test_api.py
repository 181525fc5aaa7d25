"""The crowdfunding API as shops and developers call it: board, posting, pledges, proposals, votes."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from marketplace.requirements.builders import (
    assert_ledger_sound_and_escrow_empty,
    balance,
    fund,
    make_developer,
)

from factories import ShopFactory, token_for
from souk_marketplace.requirements.models import Requirement

BODY = {
    "title": "会员积分到期提醒",
    "description": "积分快过期时自动给会员发短信提醒，提前7天和1天各一次，文案可以设置。",
    "category": "loyalty",
    "budget_amount": 300_000,
    "deadline": "2026-04-01T00:00:00+08:00",
    "acceptance_criteria": "提醒按时发出。",
}
WRITE = ["write_requirements"]


def count_requirements(session) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(Requirement))


def posted(client, headers, **changes):
    response = client.post("/api/v1/requirements", json={**BODY, **changes}, headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_posting_answers_with_the_requirement_and_open_requirements_that_look_the_same(client, session, clock):
    owner = token_for(ShopFactory(name="Tea Corner"), WRITE)
    first = posted(client, owner)
    assert first["state"] == "open" and first["currency"] == "CNY" and first["posted_by"] == "Tea Corner"
    assert first["similar"] == []
    other = token_for(ShopFactory(), WRITE)
    second = posted(
        client,
        other,
        title="积分过期前通知会员",
        description="希望在会员积分即将过期前自动推送短信提醒，减少积分浪费，提醒时间可以配置。",
    )
    assert [s["id"] for s in second["similar"]] == [first["id"]]
    assert 0.3 <= second["similar"][0]["score"] <= 1
    unrelated = posted(client, other, title="Gift wrapping fee", description="Charge for gift wrap at checkout.")
    assert unrelated["similar"] == []


def test_bad_input_is_a_422_naming_each_field_and_posts_nothing(client, session, clock):
    owner = token_for(ShopFactory(), WRITE)
    before = count_requirements(session)
    cases = [
        ({**BODY, "colour": "red"}, "colour"),
        ({**BODY, "budget_amount": "300000"}, "budget_amount"),
        ({**BODY, "budget_amount": 12.5}, "budget_amount"),
        ({**BODY, "budget_amount": 0}, "budget_amount"),
        ({**BODY, "category": "toys"}, "category"),
        ({**BODY, "deadline": "2026-04-01T00:00:00"}, "deadline"),
        ({**BODY, "deadline": "2026-03-02T12:00:00Z"}, "deadline"),  # less than a day away
        ({**BODY, "currency": "USD"}, "currency"),
        ({**BODY, "title": " "}, "title"),
        ({k: v for k, v in BODY.items() if k != "title"}, "title"),
    ]
    for body, field in cases:
        response = client.post("/api/v1/requirements", json=body, headers=owner)
        assert response.status_code == 422, (body, response.get_json())
        assert response.content_type == "application/problem+json"
        assert field in response.get_json()["errors"], (field, response.get_json())
    assert (
        client.post("/api/v1/requirements", data="{", headers=owner, content_type="application/json").status_code == 400
    )
    assert count_requirements(session) == before


def test_the_board_is_public_and_searches_filters_sorts_and_pages(client, session, clock):
    shop = ShopFactory()
    fund(session, shop, 1_000_000)
    owner = token_for(shop, WRITE)
    loyal = posted(client, owner)
    risk = posted(
        client, owner, title="Block risky IPs", description="Reject many accounts from one IP.", category="risk"
    )
    late = posted(
        client, owner, title="Invoice emails", description="电子发票自动开具", deadline="2026-05-01T00:00:00Z"
    )
    client.post(f"/api/v1/requirements/{risk['id']}/pledges", json={"amount": 5_000}, headers=owner)
    for amount in (1_000, 2_000):
        client.post(f"/api/v1/requirements/{late['id']}/pledges", json={"amount": amount}, headers=owner)
    client.post(f"/api/v1/requirements/{loyal['id']}/pledges", json={"amount": 500}, headers=owner)
    backer = ShopFactory()
    fund(session, backer, 10_000)
    client.post(f"/api/v1/requirements/{loyal['id']}/pledges", json={"amount": 100}, headers=token_for(backer, WRITE))

    def ids(query):
        response = client.get("/api/v1/requirements" + query)  # no token: the board is public
        assert response.status_code == 200, response.get_json()
        return [r["id"] for r in response.get_json()["items"]]

    assert ids("?category=risk") == [risk["id"]]
    assert ids("?q=积分") == [loyal["id"]]
    assert ids("?q=risky") == [risk["id"]]
    assert ids("?q=%25") == []  # a LIKE wildcard is searched for literally
    assert ids("?sort=pledged")[:3] == [risk["id"], late["id"], loyal["id"]]
    assert ids("?sort=backers")[0] == loyal["id"]
    assert ids("?sort=deadline&state=open")[-1] == late["id"]
    page = client.get("/api/v1/requirements?sort=pledged&limit=2")
    assert [r["id"] for r in page.get_json()["items"]] == [risk["id"], late["id"]]
    assert 'rel="next"' in page.headers["Link"]
    rest = ids(f"?sort=pledged&limit=2&cursor={page.get_json()['next_cursor']}")
    assert rest[0] == loyal["id"]
    assert "shop_id" not in page.get_data(as_text=True) and shop.id not in page.get_data(as_text=True)
    newest_cursor = client.get("/api/v1/requirements?limit=1").get_json()["next_cursor"]
    bad_queries = ("?cursor=nonsense", "?sort=pledged&cursor=sW10", f"?sort=pledged&cursor={newest_cursor}")
    for bad in (*bad_queries, "?sort=cheapest", "?state=lost", "?limit=0"):
        response = client.get("/api/v1/requirements" + bad)
        assert response.status_code == 422 and response.content_type == "application/problem+json", bad
    detail = client.get(f"/api/v1/requirements/{loyal['id']}")
    assert detail.status_code == 200 and detail.get_json()["pledged_total"] == 600
    assert detail.get_json()["backers_count"] == 2 and detail.get_json()["timeline"][0]["event"] == "posted"
    assert shop.id not in detail.get_data(as_text=True) and backer.id not in detail.get_data(as_text=True)
    assert client.get("/api/v1/requirements/req_nothing").status_code == 404


def test_a_pledge_moves_money_once_per_idempotency_key_and_is_withdrawn_in_full(client, session, clock):
    shop, other = ShopFactory(), ShopFactory()
    fund(session, shop, 50_000)
    owner, stranger = token_for(shop, WRITE), token_for(other, ["write_requirements"])
    req = posted(client, owner)
    url = f"/api/v1/requirements/{req['id']}/pledges"
    first = client.post(url, json={"amount": 20_000}, headers={**owner, "Idempotency-Key": "p-1"})
    again = client.post(url, json={"amount": 20_000}, headers={**owner, "Idempotency-Key": "p-1"})
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true" and again.get_json()["id"] == first.get_json()["id"]
    assert balance(session, shop) == 30_000
    reused = client.post(url, json={"amount": 1}, headers={**owner, "Idempotency-Key": "p-1"})
    assert reused.status_code == 422
    poor = client.post(url, json={"amount": 40_000}, headers=owner)
    assert poor.status_code == 422 and poor.get_json()["type"].endswith("/insufficient-balance")
    assert client.post(url, json={"amount": -5}, headers=owner).status_code == 422

    pledge_id = first.get_json()["id"]
    assert client.get(f"/api/v1/requirement-pledges/{pledge_id}", headers=stranger).status_code == 404
    assert client.post(f"/api/v1/requirement-pledges/{pledge_id}/withdraw", headers=stranger).status_code == 404
    listed = client.get("/api/v1/requirement-pledges", headers=owner).get_json()["items"]
    assert [p["id"] for p in listed] == [pledge_id]
    assert client.get("/api/v1/requirement-pledges", headers=stranger).get_json()["items"] == []
    withdrawn = client.post(f"/api/v1/requirement-pledges/{pledge_id}/withdraw", headers=owner)
    assert withdrawn.status_code == 200 and withdrawn.get_json()["refunded_amount"] == 20_000
    twice = client.post(f"/api/v1/requirement-pledges/{pledge_id}/withdraw", headers=owner)
    assert twice.status_code == 409 and twice.get_json()["type"].endswith("/pledge-locked")
    assert balance(session, shop) == 50_000
    assert_ledger_sound_and_escrow_empty(session, req["id"])


def test_scopes_are_checked(client, session, clock):
    shop = ShopFactory()
    reader = token_for(shop, ["read_requirements"])
    assert client.post("/api/v1/requirements", json=BODY, headers=reader).status_code == 403
    assert client.post("/api/v1/requirements", json=BODY).status_code == 401
    assert client.get("/api/v1/requirement-pledges", headers=reader).status_code == 200
    assert client.get("/api/v1/requirement-pledges", headers=token_for(shop, ["read_orders"])).status_code == 403


def test_a_developer_proposes_builds_and_delivers_with_an_app_token(client, session, clock):
    owner_shop, backer_shop = ShopFactory(), ShopFactory()
    for shop in (owner_shop, backer_shop):
        fund(session, shop, 500_000)
    owner, backer = token_for(owner_shop, WRITE), token_for(backer_shop, WRITE)
    req = posted(client, owner)
    client.post(f"/api/v1/requirements/{req['id']}/pledges", json={"amount": 100_000}, headers=owner)
    client.post(f"/api/v1/requirements/{req['id']}/pledges", json={"amount": 100_000}, headers=backer)
    developer = make_developer(session, clock.now())
    rival = make_developer(session, clock.now(), email="rival@example.com", submit=False)
    proposal = {"requirement_id": req["id"], "price_amount": 180_000, "delivery_date": "2026-03-20", "plan": "SMS."}

    assert client.post("/api/v1/app/requirement-proposals", json=proposal, headers=owner).status_code == 403
    too_late = client.post(
        "/api/v1/app/requirement-proposals", json={**proposal, "delivery_date": "2026-04-02"}, headers=developer.headers
    )
    assert too_late.status_code == 422 and "delivery_date" in too_late.get_json()["errors"]
    made = client.post("/api/v1/app/requirement-proposals", json=proposal, headers=developer.headers)
    assert made.status_code == 201, made.get_json()
    proposal_id = made.get_json()["id"]
    duplicate = client.post("/api/v1/app/requirement-proposals", json=proposal, headers=developer.headers)
    assert duplicate.status_code == 409
    assert client.get("/api/v1/app/requirement-proposals", headers=rival.headers).get_json()["items"] == []
    assert (
        client.post(f"/api/v1/app/requirement-proposals/{proposal_id}/withdraw", headers=rival.headers).status_code
        == 404
    )

    assert client.post(f"/api/v1/requirement-proposals/{proposal_id}/accept", headers=backer).status_code == 404
    accepted = client.post(f"/api/v1/requirement-proposals/{proposal_id}/accept", headers=owner)
    assert accepted.status_code == 200 and accepted.get_json()["state"] == "funded"
    assert client.post(f"/api/v1/requirement-proposals/{proposal_id}/accept", headers=owner).status_code == 409

    delivery = {"app_id": developer.app_id, "app_version_id": developer.version_id}
    early = client.post(
        f"/api/v1/app/requirement-proposals/{proposal_id}/delivery", json=delivery, headers=developer.headers
    )
    assert early.status_code == 409
    started = client.post(f"/api/v1/app/requirement-proposals/{proposal_id}/start", headers=developer.headers)
    assert started.status_code == 200 and started.get_json()["state"] == "in_development"
    not_theirs = client.post(
        f"/api/v1/app/requirement-proposals/{proposal_id}/delivery",
        json={"app_id": rival.app_id, "app_version_id": rival.version_id},
        headers=developer.headers,
    )
    assert not_theirs.status_code == 422 and "app_id" in not_theirs.get_json()["errors"]
    unknown = client.post(
        f"/api/v1/app/requirement-proposals/{proposal_id}/delivery",
        json={**delivery, "extra": 1},
        headers=developer.headers,
    )
    assert unknown.status_code == 422
    delivered = client.post(
        f"/api/v1/app/requirement-proposals/{proposal_id}/delivery", json=delivery, headers=developer.headers
    )
    assert delivered.status_code == 200 and delivered.get_json()["state"] == "delivered"

    stranger = token_for(ShopFactory(), WRITE)
    votes = f"/api/v1/requirements/{req['id']}/delivery-votes"
    refused = client.post(votes, json={"decision": "reject"}, headers=stranger)
    assert refused.status_code == 403 and refused.get_json()["type"].endswith("/not-a-backer")
    assert client.post(votes, json={"decision": "maybe"}, headers=backer).status_code == 422
    assert client.post(votes, json={"decision": "accept"}, headers=backer).get_json()["state"] == "delivered"
    done = client.post(votes, json={"decision": "accept"}, headers=owner)  # every backer voted: closes now
    assert done.get_json()["state"] == "accepted"
    assert balance(session, owner_shop) == 500_000 - 90_000 and balance(session, backer_shop) == 500_000 - 90_000
    assert_ledger_sound_and_escrow_empty(session, req["id"])


def test_only_the_owner_cancels_and_only_while_open(client, session, clock):
    owner_shop = ShopFactory()
    owner = token_for(owner_shop, WRITE)
    req = posted(client, owner)
    url = f"/api/v1/requirements/{req['id']}/cancel"
    assert client.post(url, headers=token_for(ShopFactory(), WRITE)).status_code == 404
    assert client.post(url, headers=owner).get_json()["state"] == "cancelled"
    again = client.post(url, headers=owner)
    assert again.status_code == 409 and again.get_json()["type"].endswith("/invalid-state-transition")
    pledge = client.post(f"/api/v1/requirements/{req['id']}/pledges", json={"amount": 1}, headers=owner)
    assert pledge.status_code == 409


def test_the_deadline_is_stored_in_utc(client, session, clock):
    req = posted(client, token_for(ShopFactory(), WRITE))
    assert req["deadline"].startswith("2026-03-31T16:00:00")
    assert session.get(Requirement, req["id"]).deadline == dt.datetime(2026, 3, 31, 16, tzinfo=dt.UTC)
