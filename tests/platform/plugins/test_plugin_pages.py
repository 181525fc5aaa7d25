"""The shop owner's Plugins page, generated settings forms and invocation log; the developer's Plugin runs."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from plugin_modules import FIVE_OFF, TEN_PERCENT, TIERED, TIERED_SCHEMA, TRAP, Developer, b64

from factories import ShopFactory, token_for
from souk_platform.apps.models import App, PluginActivation
from souk_platform.auth.services import create_user
from souk_platform.catalog.services import NewSku, create_product
from souk_platform.installations.services import install_app
from souk_platform.plugins.models import ShopPluginActivation
from souk_platform.shops.services import add_staff

PASSWORD = "correct horse"


class Owner:
    """A logged-in shop owner with a 50-yuan tea and an API token, driving pages and the API."""

    def __init__(self, client: Any, session: Any, email: str = "owner@example.com") -> None:
        self.client = client
        self.email = email
        user = create_user(session, email=email, name="Olive Owner", password=PASSWORD)
        shop = ShopFactory(name="Tea Corner", owner=user)
        product = create_product(
            session,
            shop_id=shop.id,
            title="Longjing",
            status="active",
            skus=[NewSku(code="TEA", title="250g", price=5000, on_hand=50)],
        )
        session.commit()
        self.user_id, self.shop_id, self.tea = user.id, shop.id, product.skus[0].id
        self.headers = token_for(shop)
        self.pages = f"/shops/{self.shop_id}"
        login(client, email)

    def install(self, module: bytes, point: str = "cart.discounts", **activation: Any) -> tuple[str, str]:
        schema = activation.pop("config_schema", None)
        body = {"name": activation.pop("name", f"test {point}"), "point": point, "module_base64": b64(module)}
        r = self.client.post("/api/v1/plugins", json={**body, "config_schema": schema}, headers=self.headers)
        assert r.status_code == 201, r.get_json()
        plugin_id = r.get_json()["id"]
        body = {"plugin_id": plugin_id, **activation}
        r = self.client.post("/api/v1/plugin-activations", json=body, headers=self.headers)
        assert r.status_code == 201, r.get_json()
        return plugin_id, r.get_json()["id"]

    def checkout(self, quantity: int = 1) -> dict[str, Any]:
        lines = [{"sku_id": self.tea, "quantity": quantity}]
        cart = self.client.post("/api/v1/carts", json={"lines": lines}, headers=self.headers).get_json()
        return dict(self.client.post(f"/api/v1/carts/{cart['id']}/checkout", json={}, headers=self.headers).get_json())

    def page(self, path: str, **query: Any) -> str:
        r = self.client.get(self.pages + path, query_string=query)
        assert r.status_code == 200, (path, r.status_code)
        return str(r.get_data(as_text=True))


def login(client: Any, email: str) -> None:
    r = client.post("/login", data={"email": email, "password": PASSWORD})
    assert r.status_code == 302


@pytest.fixture
def owner(client, session):
    return Owner(client, session)


def value_of(html: str, name: str) -> str:
    match = re.search(rf'name="{re.escape(name)}" value="([^"]*)"', html)
    assert match, name
    return match.group(1)


def test_the_plugins_page_lists_each_point_in_running_order_with_failure_rates(owner):
    owner.install(FIVE_OFF, name="Five off", position=1)
    owner.install(TRAP, name="Broken", position=2)
    owner.install(TEN_PERCENT, "order.extra_fee", name="Not a fee")  # runs nowhere sensible; still listed
    owner.checkout()

    html = owner.page("/plugins")
    section = html[html.index('id="point-cart.discounts"') : html.index('id="point-order.extra_fee"')]
    assert section.index("Five off") < section.index("Broken")
    assert "1 call" in section and "100.0 % failed" in section and "0.0 % failed" in section
    assert "Your upload" in section
    assert "Plugin log" in owner.client.get("/").get_data(as_text=True)  # linked from the shop list


def test_the_owner_switches_a_plugin_off_and_reorders_plugins(owner, session):
    owner.install(FIVE_OFF, name="Five off", position=0)
    _, ten = owner.install(TEN_PERCENT, name="Ten percent", position=1)
    r = owner.client.post(f"{owner.pages}/plugins/{ten}/move", data={"direction": "up"})
    assert r.status_code == 302
    html = owner.page("/plugins")
    assert html.index("Ten percent") < html.index("Five off")
    assert session.get(ShopPluginActivation, ten).position == 0
    assert owner.client.post(f"{owner.pages}/plugins/{ten}/move", data={"direction": "sideways"}).status_code == 400

    r = owner.client.post(f"{owner.pages}/plugins/{ten}/toggle")
    assert r.status_code == 302
    assert "Ten percent is off." in owner.page("/plugins")
    order = owner.checkout(2)
    assert [d["label"] for d in order["discounts"]] == ["Plugin 5 off"]


def test_the_tiered_discount_threshold_is_set_in_the_generated_settings_form(owner, session):
    _, activation = owner.install(
        TIERED, config_schema=TIERED_SCHEMA, config={"tiers": [{"min_spend": 8000, "amount_off": 1000}]}
    )
    assert owner.checkout(1)["discount_total"] == 0  # 50 yuan is under the 80 threshold

    html = owner.page(f"/plugins/{activation}/settings")
    assert value_of(html, "cfg.tiers.0.min_spend") == "80.00"  # fen in the config, yuan on the page
    assert value_of(html, "cfg.tiers.1.min_spend") == ""  # a spare row for another tier
    assert "Min spend" in html and "Subtotal this tier needs" in html
    assert "At least ¥0.01" in html and "1000000000000" not in html and "10,000,000,000" not in html

    form = {"cfg.tiers.0.min_spend": "¥30", "cfg.tiers.0.amount_off": "3.00", "cfg.tiers.1.min_spend": ""}
    r = owner.client.post(f"{owner.pages}/plugins/{activation}/settings", data=form)
    assert r.status_code == 302, r.get_data(as_text=True)
    assert session.get(ShopPluginActivation, activation).config == {"tiers": [{"min_spend": 3000, "amount_off": 300}]}
    order = owner.checkout(1)
    assert (order["discount_total"], [d["label"] for d in order["discounts"]]) == (300, ["满30减3"])


def test_bad_settings_are_shown_next_to_their_fields_and_change_nothing(owner, session):
    config = {"tiers": [{"min_spend": 8000, "amount_off": 1000}]}
    _, activation = owner.install(TIERED, config_schema=TIERED_SCHEMA, config=config)
    form = {
        "cfg.tiers.0.min_spend": "eighty",
        "cfg.tiers.0.amount_off": "0",
        "cfg.tiers.1.min_spend": "1",  # a second tier without its amount
    }
    r = owner.client.post(f"{owner.pages}/plugins/{activation}/settings", data=form)
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    assert re.search(
        r'name="cfg.tiers.0.min_spend" value="eighty"[^>]*></span>\s*<p class="field-error">Enter an amount like', html
    )
    assert re.search(
        r'name="cfg.tiers.0.amount_off" value="0"[^>]*></span>\s*<p class="field-error">Must be at least ¥0.01', html
    )
    assert re.search(
        r'name="cfg.tiers.1.amount_off" value=""[^>]*></span>\s*<p class="field-error">This field is required', html
    )
    session.expire_all()
    assert session.get(ShopPluginActivation, activation).config == config

    r = owner.client.post(f"{owner.pages}/plugins/{activation}/settings", data={"cfg.tiers.0.min_spend": ""})
    assert r.status_code == 422 and "Give at least 1." in r.get_data(as_text=True)


def test_money_settings_are_read_as_people_write_them_and_stored_exactly_in_fen(owner, session):
    _, activation = owner.install(
        TIERED, config_schema=TIERED_SCHEMA, config={"tiers": [{"min_spend": 8000, "amount_off": 1000}]}
    )
    url = f"{owner.pages}/plugins/{activation}/settings"
    written = {"¥0.29": 29, "1,500": 150000, "19.99": 1999, "5 元": 500, "0.1": 10}
    for text, fen in written.items():
        r = owner.client.post(url, data={"cfg.tiers.0.min_spend": text, "cfg.tiers.0.amount_off": "0.01"})
        assert r.status_code == 302, (text, r.get_data(as_text=True))
        session.expire_all()
        assert session.get(ShopPluginActivation, activation).config["tiers"][0]["min_spend"] == fen, text
    for text in ("5.001", "-5", "1e3", "NaN", "$5", "五元"):
        r = owner.client.post(url, data={"cfg.tiers.0.min_spend": text, "cfg.tiers.0.amount_off": "1"})
        assert r.status_code == 422, text
        assert "Enter an amount like 5 or 5.00" in r.get_data(as_text=True), text
    session.expire_all()
    assert session.get(ShopPluginActivation, activation).config["tiers"][0] == {"min_spend": 10, "amount_off": 1}


SCHEMA = {
    "type": "object",
    "required": ["mode"],
    "properties": {
        "mode": {"enum": ["stack", "best"], "title": "Merge mode"},
        "loud": {"type": "boolean", "description": "Say it at checkout"},
        "rate": {"type": "number", "minimum": 0, "maximum": 1},
        "note": {"type": "string", "maxLength": 5, "default": "hi"},
        "multiplier": {"type": "integer", "default": 2},
        "rules": {"type": "object", "additionalProperties": {"type": "integer"}},
    },
}


def test_the_form_handles_enums_booleans_numbers_defaults_and_raw_json(owner, session):
    _, activation = owner.install(FIVE_OFF, config_schema=SCHEMA, config={"mode": "best"})
    html = owner.page(f"/plugins/{activation}/settings")
    assert '<option value="&#34;best&#34;" selected>best</option>' in html and "Merge mode" in html
    assert 'type="checkbox"' in html and "Say it at checkout" in html
    assert value_of(html, "cfg.note") == "hi" and "Default: hi" in html
    assert '<textarea id="cfg-rules" name="cfg.rules"' in html  # a map: edited as JSON

    form = {"cfg.mode": '"stack"', "cfg.loud": "on", "cfg.rate": "0.25", "cfg.note": "hey", "cfg.multiplier": "3"}
    r = owner.client.post(f"{owner.pages}/plugins/{activation}/settings", data={**form, "cfg.rules": '{"a": 1}'})
    assert r.status_code == 302, r.get_data(as_text=True)
    assert session.get(ShopPluginActivation, activation).config == {
        "mode": "stack",
        "loud": True,
        "rate": 0.25,
        "note": "hey",
        "multiplier": 3,
        "rules": {"a": 1},
    }

    bad = {**form, "cfg.mode": '"worst"', "cfg.rate": "2", "cfg.note": "too long", "cfg.rules": "{nope"}
    html = owner.client.post(f"{owner.pages}/plugins/{activation}/settings", data=bad).get_data(as_text=True)
    for message in ("Choose one of the options.", "Must be at most 1.", "Use at most 5 characters.", "Not valid JSON"):
        assert message in html


def test_the_settings_form_needs_its_csrf_token_when_csrf_is_on(app, owner, session):
    _, activation = owner.install(
        TIERED, config_schema=TIERED_SCHEMA, config={"tiers": [{"min_spend": 1, "amount_off": 1}]}
    )
    form = {"cfg.tiers.0.min_spend": "30", "cfg.tiers.0.amount_off": "3"}
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        r = owner.client.post(f"{owner.pages}/plugins/{activation}/settings", data=form)
        assert r.status_code in (400, 422)
        session.expire_all()
        assert session.get(ShopPluginActivation, activation).config["tiers"][0]["min_spend"] == 1
        token = value_of(owner.page(f"/plugins/{activation}/settings"), "csrf_token")
        r = owner.client.post(f"{owner.pages}/plugins/{activation}/settings", data={**form, "csrf_token": token})
        assert r.status_code == 302
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    session.expire_all()
    assert session.get(ShopPluginActivation, activation).config["tiers"][0]["min_spend"] == 3000


def test_an_uploaded_plugin_is_switched_on_with_its_settings(owner, session):
    body = {"name": "Tiers", "point": "cart.discounts", "module_base64": b64(TIERED), "config_schema": TIERED_SCHEMA}
    plugin_id = owner.client.post("/api/v1/plugins", json=body, headers=owner.headers).get_json()["id"]
    assert "Switch on" in owner.page("/plugins")
    r = owner.client.post(f"{owner.pages}/plugins/activate/{plugin_id}", data={"cfg.tiers.0.min_spend": "1"})
    assert r.status_code == 422 and "This field is required." in r.get_data(as_text=True)
    form = {"cfg.tiers.0.min_spend": "1", "cfg.tiers.0.amount_off": "1"}
    assert owner.client.post(f"{owner.pages}/plugins/activate/{plugin_id}", data=form).status_code == 302
    assert owner.checkout()["discount_total"] == 100


def test_the_invocation_log_filters_shows_a_call_and_downloads_its_replay_export(owner):
    owner.install(FIVE_OFF, name="Five off")
    owner.install(TRAP, name="Broken")
    owner.checkout()

    html = owner.page("/plugin-invocations")
    assert "Five off" in html and "Broken" in html and "trap" in html
    only_traps = owner.page("/plugin-invocations", outcome="trap")
    assert "Broken" in only_traps and "Five off" not in only_traps
    assert "No plugin calls match." in owner.page("/plugin-invocations", point="order.validate")
    assert "Broken" in owner.page("/plugin-invocations", outcome="no-such-outcome")  # ignored, not an error

    log_id = re.search(r"/plugin-invocations/(pli_\w+)", only_traps).group(1)
    detail = owner.page(f"/plugin-invocations/{log_id}")
    assert "trap" in detail and "&#34;subtotal&#34;: 5000" in detail and "Download for replay" in detail
    r = owner.client.get(f"{owner.pages}/plugin-invocations/{log_id}/export")
    assert r.status_code == 200 and "attachment" in r.headers["Content-Disposition"]
    export = json.loads(r.get_data())
    assert (export["id"], export["outcome"], export["input"]["subtotal"]) == (log_id, "trap", 5000)


def test_staff_get_403_and_other_shops_get_404(owner, client, session):
    _, activation = owner.install(FIVE_OFF)
    stranger = Owner(client, session, email="other@example.com")  # logs in as the other shop's owner
    assert client.get(f"{owner.pages}/plugins").status_code == 404
    assert client.get(f"{stranger.pages}/plugins/{activation}/settings").status_code == 404
    staff = create_user(session, email="staff@example.com", name="Sam", password=PASSWORD)
    add_staff(session, shop_id=owner.shop_id, user=staff, role="staff")
    session.commit()
    login(client, "staff@example.com")
    assert client.get(f"{owner.pages}/plugins").status_code == 403
    assert client.get(f"{owner.pages}/plugin-invocations").status_code == 403


def _install_app(session, clock, developer, shop_id, user_id):
    app = session.get(App, developer.app_id)
    installation = install_app(
        session, app=app, shop_id=shop_id, user_id=user_id, scopes=["read_orders"], now=clock.now()
    )
    session.commit()
    return session.query(PluginActivation).filter_by(installation_id=installation.id).one().id


def test_an_apps_plugin_is_configured_on_the_plugins_page(owner, client, session, clock):
    developer = Developer(session, clock)
    activation = _install_app(session, clock, developer, owner.shop_id, owner.user_id)
    html = owner.page("/plugins")
    assert "App: Tier Deals" in html and "has not uploaded this module yet" in html

    assert developer.upload(client).status_code == 201
    assert "has not uploaded" not in owner.page("/plugins")
    form = {"cfg.tiers.0.min_spend": "10", "cfg.tiers.0.amount_off": "2"}
    assert owner.client.post(f"{owner.pages}/plugins/{activation}/settings", data=form).status_code == 302
    assert owner.checkout()["discount_total"] == 200
    assert "Tier Deals · plugins/tiered.wasm" in owner.page("/plugin-invocations")


def test_the_developer_sees_runs_across_shops_with_failure_rates_and_replay_exports(client, session, clock):
    account = create_user(session, email="dev@example.com", name="Dana Dev", password=PASSWORD)
    account.is_developer = True
    developer = Developer(session, clock, user=account)
    assert developer.upload(client).status_code == 201
    shops = [Owner(client, session, email="first@example.com"), Owner(client, session, email="second@example.com")]
    for shop in shops:
        activation = _install_app(session, clock, developer, shop.shop_id, shop.user_id)
        login(client, shop.email)
        form = {"cfg.tiers.0.min_spend": "10", "cfg.tiers.0.amount_off": "2"}
        assert client.post(f"{shop.pages}/plugins/{activation}/settings", data=form).status_code == 302
        assert shop.checkout()["discount_total"] == 200

    login(client, "dev@example.com")
    assert "Plugin runs" in client.get(f"/developer/apps/{developer.app_id}").get_data(as_text=True)
    html = client.get(f"/developer/apps/{developer.app_id}/plugin-runs").get_data(as_text=True)
    assert shops[0].shop_id in html and shops[1].shop_id in html
    assert "v1 <code>plugins/tiered.wasm</code>" in html
    assert re.search(r"<td>2</td>\s*<td>2</td>\s*<td>0</td>\s*<td[^>]*>0.0 %</td>", html)  # 2 shops, 2 calls
    log_id = re.search(r"plugin-runs/(pli_\w+)/export", html).group(1)
    export = json.loads(client.get(f"/developer/apps/{developer.app_id}/plugin-runs/{log_id}/export").get_data())
    assert export["outcome"] == "ok" and export["app_id"] == developer.app_id and "subtotal" in export["input"]
    detail = client.get(f"/developer/apps/{developer.app_id}/plugin-runs/{log_id}").get_data(as_text=True)
    assert "&#34;subtotal&#34;" in detail
    assert "Tea Corner" not in html + detail  # shops by id only

    other = create_user(session, email="dev2@example.com", name="Other Dev", password=PASSWORD)
    other.is_developer = True
    session.commit()
    login(client, "dev2@example.com")
    assert client.get(f"/developer/apps/{developer.app_id}/plugin-runs").status_code == 404
    assert client.get(f"/developer/apps/{developer.app_id}/plugin-runs/{log_id}/export").status_code == 404
