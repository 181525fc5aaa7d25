"""Journeys through the API: drafts, templates, validation on save, versions, lifecycle, If-Match and tenancy
(docs/architecture.md §5.12)."""

from __future__ import annotations

import sqlalchemy as sa

from factories import ShopFactory, token_for
from souk_platform.events.models import OutboxEvent
from souk_platform.journeys import services
from souk_platform.journeys.graph import validate
from souk_platform.journeys.models import JourneyVersion
from souk_platform.journeys.templates import TEMPLATES

from .conftest import filled, issued_coupon, shop_objects


def _types(session, shop_id):
    stmt = sa.select(OutboxEvent.type).where(OutboxEvent.shop_id == shop_id).order_by(OutboxEvent.id)
    return [t for t in session.scalars(stmt) if t.startswith("journey")]


def _draft(client, headers, key="first_order_repurchase"):
    r = client.post(f"/api/v1/journey-templates/{key}/drafts", headers=headers, json={"language": "zh"})
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def test_templates_are_listed_in_both_languages(client, session):
    headers = token_for(ShopFactory(), ["read_journeys"])
    body = client.get("/api/v1/journey-templates", headers=headers).get_json()
    names = {t["name_zh"] for t in body["items"]}
    assert len(body["items"]) >= 8
    assert {
        "新客7天培育",
        "加购未下单提醒",
        "会员生日关怀",
        "沉睡唤醒",
        "高价值会员维护",
        "下单后服务引导与评价收集",
    } <= names
    assert all(t["name_en"] and t["description_en"] and t["description_zh"] for t in body["items"])
    one = client.get("/api/v1/journey-templates/dormant_winback", headers=headers).get_json()
    assert one["graph"]["nodes"]["split"]["params"]["holdout_percent"] == 10
    assert client.get("/api/v1/journey-templates/nope", headers=headers).status_code == 404


def test_every_template_validates_once_its_placeholders_are_the_shops_objects(session):
    shop = ShopFactory()
    objects = shop_objects(session, shop.id)
    for template in TEMPLATES:
        missing = validate(session, shop_id=shop.id, graph=template.graph)
        assert missing and all("Choose a" in m for ms in missing.values() for m in ms), (template.key, missing)
        assert validate(session, shop_id=shop.id, graph=filled(template.key, objects)) == {}, template.key


def test_a_draft_from_a_template_lists_what_is_missing_and_activates_once_filled(client, session, clock):
    shop = ShopFactory()
    sid = shop.id
    headers = token_for(shop, ["write_journeys"])
    draft = _draft(client, headers)
    assert (
        draft["status"] == "draft" and draft["name"] == "首单复购" and draft["template_key"] == "first_order_repurchase"
    )
    assert set(draft["problems"]) == {
        "nodes.coupon.params.coupon_id",
        "nodes.tell.params.channel_id",
        "nodes.tell.params.template_id",
    }
    url = f"/api/v1/journeys/{draft['id']}"
    r = client.post(url + "/activate", headers=headers)
    assert r.status_code == 422
    assert r.headers["Content-Type"].startswith("application/problem+json")
    assert "nodes.coupon.params.coupon_id" in r.get_json()["errors"]
    assert client.get(url, headers=headers).get_json()["status"] == "draft"

    graph = filled("first_order_repurchase", shop_objects(session, sid))
    r = client.patch(url, headers={**headers, "If-Match": f'"{draft["version"]}"'}, json={"graph": graph})
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["valid"] is True and r.get_json()["problems"] == {}
    r = client.post(url + "/activate", headers=headers)
    assert r.status_code == 200, r.get_json()
    active = r.get_json()
    assert active["status"] == "active" and active["current_version_number"] == 1
    assert active["activated_at"]
    assert _types(session, sid) == [
        "journey.created",
        "journey.updated",
        "journey.version_created",
        "journey.activated",
    ]


