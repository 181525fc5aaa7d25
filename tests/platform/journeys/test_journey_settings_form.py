"""The canvas's "Journey settings" side form (docs/architecture.md §5.12, §14): re-entry, quiet hours, frequency
cap, goal and exit rules, checked by the graph's own validation (a 422 beside the field, nothing saved), with the
version the page showed."""

from __future__ import annotations

import json

import sqlalchemy as sa

from factories import ShopFactory, log_in_to_shop
from souk_platform.journeys.models import Journey
from souk_platform.tags.services import create_segment

EVERYONE = {"op": "and", "conditions": [{"field": "orders_count", "cmp": "gte", "value": 0}]}
GOOD = {
    "s_reentry": "after_days",
    "s_reentry_days": "30",
    "s_quiet_start": "21:00",
    "s_quiet_end": "09:00",
    "s_cap_messages": "2",
    "s_cap_days": "7",
    "s_goal_event": "order.paid",
    "s_goal_filter": '[{"path": "total", "op": "gte", "value": 5000}]',
    "s_goal_within_days": "14",
    "s_exit": "[]",
}


def _journey(session, shop_id):
    session.expire_all()
    return session.scalar(sa.select(Journey).where(Journey.shop_id == shop_id))


def test_the_settings_form_saves_what_the_api_would_and_refuses_beside_the_field(client, session, clock):
    shop = ShopFactory()
    sid = shop.id
    log_in_to_shop(client, sid)
    assert client.post(f"/shops/{sid}/journeys/templates/first_order_repurchase").status_code == 302
    journey = _journey(session, sid)
    jid, version = journey.id, journey.version
    before = journey.graph
    page = client.get(f"/shops/{sid}/journeys/{jid}").get_data(as_text=True)
    assert 'id="journey-settings"' in page and 'id="settings-form"' in page
    node_page = client.get(f"/shops/{sid}/journeys/{jid}?node=coupon").get_data(as_text=True)
    assert 'id="node-form"' in node_page and 'id="settings-form"' not in node_page  # one side form at a time

    r = client.post(f"/shops/{sid}/journeys/{jid}/settings", data={**GOOD, "version": str(version)})
    assert r.status_code == 302, r.get_data(as_text=True)
    saved = _journey(session, sid)
    assert saved.graph["settings"] == {
        "reentry": {"after_days": 30},
        "quiet_hours": {"start": "21:00", "end": "09:00"},
        "frequency_cap": {"messages": 2, "days": 7},
    }
    assert saved.graph["goal"] == {
        "event": "order.paid",
        "filter": [{"path": "total", "op": "gte", "value": 5000}],
        "within_days": 14,
    }
    assert saved.graph["nodes"] == before["nodes"]  # the nodes are untouched
    version = saved.version
    shown = client.get(f"/shops/{sid}/journeys/{jid}").get_data(as_text=True)
    assert 'name="s_quiet_start" placeholder="21:00" value="21:00"' in shown
    assert 'name="s_cap_messages" value="2"' in shown and 'name="s_reentry_days" value="30"' in shown

    # each bad setting is named beside its own field; nothing is written
    for changes, path in [
        ({"s_cap_messages": "0"}, "settings.frequency_cap"),
        ({"s_cap_days": ""}, "settings.frequency_cap"),  # half a cap
        ({"s_quiet_start": "25:00"}, "settings.quiet_hours"),
        ({"s_quiet_end": "21:00"}, "settings.quiet_hours"),  # the same start and end
        ({"s_reentry_days": "abc"}, "settings.reentry"),
        ({"s_cap_days": "²"}, "settings.frequency_cap"),  # a digit to str.isdigit, not to int()
        ({"s_exit": "[" * 100_000}, "exit"),  # nested past Python's recursion limit
        ({"s_reentry": "sometimes"}, "settings.reentry"),
        ({"s_goal_within_days": "400"}, "goal.within_days"),
        ({"s_goal_event": "no.such_event"}, "goal.event"),
        ({"s_goal_filter": "{not json"}, "goal.filter"),
        ({"s_exit": '[{"kind": "whenever"}]'}, "exit.0.kind"),
    ]:
        r = client.post(f"/shops/{sid}/journeys/{jid}/settings", data={**GOOD, **changes, "version": str(version)})
        body = r.get_data(as_text=True)
        assert r.status_code == 422, (changes, body[:500])
        assert f'class="field-error" data-path="{path}' in body, (changes, path)
        name, typed = next(iter(changes.items()))
        if typed and name in ("s_cap_messages", "s_quiet_start", "s_reentry_days", "s_goal_within_days"):
            assert f'value="{typed}"' in body  # the form keeps what was typed
        assert _journey(session, sid).version == version
    # a segment of another shop in an exit rule is refused like the API refuses it
    stranger = create_segment(session, shop_id=ShopFactory().id, name="别家", description=None, condition=EVERYONE)
    session.commit()
    rule = json.dumps([{"kind": "segment_left", "segment_id": stranger.id}])
    r = client.post(f"/shops/{sid}/journeys/{jid}/settings", data={**GOOD, "s_exit": rule, "version": str(version)})
    assert r.status_code == 422 and 'data-path="exit.0.segment_id"' in r.get_data(as_text=True)

    # a stale page is refused and changes nothing
    r = client.post(
        f"/shops/{sid}/journeys/{jid}/settings", data={**GOOD, "s_cap_messages": "5", "version": str(version - 1)}
    )
    assert r.status_code == 302
    assert _journey(session, sid).graph["settings"]["frequency_cap"] == {"messages": 2, "days": 7}
    # clearing the optional settings removes them
    cleared = {**GOOD, "s_quiet_start": "", "s_quiet_end": "", "s_cap_messages": "", "s_cap_days": ""}
    cleared.update({"s_goal_event": "", "s_goal_within_days": "", "s_reentry": "never"})
    r = client.post(f"/shops/{sid}/journeys/{jid}/settings", data={**cleared, "version": str(version)})
    assert r.status_code == 302
    graph = _journey(session, sid).graph
    assert (graph["settings"], graph["goal"], graph["exit"]) == ({"reentry": "never"}, None, [])

    chinese = client.get(f"/shops/{sid}/journeys/{jid}", headers={"Accept-Language": "zh-CN"})
    assert "旅程设置" in chinese.get_data(as_text=True)
    other = ShopFactory()
    log_in_to_shop(client, other.id)
    r = client.post(f"/shops/{other.id}/journeys/{jid}/settings", data={**GOOD, "version": str(version + 1)})
    assert r.status_code == 404  # another shop's journey
