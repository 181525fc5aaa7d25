"""The points operations pages (docs/architecture.md §5.15, §14): tasks, policy in yuan, liability chart."""

from __future__ import annotations

import sqlalchemy as sa

from factories import ShopFactory, log_in_to_shop
from souk_platform.db import db
from souk_platform.points_tasks.models import PointsTask
from souk_platform.shops.models import Shop


def _tasks(shop_id):
    db.session.expire_all()
    return db.session.scalars(sa.select(PointsTask).where(PointsTask.shop_id == shop_id).order_by(PointsTask.id)).all()


def test_create_edit_and_pause_a_task_from_the_pages(client, session, api):
    log_in_to_shop(client, api.shop_id)
    base = f"/shops/{api.shop_id}/points/tasks"
    form = {"name": "每日签到", "kind": "daily_sign_in", "points": "5", "period": "", "status": "active",
            "streak_bonuses": "7:50，30：200", "invite_when": "registered"}  # fmt: skip
    r = client.post(base + "/new", data=form)
    assert r.status_code == 302, r.get_data(as_text=True)
    (task,) = _tasks(api.shop_id)
    assert task.params == {"streak_bonuses": [{"days": 7, "points": 50}, {"days": 30, "points": 200}]}
    page = client.get(base).get_data(as_text=True)
    assert "每日签到" in page and f'data-task="{task.id}"' in page and "+50 on day 7" in page
    edit = client.get(f"{base}/{task.id}").get_data(as_text=True)
    assert 'value="7:50, 30:200"' in edit
    r = client.post(f"{base}/{task.id}", data={**form, "points": "8", "version": "1"})
    assert r.status_code == 302
    stale = client.post(f"{base}/{task.id}", data={**form, "points": "9", "version": "1"})
    assert stale.status_code == 422 and "is at version 2, not 1" in stale.get_data(as_text=True)
    assert client.post(f"{base}/{task.id}/status", data={"status": "paused", "version": "2"}).status_code == 302
    (task,) = _tasks(api.shop_id)
    assert (task.points, task.status) == (8, "paused")


def test_a_bad_task_form_shows_reasons_beside_the_fields_and_writes_nothing(client, session, api):
    log_in_to_shop(client, api.shop_id)
    base = f"/shops/{api.shop_id}/points/tasks"
    common = {"points": "5", "status": "active", "period": "", "invite_when": "registered"}
    r = client.post(base + "/new", data={**common, "name": "签到", "kind": "daily_sign_in", "streak_bonuses": "seven"})
    assert r.status_code == 422 and "days:points" in r.get_data(as_text=True)
    r = client.post(base + "/new", data={**common, "name": "资料", "kind": "complete_profile"})
    assert r.status_code == 422 and "A list of distinct fields" in r.get_data(as_text=True)
    r = client.post(base + "/new", data={"name": "x", "kind": "post_review", "points": "0", "status": "active"})
    assert r.status_code == 422
    assert _tasks(api.shop_id) == []


def test_the_policy_form_takes_the_point_value_in_yuan(client, session, api):
    log_in_to_shop(client, api.shop_id)
    url = f"/shops/{api.shop_id}/points/policy"
    page = client.get(url).get_data(as_text=True)
    assert 'value="0.01"' in page  # one fen a point, shown in yuan
    form = {"version": "1", "points_per_yuan": "2", "point_value": "¥0.05", "max_spend_percent": "30",
            "max_points_per_order": "", "expiry_policy": "end_of_year", "expiry_days": "365"}  # fmt: skip
    assert client.post(url, data=form).status_code == 302
    db.session.expire_all()
    settings = db.session.get(Shop, api.shop_id).settings
    assert (settings["points_value_fen"], settings["points_max_ratio_bp"], settings["points_expiry_policy"]) == (
        5,
        3000,
        "end_of_year",
    )
    stale = client.post(url, data={**form, "points_per_yuan": "3"})
    assert stale.status_code == 422
    bad = client.post(url, data={**form, "version": "2", "point_value": "0.001"})
    assert bad.status_code == 422 and "two decimals" in bad.get_data(as_text=True)
    assert db.session.get(Shop, api.shop_id).settings["points_per_yuan"] == 2


def test_the_liability_page_draws_the_months(client, session, api):
    api.task(kind="post_review", points=30)
    (task,) = _tasks(api.shop_id)
    assert (
        api.post(f"/points-tasks/{task.id}/completions", {"customer_id": api.customer, "reference": "r"}).status_code
        == 201
    )
    log_in_to_shop(client, api.shop_id)
    page = client.get(f"/shops/{api.shop_id}/points/liability").get_data(as_text=True)
    assert 'data-outstanding="30"' in page and page.count("data-month=") == 12
    assert "<svg" in page


def test_another_shops_pages_are_not_found(client, session, api):
    other = ShopFactory()
    log_in_to_shop(client, other.id)
    for path in ("points/tasks", "points/policy", "points/liability", "points/tasks/new"):
        assert client.get(f"/shops/{api.shop_id}/{path}").status_code == 404
    api.task(kind="post_review")
    (task,) = _tasks(api.shop_id)
    assert client.get(f"/shops/{other.id}/points/tasks/{task.id}").status_code == 404
    assert client.post(f"/shops/{other.id}/points/tasks/{task.id}/status", data={"status": "paused"}).status_code in (
        302,
        404,
    )
    assert _tasks(api.shop_id)[0].status == "active"


def test_a_held_completion_is_approved_once_from_the_tasks_page(client, session, api):
    from factories import form_key
    from souk_platform.shops.services import update_shop

    update_shop(
        session,
        shop_id=api.shop_id,
        changes={"settings": {"risk_device_customers_max": 1, "risk_device_customers_outcome": "review"}},
        expected_version=None,
    )
    session.commit()
    task = api.task(kind="post_review", points=20)
    url = f"/points-tasks/{task['id']}/completions"
    api.post(url, {"customer_id": api.customer, "reference": "a", "device_id": "d"})
    held = api.post(url, {"customer_id": api.friend, "reference": "b", "device_id": "d"}).get_json()
    assert held["status"] == "in_review"
    log_in_to_shop(client, api.shop_id)
    page = client.get(f"/shops/{api.shop_id}/points/tasks").get_data(as_text=True)
    assert f'data-held="{held["id"]}"' in page and "李雷" in page
    form = {"verdict": "approve", "form_key": form_key()}
    target = f"/shops/{api.shop_id}/points/tasks/{task['id']}/completions/{held['id']}"
    assert client.post(target, data=form).status_code == 302
    assert client.post(target, data=form).status_code == 302  # sent twice: paid once
    assert api.points(api.friend) == 20
    assert f'data-held="{held["id"]}"' not in client.get(f"/shops/{api.shop_id}/points/tasks").get_data(as_text=True)
