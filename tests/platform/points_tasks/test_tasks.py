"""Earning tasks over HTTP: create, list, change with If-Match, pause, delete; bad input writes nothing."""

from __future__ import annotations

import sqlalchemy as sa

from factories import ShopFactory, token_for
from souk_platform.db import db
from souk_platform.points_tasks.models import PointsTask


def _tasks(shop_id):
    return db.session.scalar(sa.select(sa.func.count()).where(PointsTask.shop_id == shop_id))


def test_create_list_read_and_edit_a_task_with_if_match(api):
    task = api.task(
        name="每日签到", kind="daily_sign_in", points=5, params={"streak_bonuses": [{"days": 7, "points": 50}]}
    )
    assert (task["period"], task["status"], task["version"]) == ("day", "active", 1)
    review = api.task(name="晒单", kind="post_review", points=20, daily_cap=2)
    assert review["period"] is None and review["daily_cap"] == 2
    listed = api.get("/points-tasks").get_json()["items"]
    assert [t["id"] for t in listed] == [review["id"], task["id"]]
    assert [t["id"] for t in api.get("/points-tasks", kind="post_review").get_json()["items"]] == [review["id"]]

    stale = api.patch(f"/points-tasks/{task['id']}", {"points": 6}, version=2)
    assert stale.status_code == 412
    r = api.patch(f"/points-tasks/{task['id']}", {"points": 6, "status": "paused"}, version=1)
    assert r.status_code == 200 and (r.get_json()["points"], r.get_json()["status"]) == (6, "paused")
    assert r.headers["ETag"] == '"2"'
    assert api.get("/points-tasks", status="paused").get_json()["items"][0]["id"] == task["id"]


def test_bad_tasks_are_422_per_field_and_write_nothing(api):
    cases = [
        ({"kind": "daily_sign_in", "period": "week"}, "period"),
        (
            {"kind": "daily_sign_in", "params": {"streak_bonuses": [{"days": 1, "points": 5}]}},
            "params.streak_bonuses.0.days",
        ),
        ({"kind": "daily_sign_in", "params": {"bonus": 1}}, "params.bonus"),
        ({"kind": "complete_profile", "params": {"profile_fields": ["shoe_size"]}}, "params.profile_fields"),
        ({"kind": "complete_profile"}, "params.profile_fields"),
        ({"kind": "invite_friend", "params": {"when": "later"}}, "params.when"),
        ({"kind": "post_review", "starts_at": "2026-03-02T00:00:00Z", "ends_at": "2026-03-01T00:00:00Z"}, "ends_at"),
        ({"kind": "post_review", "points": 0}, "points"),
        ({"kind": "post_review", "daily_cap": 0}, "daily_cap"),
        ({"kind": "tweet"}, "kind"),
        ({"kind": "post_review", "name": "   "}, "name"),
    ]
    for fields, field in cases:
        r = api.post("/points-tasks", {"name": "T", "points": 10, **fields}, key=None)
        assert r.status_code == 422, (fields, r.get_json())
        assert r.headers["Content-Type"] == "application/problem+json"
        assert field in r.get_json()["errors"], (fields, r.get_json())
    assert _tasks(api.shop_id) == 0


def test_one_sign_in_task_per_shop(api):
    api.task(kind="daily_sign_in")
    r = api.post("/points-tasks", {"name": "again", "kind": "daily_sign_in", "points": 1}, key=None)
    assert r.status_code == 409 and r.get_json()["type"].endswith("/sign-in-task-exists")
    assert _tasks(api.shop_id) == 1


def test_a_completed_task_cannot_be_deleted_but_an_unused_one_can(api):
    used = api.task(kind="post_review")
    unused = api.task(kind="post_review")
    assert (
        api.post(
            f"/points-tasks/{used['id']}/completions", {"customer_id": api.customer, "reference": "r1"}
        ).status_code
        == 201
    )
    r = api.client.delete(f"/api/v1/points-tasks/{used['id']}", headers=api.headers)
    assert r.status_code == 409 and r.get_json()["type"].endswith("/points-task-in-use")
    assert api.client.delete(f"/api/v1/points-tasks/{unused['id']}", headers=api.headers).status_code == 204
    assert _tasks(api.shop_id) == 1


def test_another_shops_task_is_not_found(api, session, client):
    task = api.task(kind="post_review")
    other = ShopFactory()
    headers = token_for(other)
    assert client.get(f"/api/v1/points-tasks/{task['id']}", headers=headers).status_code == 404
    r = client.post(
        f"/api/v1/points-tasks/{task['id']}/completions",
        json={"customer_id": api.customer, "reference": "x"},
        headers={**headers, "Idempotency-Key": "other"},
    )
    assert r.status_code == 404
    assert client.get("/api/v1/points-tasks", headers=headers).get_json()["items"] == []
    # a customer of another shop cannot sign in or complete here
    r = api.post(f"/customers/{api.customer}/sign-ins", {}, Authorization=headers["Authorization"])
    assert r.status_code in (404, 409)


def test_scopes_are_read_and_write_points(api, session, client):
    shop = ShopFactory()
    reader = token_for(shop, ["read_points"])
    assert client.get("/api/v1/points-tasks", headers=reader).status_code == 200
    r = client.post("/api/v1/points-tasks", json={"name": "T", "kind": "post_review", "points": 1}, headers=reader)
    assert r.status_code == 403 and "write_points" in r.get_json()["detail"]