def test_a_draft_saves_incomplete_but_an_active_journey_must_stay_valid(client, session, clock):
    shop = ShopFactory()
    headers = token_for(shop, ["write_journeys"])
    r = client.post("/api/v1/journeys", headers=headers, json={"name": "空白"})
    assert r.status_code == 201 and r.get_json()["valid"] is True
    journey = r.get_json()
    url = f"/api/v1/journeys/{journey['id']}"
    broken = journey["graph"]
    broken["nodes"]["start"]["next"] = {}
    r = client.patch(url, headers={**headers, "If-Match": '"1"'}, json={"graph": broken})
    assert r.status_code == 200
    assert r.get_json()["problems"] == {"nodes.start.next.default": ["Connect the default exit to a node."]}
    assert client.post(url + "/activate", headers=headers).status_code == 422
    broken["nodes"]["start"]["next"] = {"default": "end"}
    assert client.patch(url, headers={**headers, "If-Match": '"2"'}, json={"graph": broken}).status_code == 200
    assert client.post(url + "/activate", headers=headers).status_code == 200
    broken["nodes"]["start"]["next"] = {}
    r = client.patch(url, headers={**headers, "If-Match": '"4"'}, json={"graph": broken})
    assert r.status_code == 422
    assert r.get_json()["errors"] == {"nodes.start.next.default": ["Connect the default exit to a node."]}
    assert client.get(url, headers=headers).get_json()["graph"]["nodes"]["start"]["next"] == {"default": "end"}
    # a graph that is not even drawable is refused for a draft too
    r = client.post("/api/v1/journeys", headers=headers, json={"name": "坏", "graph": {"nodes": []}})
    assert r.status_code == 422 and "graph.nodes" in r.get_json()["errors"]


def test_editing_an_active_journey_makes_version_2_and_version_1_stays(client, session, clock):
    shop = ShopFactory()
    sid = shop.id
    headers = token_for(shop, ["write_journeys"])
    journey = client.post("/api/v1/journeys", headers=headers, json={"name": "下单后"}).get_json()
    url = f"/api/v1/journeys/{journey['id']}"
    active = client.post(url + "/activate", headers=headers).get_json()
    first_graph = active["graph"]
    graph = {**first_graph, "nodes": dict(first_graph["nodes"])}
    graph["nodes"]["wait"] = {
        "type": "wait",
        "params": {"kind": "duration", "seconds": 86400},
        "next": {"default": "end"},
    }
    graph["nodes"]["start"] = {**graph["nodes"]["start"], "next": {"default": "wait"}}
    r = client.patch(url, headers={**headers, "If-Match": f'"{active["version"]}"'}, json={"graph": graph})
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["current_version_number"] == 2
    versions = client.get(url + "/versions", headers=headers).get_json()["items"]
    assert [v["number"] for v in versions] == [2, 1]
    assert versions[1]["graph"] == first_graph
    assert "wait" in versions[0]["graph"]["nodes"]
    # a name change alone makes no version
    r = client.patch(url, headers={**headers, "If-Match": f'"{r.get_json()["version"]}"'}, json={"name": "改名"})
    assert r.get_json()["current_version_number"] == 2
    assert (
        session.scalar(sa.select(sa.func.count()).select_from(JourneyVersion).where(JourneyVersion.shop_id == sid)) == 2
    )


def test_if_match_is_required_and_a_stale_one_is_412(client, session):
    shop = ShopFactory()
    headers = token_for(shop, ["write_journeys"])
    journey = client.post("/api/v1/journeys", headers=headers, json={"name": "甲"}).get_json()
    url = f"/api/v1/journeys/{journey['id']}"
    r = client.patch(url, headers=headers, json={"name": "乙"})
    assert r.status_code == 428
    assert client.patch(url, headers={**headers, "If-Match": '"1"'}, json={"name": "乙"}).status_code == 200
    r = client.patch(url, headers={**headers, "If-Match": '"1"'}, json={"name": "丙"})
    assert r.status_code == 412
    assert client.get(url, headers=headers).get_json()["name"] == "乙"


def test_lifecycle_and_illegal_moves(client, session, clock):
    shop = ShopFactory()
    sid = shop.id
    headers = token_for(shop, ["write_journeys"])
    journey = client.post("/api/v1/journeys", headers=headers, json={"name": "甲"}).get_json()
    url = f"/api/v1/journeys/{journey['id']}"
    for move in ("pause", "resume"):
        r = client.post(f"{url}/{move}", headers=headers)
        assert r.status_code == 409 and r.get_json()["status_now"] == "draft"
    assert client.post(url + "/activate", headers=headers).get_json()["status"] == "active"
    assert client.post(url + "/activate", headers=headers).status_code == 409
    assert client.post(url + "/resume", headers=headers).status_code == 409
    assert client.delete(url, headers=headers).status_code == 409
    assert client.post(url + "/pause", headers=headers).get_json()["status"] == "paused"
    assert client.post(url + "/resume", headers=headers).get_json()["status"] == "active"
    assert client.post(url + "/pause", headers=headers).status_code == 200
    assert client.post(url + "/archive", headers=headers).get_json()["status"] == "archived"
    for move in ("activate", "pause", "resume", "archive"):
        assert client.post(f"{url}/{move}", headers=headers).status_code == 409
    r = client.patch(url, headers={**headers, "If-Match": '"99"'}, json={"name": "x"})
    assert r.status_code == 412
    assert _types(session, sid)[-6:] == [
        "journey.version_created",
        "journey.activated",
        "journey.paused",
        "journey.resumed",
        "journey.paused",
        "journey.archived",
    ]
    listed = client.get("/api/v1/journeys?status=archived", headers=headers).get_json()["items"]
    assert [j["id"] for j in listed] == [journey["id"]]
    assert client.get("/api/v1/journeys?status=draft", headers=headers).get_json()["items"] == []


