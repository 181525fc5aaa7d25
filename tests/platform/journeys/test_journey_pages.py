"""The canvas pages (docs/architecture.md §14): the gallery to a draft, the side form, adding and deleting
nodes, lifecycle buttons, errors on the nodes they name, another shop unreachable."""

from __future__ import annotations

import re

import sqlalchemy as sa

from factories import ShopFactory, log_in_to_shop
from souk_platform.journeys.models import Journey

from .conftest import issued_coupon


def _only_journey(session, shop_id):
    return session.scalar(sa.select(Journey).where(Journey.shop_id == shop_id))


def test_gallery_to_draft_to_active(client, session, clock):
    shop = ShopFactory()
    sid = shop.id
    log_in_to_shop(client, sid)
    page = client.get(f"/shops/{sid}/journeys/templates").get_data(as_text=True)
    assert page.count('data-template="') >= 8
    r = client.post(f"/shops/{sid}/journeys/templates/first_order_repurchase")
    assert r.status_code == 302
    journey = _only_journey(session, sid)
    jid = journey.id
    canvas = client.get(r.headers["Location"]).get_data(as_text=True)
    assert 'data-node="coupon"' in canvas and "nodes.coupon.params.coupon_id" in canvas
    assert canvas.count('class="node action bad') == 2  # the coupon and the message still to choose

    coupon_id = issued_coupon(session, sid)
    session.commit()
    side = client.get(f"/shops/{sid}/journeys/{jid}?node=coupon").get_data(as_text=True)
    assert f'value="{coupon_id}"' in side
    r = client.post(
        f"/shops/{sid}/journeys/{jid}/nodes/coupon",
        data={"version": "1", "p_coupon_id": coupon_id, "next_default": "tell", "label": "复购券"},
    )
    assert r.status_code == 302
    session.expire_all()
    assert _only_journey(session, sid).graph["nodes"]["coupon"]["params"]["coupon_id"] == coupon_id
    # a stale page is refused and changes nothing
    r = client.post(f"/shops/{sid}/journeys/{jid}/nodes/coupon", data={"version": "1", "p_coupon_id": ""})
    assert r.status_code == 302
    session.expire_all()
    assert _only_journey(session, sid).graph["nodes"]["coupon"]["params"]["coupon_id"] == coupon_id
    # activation is refused while the message node is unfinished, and says where
    r = client.post(f"/shops/{sid}/journeys/{jid}/activate", data={"version": "2"})
    assert r.status_code == 422
    assert 'data-path="nodes.tell.params.channel_id"' in r.get_data(as_text=True)
    # delete the message node: the coupon now leads straight to the end
    assert client.post(f"/shops/{sid}/journeys/{jid}/nodes/tell/delete", data={"version": "2"}).status_code == 302
    session.expire_all()
    assert _only_journey(session, sid).graph["nodes"]["coupon"]["next"] == {"default": "end"}
    r = client.post(f"/shops/{sid}/journeys/{jid}/activate", data={"version": "3"})
    assert r.status_code == 302, re.findall(
        r'data-path="nodes.coupon.params.coupon_id">.*?</li>', r.get_data(as_text=True), re.S
    )
    session.expire_all()
    assert _only_journey(session, sid).status == "active"
    page = client.get(f"/shops/{sid}/journeys/{jid}").get_data(as_text=True)
    assert 'data-status="active"' in page and 'value="pause"' in page and 'value="activate"' not in page


def test_add_a_node_after_another_and_an_active_journey_refuses_a_broken_edit(client, session, clock):
    shop = ShopFactory()
    sid = shop.id
    log_in_to_shop(client, sid)
    client.post(f"/shops/{sid}/journeys/new")
    jid = _only_journey(session, sid).id
    r = client.post(f"/shops/{sid}/journeys/{jid}/nodes/start/add", data={"version": "1", "choice": "wait:duration"})
    assert r.status_code == 302
    session.expire_all()
    graph = _only_journey(session, sid).graph
    assert graph["nodes"]["start"]["next"] == {"default": "duration1"}
    assert graph["nodes"]["duration1"]["next"] == {"default": "end"}
    assert graph["nodes"]["duration1"]["params"] == {"kind": "duration", "seconds": 86400}
    r = client.post(
        f"/shops/{sid}/journeys/{jid}/nodes/duration1",
        data={"version": "2", "p_seconds": "2", "p_seconds_unit": "3600", "next_default": "end"},
    )
    session.expire_all()
    assert _only_journey(session, sid).graph["nodes"]["duration1"]["params"]["seconds"] == 7200
    assert client.post(f"/shops/{sid}/journeys/{jid}/activate", data={"version": "3"}).status_code == 302
    r = client.post(
        f"/shops/{sid}/journeys/{jid}/nodes/duration1",
        data={"version": "4", "p_seconds": "0", "p_seconds_unit": "60", "next_default": "end"},
    )
    assert r.status_code == 422
    assert 'class="node wait bad' in r.get_data(as_text=True)
    session.expire_all()
    assert _only_journey(session, sid).graph["nodes"]["duration1"]["params"]["seconds"] == 7200


def test_list_pages_in_chinese_and_another_shop_is_404(client, session, clock):
    mine, theirs = ShopFactory(), ShopFactory()
    log_in_to_shop(client, theirs.id)
    client.post(f"/shops/{theirs.id}/journeys/templates/birthday_care")
    theirs_jid = _only_journey(session, theirs.id).id
    log_in_to_shop(client, mine.id)
    assert client.get(f"/shops/{mine.id}/journeys/{theirs_jid}").status_code == 404
    r = client.post(f"/shops/{mine.id}/journeys/{theirs_jid}/activate", data={"version": "1"})
    assert r.status_code == 404
    client.get("/language/zh_CN")
    client.post(f"/shops/{mine.id}/journeys/templates/birthday_care")
    page = client.get(f"/shops/{mine.id}/journeys").get_data(as_text=True)
    assert "会员生日关怀" in page and "草稿" in page
    assert client.get(f"/shops/{mine.id}/journeys?status=nope").status_code == 400
    assert "营销画布" in page and "从模板开始" in page
