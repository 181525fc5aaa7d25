"""Daily sign-in: once per shop-local day, streaks and their bonuses, the calendar, idempotent retries."""

from __future__ import annotations

import sqlalchemy as sa

from souk_platform.db import db
from souk_platform.events.models import OutboxEvent


def _sign_in_task(api, **fields):
    return api.task(
        name="每日签到",
        kind="daily_sign_in",
        points=5,
        params={"streak_bonuses": [{"days": 3, "points": 20}, {"days": 7, "points": 50}]},
        **fields,
    )


def test_signing_in_twice_the_same_day_is_409_and_pays_once(api, clock):
    _sign_in_task(api)
    r = api.sign_in(ip="10.0.0.1")
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert (body["points_awarded"], body["streak"], body["status"]) == (5, 1, "completed")
    assert body["next_bonus"] == {"days": 3, "points": 20, "in_days": 2}
    clock.advance(hours=3)  # 21:00 in Shanghai: still the same local day
    again = api.sign_in()
    assert again.status_code == 409 and again.get_json()["type"].endswith("/already-signed-in")
    assert api.points() == 5
    events = db.session.scalars(
        sa.select(OutboxEvent.type).where(OutboxEvent.shop_id == api.shop_id, OutboxEvent.type.like("%sign%"))
    ).all()
    assert events == ["customer.signed_in"]


def test_the_local_day_decides_not_utc(api, clock):
    _sign_in_task(api)
    assert api.sign_in().status_code == 201  # 2026-03-02 18:00 Shanghai
    clock.advance(hours=6, minutes=1)  # 00:01 on 03-03 in Shanghai, still 03-02 in UTC
    r = api.sign_in()
    assert r.status_code == 201 and r.get_json()["streak"] == 2 and r.get_json()["date"] == "2026-03-03"


def test_streak_bonuses_on_day_three_and_seven_and_a_missed_day_resets(api, clock):
    _sign_in_task(api)
    paid = []
    for _ in range(7):
        body = api.sign_in().get_json()
        paid.append((body["streak"], body["points_awarded"], body["bonus_points"]))
        clock.advance(days=1)
    assert paid == [(1, 5, 0), (2, 5, 0), (3, 25, 20), (4, 5, 0), (5, 5, 0), (6, 5, 0), (7, 55, 50)]
    assert api.points() == 5 * 7 + 20 + 50
    clock.advance(days=1)  # day 9: day 8 was missed
    body = api.sign_in().get_json()
    assert (body["streak"], body["points_awarded"]) == (1, 5)


def test_the_calendar_lists_the_month_and_the_live_streak(api, clock):
    _sign_in_task(api)
    for _ in range(3):
        api.sign_in()
        clock.advance(days=1)
    # now 2026-03-05 18:00 local; not signed in today, streak alive from yesterday
    cal = api.get(f"/customers/{api.customer}/sign-ins").get_json()
    assert cal["month"] == "2026-03" and cal["days"] == [2, 3, 4] and cal["count"] == 3
    assert (cal["streak"], cal["signed_in_today"]) == (3, False)
    clock.advance(days=1)  # a day missed: the streak is gone
    assert api.get(f"/customers/{api.customer}/sign-ins").get_json()["streak"] == 0
    feb = api.get(f"/customers/{api.customer}/sign-ins", month="2026-02").get_json()
    assert feb["days"] == [] and feb["month"] == "2026-02"
    assert api.get(f"/customers/{api.customer}/sign-ins", month="2026-13").status_code == 422


def test_a_retry_with_the_same_key_replays_and_no_key_is_refused(api):
    _sign_in_task(api)
    first = api.sign_in(key="same")
    assert first.status_code == 201
    again = api.post(f"/customers/{api.customer}/sign-ins", {}, key="same")
    assert again.status_code == 201 and again.get_json() == first.get_json()
    assert api.points() == 5
    r = api.post(f"/customers/{api.friend}/sign-ins", {}, key=None)
    assert r.status_code == 400 and r.get_json()["type"].endswith("/idempotency-key-required")
    assert api.completions() == 1


def test_no_task_paused_or_outside_its_window_is_409(api, clock):
    r = api.sign_in()
    assert r.status_code == 409 and r.get_json()["type"].endswith("/sign-in-not-offered")
    task = _sign_in_task(api, starts_at="2026-03-10T00:00:00Z")
    r = api.sign_in()
    assert r.status_code == 409 and r.get_json()["type"].endswith("/points-task-not-open")
    api.patch(f"/points-tasks/{task['id']}", {"starts_at": None, "status": "paused"}, version=1)
    assert api.sign_in().get_json()["type"].endswith("/points-task-not-open")
    assert api.completions() == 0 and api.points() == 0


def test_an_unknown_customer_is_404_and_bad_input_422(api):
    _sign_in_task(api)
    assert api.sign_in("cus_nobody").status_code == 404
    assert api.sign_in(ip="").status_code == 422
    assert api.sign_in(extra=1).status_code == 422
    assert api.completions() == 0
