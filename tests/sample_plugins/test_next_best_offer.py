"""next_best_offer end to end: an app ships it, a shop installs the app and sets its rules, and the customers of an
active journey's split go down the branch the plugin picks from their facts (docs/architecture.md §7.3)."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from factories import ShopFactory, UserFactory, token_for
from souk_platform.apps.models import App, PluginActivation
from souk_platform.apps.services import register_app
from souk_platform.customers.models import Customer
from souk_platform.installations.services import install_app
from souk_platform.journeys import engine
from souk_platform.journeys.engine.split import plugin_picker, weighted_branch
from souk_platform.oauth.services import issue_app_token
from souk_platform.plugins.services import update_app_activation
from souk_platform.tags.services import create_segment

FOLDER = Path(__file__).resolve().parents[2] / "sample_plugins" / "next_best_offer"
MODULE = "plugins/next_best_offer.wasm"
SPLIT = {"variants": [{"key": "coupon", "weight": 1}, {"key": "points", "weight": 1}], "holdout_percent": 0}
RULES = {"rules": [{"branch": "points", "min_spent": 50000}, {"branch": "coupon", "max_orders": 0}]}


def _node(type: str, params: dict[str, Any], **next: str) -> dict[str, Any]:
    return {"type": type, "params": params, "next": next, "position": {"x": 0, "y": 0}}


def _publish(client: Any, session: Any, clock: Any) -> str:
    """The developer registers an app whose manifest declares the plugin and uploads the shipped module."""
    manifest = {
        "name": "Next Best Offer",
        "redirect_uris": ["https://nbo.example.com/callback"],
        "scopes": ["read_customers"],
        "plugins": [
            {
                "point": "journey.split",
                "module": MODULE,
                "config_schema": json.loads((FOLDER / "config.schema.json").read_text()),
            }
        ],
    }
    app, version, _ = register_app(
        session, developer=UserFactory(is_developer=True), manifest_text=json.dumps(manifest)
    )
    app_id, version_id = app.id, version.id
    _, token = issue_app_token(session, app_id=app_id, now=clock.now())
    session.commit()
    module = base64.b64encode((FOLDER / "plugin.wasm").read_bytes()).decode()
    r = client.post(
        f"/api/v1/app/versions/{version_id}/modules",
        json={"module": MODULE, "module_base64": module},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert r.status_code == 201, r.get_json()
    return app_id


def test_an_installed_next_best_offer_sends_each_customer_where_its_rules_say(client, session, clock) -> None:
    app_id = _publish(client, session, clock)
    owner = UserFactory()
    shop = ShopFactory(owner=owner)
    big, new, regular = (
        Customer(shop_id=shop.id, name="大客户", orders_count=9, total_spent=80_000),
        Customer(shop_id=shop.id, name="新客", orders_count=0, total_spent=0),
        Customer(shop_id=shop.id, name="老客", orders_count=3, total_spent=12_000),
    )
    session.add_all([big, new, regular])
    installation = install_app(
        session,
        app=session.get(App, app_id),
        shop_id=shop.id,
        user_id=owner.id,
        scopes=["read_customers"],
        now=clock.now(),
    )
    session.flush()
    activation = session.query(PluginActivation).filter_by(installation_id=installation.id).one()
    update_app_activation(session, shop_id=shop.id, activation_id=activation.id, changes={"config": RULES})
    everyone = create_segment(
        session,
        shop_id=shop.id,
        name="全部",
        description=None,
        condition={"op": "and", "conditions": [{"field": "orders_count", "cmp": "gte", "value": 0}]},
    )
    session.commit()
    headers = token_for(shop)
    graph = {
        "entry": "start",
        "nodes": {
            "start": _node("trigger", {"kind": "segment_entered", "segment_id": everyone.id}, default="split"),
            "split": _node("split", SPLIT, coupon="end", points="end"),
            "end": _node("exit", {}),
        },
        "settings": {"reentry": "never"},
    }
    r = client.post("/api/v1/journeys", json={"name": "下一步最佳", "graph": graph}, headers=headers)
    assert r.status_code == 201, r.get_json()
    journey_id = r.get_json()["id"]
    r = client.post(f"/api/v1/journeys/{journey_id}/activate", headers=headers)
    assert r.status_code == 200, r.get_json()

    assert engine.run_periodic_triggers(session, now=clock.now()) == 3
    session.commit()
    while engine.advance_batch(session, now=clock.now(), pick_branch=plugin_picker):
        session.commit()

    r = client.get(f"/api/v1/journeys/{journey_id}/enrollments", headers=headers)
    assert r.status_code == 200, r.get_json()
    enrolled = {e["customer_id"]: e for e in r.get_json()["items"]}
    assert enrolled[big.id]["variant"] == "points"  # 800 yuan spent: the first rule
    assert enrolled[new.id]["variant"] == "coupon"  # no order yet: the second
    # neither rule holds for the regular: the platform's own draw stands
    assert enrolled[regular.id]["variant"] == weighted_branch(
        SPLIT, enrollment_id=enrolled[regular.id]["id"], node_id="split"
    )

    r = client.get("/api/v1/plugin-invocations", headers=headers)
    assert r.status_code == 200, r.get_json()
    calls = r.get_json()["items"]
    assert sorted((c["app_id"], c["point"], c["outcome"]) for c in calls) == [(app_id, "journey.split", "ok")] * 3
    for call in calls:  # the log keeps the exact input, with the facts the plugin judged by, for a replay
        detail = client.get(f"/api/v1/plugin-invocations/{call['id']}", headers=headers).get_json()
        given = json.loads(detail["input"])
        assert given["config"] == RULES and call["output"]["branch"] == enrolled[given["customer_id"]]["variant"]
        customer = session.get(Customer, given["customer_id"])
        assert given["customer"] == {
            "id": customer.id,
            "level": customer.level,
            "orders_count": customer.orders_count,
            "total_spent": customer.total_spent,
        }