def test_only_a_draft_is_deleted(client, session):
    shop = ShopFactory()
    headers = token_for(shop, ["write_journeys"])
    journey = client.post("/api/v1/journeys", headers=headers, json={"name": "甲"}).get_json()
    url = f"/api/v1/journeys/{journey['id']}"
    assert client.delete(url, headers=headers).status_code == 204
    assert client.get(url, headers=headers).status_code == 404


def test_validate_is_a_dry_run(client, session):
    shop = ShopFactory()
    headers = token_for(shop, ["write_journeys"])
    journey = client.post("/api/v1/journeys", headers=headers, json={"name": "甲"}).get_json()
    url = f"/api/v1/journeys/{journey['id']}"
    graph = journey["graph"]
    graph["nodes"]["start"]["params"]["event"] = "order.teleported"
    r = client.post(url + "/validate", headers=headers, json={"graph": graph})
    assert r.status_code == 200
    assert r.get_json() == {
        "valid": False,
        "problems": {"nodes.start.params.event": ["An event type of the webhook catalogue, like order.paid."]},
    }
    assert client.post(url + "/validate", headers=headers, json={}).get_json() == {"valid": True, "problems": {}}
    assert client.get(url, headers=headers).get_json()["version"] == 1


def test_another_shops_journey_is_404_and_its_coupon_in_a_node_is_422(client, session, clock):
    mine, theirs = ShopFactory(), ShopFactory()
    headers = token_for(mine, ["write_journeys"])
    other = token_for(theirs, ["write_journeys"])
    journey = client.post("/api/v1/journeys", headers=other, json={"name": "别家"}).get_json()
    url = f"/api/v1/journeys/{journey['id']}"
    assert client.get(url, headers=headers).status_code == 404
    assert client.patch(url, headers={**headers, "If-Match": '"1"'}, json={"name": "x"}).status_code == 404
    assert client.post(url + "/activate", headers=headers).status_code == 404
    assert client.get(url + "/versions", headers=headers).status_code == 404
    assert client.delete(url, headers=headers).status_code == 404
    assert client.get("/api/v1/journeys", headers=headers).get_json()["items"] == []

    foreign_coupon = issued_coupon(session, theirs.id)
    draft = _draft(client, headers)
    graph = filled("first_order_repurchase", shop_objects(session, mine.id))
    graph["nodes"]["coupon"]["params"]["coupon_id"] = foreign_coupon
    r = client.patch(f"/api/v1/journeys/{draft['id']}", headers={**headers, "If-Match": '"1"'}, json={"graph": graph})
    assert r.get_json()["problems"] == {"nodes.coupon.params.coupon_id": ["No coupon of this shop has this id."]}
    r = client.post(f"/api/v1/journeys/{draft['id']}/activate", headers=headers)
    assert r.status_code == 422
    assert r.get_json()["errors"] == {"nodes.coupon.params.coupon_id": ["No coupon of this shop has this id."]}


def test_references_must_be_usable(session):
    shop = ShopFactory()
    objects = shop_objects(session, shop.id)
    graph = filled("dormant_winback", objects)
    from souk_platform.coupons import services as coupons
    from souk_platform.tags import services as tags
    from tests.platform.journeys.conftest import NOW

    public = coupons.create_coupon(
        session, shop_id=shop.id, fields={"code": "P1", "name": "公开", "kind": "fixed", "value": 1}
    )
    graph["nodes"]["coupon"]["params"]["coupon_id"] = public.id
    graph["nodes"]["dormant"]["params"]["condition"] = {
        "op": "and",
        "conditions": [{"field": "tag", "cmp": "has", "value": "tag_nope"}],
    }
    rule = tags.create_tag(
        session,
        shop_id=shop.id,
        name="规则",
        kind="rule",
        now=NOW,
        condition={"op": "and", "conditions": [{"field": "orders_count", "cmp": "gte", "value": 1}]},
    )
    graph["nodes"]["tell"] = {
        "type": "action",
        "params": {"action": "add_tag", "tag_id": rule.id},
        "next": {"default": "end_b"},
    }
    other = shop_objects(session, ShopFactory().id)
    graph["nodes"]["start"]["params"]["segment_id"] = other["segment_id"]
    graph["nodes"]["offer"] = {
        "type": "action",
        "params": {"action": "grant_benefit", "package_id": other["package_id"]},
        "next": {"default": "end_a"},
    }
    errors = validate(session, shop_id=shop.id, graph=graph)
    assert errors["nodes.start.params.segment_id"] == ["No segment of this shop has this id."]
    assert errors["nodes.offer.params.package_id"] == ["No benefit package of this shop has this id."]
    assert "issued coupon" in errors["nodes.coupon.params.coupon_id"][0]
    assert "rule tag" in errors["nodes.tell.params.tag_id"][0]
    assert "nodes.dormant.params.condition.conditions.0.value" in errors


def test_scopes(client, session):
    shop = ShopFactory()
    reader = token_for(shop, ["read_journeys"])
    r = client.post("/api/v1/journeys", headers=reader, json={"name": "甲"})
    assert r.status_code == 403
    assert client.get("/api/v1/journeys", headers=token_for(shop, ["read_orders"])).status_code == 403


def test_node_counts_read_the_enrolments_and_their_steps(session, clock):
    from souk_platform.customers.services import create_customer
    from souk_platform.journeys.models import JourneyEnrollment, JourneyStep

    shop = ShopFactory()
    journey = services.create_journey(session, shop_id=shop.id, name="甲")
    assert services.node_counts(session, journey) == {}
    services.change_status(
        session, shop_id=shop.id, journey_id=journey.id, action="activate", expected_version=None, now=clock.now()
    )
    for index, (node, status) in enumerate([("start", "ready"), ("end", "completed"), ("start", "waiting")]):
        customer = create_customer(session, shop_id=shop.id, name=f"顾客{index}")
        enrolment = JourneyEnrollment(
            shop_id=shop.id,
            journey_id=journey.id,
            version_id=journey.current_version_id,
            customer_id=customer.id,
            entry_key="once",
            status=status,
            current_node=node,
            entered_at=clock.now(),
        )
        session.add(enrolment)
        session.flush()
        for seq, node_id in enumerate(["start", "end"][: 2 if status == "completed" else 1]):
            session.add(
                JourneyStep(
                    shop_id=shop.id,
                    journey_id=journey.id,
                    enrollment_id=enrolment.id,
                    seq=seq,
                    node_id=node_id,
                    node_type="trigger" if node_id == "start" else "exit",
                )
            )
    session.flush()
    assert services.node_counts(session, journey) == {
        "start": {"current": 2, "steps": 3},
        "end": {"current": 0, "steps": 1},
    }


def test_message_nodes_name_the_shops_channel_and_a_template_for_its_kind(session):
    """A message node names an active channel of the shop and a template for that channel's kind (§5.11)."""
    from souk_platform.messaging import models as messaging

    shop, other = ShopFactory(), ShopFactory()

    def channel(shop_id, kind, status="active"):
        row = messaging.MessageChannel(shop_id=shop_id, kind=kind, name=kind, key=f"{kind}-{status}", status=status)
        session.add(row)
        session.flush()
        return row.id

    def template(shop_id, kind):
        row = messaging.MessageTemplate(shop_id=shop_id, name="欢迎", channel_kind=kind, body="你好")
        session.add(row)
        session.flush()
        return row.id

    email, inbox, off = channel(shop.id, "email"), channel(shop.id, "inbox"), channel(shop.id, "email", "disabled")
    email_template, foreign = template(shop.id, "email"), template(other.id, "email")
    objects = {**shop_objects(session, shop.id), "channel_id": email, "template_id": email_template}
    graph = filled("post_order_review", objects)
    assert validate(session, shop_id=shop.id, graph=graph) == {}
    graph["nodes"]["guide"]["params"]["channel_id"] = inbox
    graph["nodes"]["ask"]["params"].update(channel_id=off, template_id=foreign)
    errors = validate(session, shop_id=shop.id, graph=graph)
    assert "not this inbox channel" in errors["nodes.guide.params.template_id"][0]
    assert errors["nodes.ask.params.channel_id"] == ["The message channel is disabled."]
    assert errors["nodes.ask.params.template_id"] == ["No message template of this shop has this id."]
