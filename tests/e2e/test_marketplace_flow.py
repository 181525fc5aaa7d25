"""The marketplace end to end, in the browser: a developer lists an app with a discount plugin, an admin
approves it, a merchant installs it, pays for it, sets it up and sees the discount at checkout, and the
developer sees the webhook delivery and the plugin run (Souk issue 7, "Tests").

The app's backend is a small Flask app served on loopback over TLS (a manifest's webhook URLs must be
https): it takes the OAuth callback, exchanges the code, subscribes to ``order.paid``, asks for the plan
and records the webhooks it receives. Its certificate is self-signed and trusted through
``SSL_CERT_FILE`` for the time of the test.
"""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import json
import re
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from e2e.harness import LiveServer, log_in, new_page
from flask import Flask, redirect, request
from playwright.sync_api import expect
from standardwebhooks.webhooks import Webhook
from werkzeug.serving import make_server

from souk_marketplace.demo.images import Canvas

REPO = Path(__file__).resolve().parents[2]
TIERED = REPO / "sample_plugins" / "tiered_discount"
MODULE_PATH = "plugins/tiered.wasm"
APP_NAME = "Lanternfly Tiers 灯笼满减"
SEARCH_WORD = "Lanternfly"
PLAN_PRICE = 1990  # ¥19.90 a month: a recurring plan with a price needs the merchant's approval
WAIT_SECONDS = 30.0
SHOP_NAME = "Souk Demo Tea House"  # the demo shop (its full name may carry more words)


# --- the app's backend ----------------------------------------------------------------------------


@dataclass
class Backend:
    """The app's own server: what it was told (client credentials) and what it received."""

    url: str = ""
    souk_url: str = ""
    client_id: str = ""
    client_secret: str = ""
    webhook_secret: str = ""
    received: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def redirect_uri(self) -> str:
        return f"{self.url}/callback"


def _self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 (its own CA) and its key, written to ``folder``."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "backend.pem", folder / "backend.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


def _backend_app(backend: Backend) -> Flask:
    app = Flask("app_backend")

    @app.post("/webhooks")
    def webhooks() -> Any:
        backend.received.append({"body": request.get_data(as_text=True), "headers": dict(request.headers)})
        return {"ok": True}

    @app.get("/callback")
    def callback() -> Any:
        # Server side, as a real app does: code → installation token → plan request. (The manifest's
        # webhook endpoint is subscribed by the install itself, signed with the app's webhook secret.)
        try:
            with httpx.Client(base_url=backend.souk_url, timeout=30) as souk:
                token = souk.post(
                    "/oauth/token",
                    data={
                        "grant_type": "authorization_code",
                        "code": request.args["code"],
                        "redirect_uri": backend.redirect_uri,
                    },
                    auth=(backend.client_id, backend.client_secret),
                )
                token.raise_for_status()
                bearer = {"Authorization": f"Bearer {token.json()['access_token']}"}
                plan = souk.post(
                    "/api/v1/billing/subscriptions",
                    json={"plan_id": "pro", "return_url": f"{backend.url}/welcome"},
                    headers={**bearer, "Idempotency-Key": str(uuid.uuid4())},
                )
                plan.raise_for_status()
        except (httpx.HTTPError, KeyError) as exc:
            detail = exc.response.text if isinstance(exc, httpx.HTTPStatusError) else repr(exc)
            backend.errors.append(detail)
            return f"<h1>Install failed</h1><pre>{detail}</pre>", 500
        return redirect(plan.json()["confirmation_url"])

    @app.get("/welcome")
    def welcome() -> Any:
        status = request.args.get("status", "")
        return f"<h1>Welcome to Lanternfly</h1><p id='status'>Subscription: {status}</p>"

    return app


@pytest.fixture
def backend(souk: LiveServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[Backend]:
    """The app's backend over TLS on loopback, trusted by Souk's webhook client while the test runs."""
    with tempfile.TemporaryDirectory() as folder:
        cert, key = _self_signed(Path(folder))
        monkeypatch.setitem(souk.app.config, "SOUK_WEBHOOKS_CA_FILE", str(cert))  # trusted besides the usual CAs
        state = Backend(souk_url=souk.url)
        server = make_server("127.0.0.1", 0, _backend_app(state), threaded=True, ssl_context=(str(cert), str(key)))
        state.url = f"https://127.0.0.1:{server.server_port}"
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        yield state
        server.shutdown()


# --- the manifest -----------------------------------------------------------------------------------


def _manifest(backend: Backend) -> str:
    schema = json.loads((TIERED / "config.schema.json").read_text())
    line = [{"sku_id": "sku_e2e", "quantity": 1, "unit_price": 12000}]
    return json.dumps(
        {
            "name": APP_NAME,
            "description": "Spend thresholds take money off the order.",
            "client_type": "confidential",
            "redirect_uris": [backend.redirect_uri],
            "scopes": ["read_orders", "read_products"],
            "webhooks": [{"topic": "order.paid", "uri": f"{backend.url}/webhooks"}],
            "plugins": [
                {
                    "point": "cart.discounts",
                    "module": MODULE_PATH,
                    "config_schema": schema,
                    "tests": [
                        {
                            "name": "spend 120 yuan, 10 off",
                            "input": {
                                "lines": line,
                                "customer": None,
                                "subtotal": 12000,
                                "config": {"tiers": [{"min_spend": 10000, "amount_off": 1000}]},
                            },
                            "expect": {"discounts": [{"label": "满100减10", "amount": 1000}]},
                        }
                    ],
                }
            ],
            "pricing": [
                {"id": "pro", "kind": "recurring", "price": PLAN_PRICE, "currency": "CNY", "interval": "month"}
            ],
        },
        ensure_ascii=False,
        indent=2,
    )


# --- small browser helpers ------------------------------------------------------------------------


def _wait_for(page: Any, ready: Callable[[], bool], what: str) -> None:
    """Reload ``page`` until ``ready()`` (the in-process jobs work asynchronously), at most WAIT_SECONDS."""
    deadline = time.monotonic() + WAIT_SECONDS
    while not ready():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {WAIT_SECONDS:.0f} s for {what}; the page says:\n{page.inner_text('main')}")
        time.sleep(0.5)
        page.reload()


def _text(page: Any) -> str:
    return str(page.inner_text("body"))


def _fen(money: str) -> int:
    """ "-¥1,234.50" as shown on a page → -123450."""
    digits = re.sub(r"[^0-9.-]", "", money)
    return round(float(digits) * 100)


def _png_file(name: str, width: int, height: int, colour: tuple[int, int, int]) -> dict[str, Any]:
    return {"name": name, "mimeType": "image/png", "buffer": Canvas(width, height, colour).png()}


# --- the walk -----------------------------------------------------------------------------------------


def test_a_listed_app_is_installed_paid_for_set_up_and_discounts_a_checkout(souk, browser, shots, backend):
    base = souk.url

    # 1. The developer registers the app in the console, then rotates its secret to read it once.
    dev = new_page(browser)
    log_in(dev, base, "dev@demo.souk.dev", "souk-demo-dev")
    dev.goto(f"{base}/developer/apps/new")
    dev.fill("textarea[name=manifest]", _manifest(backend))
    shots.take(dev, "developer-new-app")
    dev.get_by_role("button", name="Register app").click()
    expect(dev.get_by_text("App registered.")).to_be_visible()
    expect(dev.locator("h1", has_text=APP_NAME)).to_be_visible()
    backend.client_id = dev.inner_text("#client-id").strip()
    dev.get_by_role("button", name="Rotate secret").click()
    expect(dev.get_by_text("New client secret issued.")).to_be_visible()
    backend.client_secret = dev.inner_text("#client-secret").strip()
    shots.take(dev, "developer-secret-shown-once")
    # The webhook secret every delivery to the manifest's endpoint will be signed with, in every shop.
    dev.get_by_role("button", name="Issue webhook secret").click()
    expect(dev.get_by_text("Webhook secret issued.")).to_be_visible()
    dev.get_by_text("Show the secret").click()
    backend.webhook_secret = dev.inner_text("#webhook-secret-value").strip()
    assert backend.webhook_secret.startswith("whsec_")
    shots.take(dev, "developer-webhook-secret")

    # The console has no file form for modules: upload it as `souk-dev app deploy` does, with an app token.
    with httpx.Client(base_url=base, timeout=30) as api:
        token = api.post(
            "/oauth/token", data={"grant_type": "client_credentials"}, auth=(backend.client_id, backend.client_secret)
        )
        assert token.status_code == 200, token.text
        bearer = {"Authorization": f"Bearer {token.json()['access_token']}"}
        version = api.get("/api/v1/app/versions", headers=bearer).json()["items"][0]
        assert version["missing_modules"] == [MODULE_PATH]
        upload = api.post(
            f"/api/v1/app/versions/{version['id']}/modules",
            json={
                "module": MODULE_PATH,
                "module_base64": base64.b64encode((TIERED / "plugin.wasm").read_bytes()).decode(),
            },
            headers=bearer,
        )
        assert upload.status_code == 201, upload.text

    # 2. The developer submits the listing; the automated checks run and the app goes to review.
    dev.get_by_role("link", name="Listing", exact=True).click()
    app_url = dev.url.removesuffix("/listing")  # the registration answered on /developer/apps/new
    dev.fill("input[name=name_en]", APP_NAME)
    dev.fill("input[name=tagline_en]", "Spend more, save more")
    dev.fill("textarea[name=description_en]", "Set a spend threshold and the checkout takes money off the order.")
    dev.fill("input[name=name_zh_CN]", "灯笼满减")
    dev.fill("input[name=tagline_zh_CN]", "满额立减")
    dev.fill("textarea[name=description_zh_CN]", "设置满减门槛，结算时自动立减。灯笼虫出品。")
    dev.select_option("select[name=category]", "marketing")
    dev.set_input_files("input[name=icon]", _png_file("icon.png", 64, 64, (180, 40, 40)))
    dev.set_input_files("input[name=screenshots]", _png_file("screenshot.png", 640, 400, (180, 40, 40)))
    dev.fill("input[name=support_contact]", "support@lanternfly.example")
    dev.fill("input[name=privacy_url]", "https://lanternfly.example/privacy")
    dev.fill("textarea[name=changelog]", "First release.")
    dev.fill("textarea[name=justify_read_orders]", "To react to paid orders.")
    dev.fill("textarea[name=justify_read_products]", "To show which products reach a threshold.")
    shots.take(dev, "developer-listing-form")
    dev.get_by_role("button", name="Submit for review").click()
    expect(dev.get_by_text("Submission 1 sent.")).to_be_visible()
    _wait_for(dev, lambda: dev.locator("#listing-state", has_text="In review").count() == 1, "the checks")
    page_text = _text(dev)
    assert "In review" in page_text
    assert "1 of 1 test(s) passed" in page_text
    assert re.search(r"Answered 200 in \d+ ms", page_text), page_text
    shots.take(dev, "developer-checks-passed-in-review")

    # 3. The admin approves it in the review queue, ticking the checklist.
    admin = new_page(browser)
    log_in(admin, base, "admin@demo.souk.dev", "souk-demo-admin")
    admin.goto(f"{base}/admin/listings")
    shots.take(admin, "admin-review-queue")
    admin.get_by_role("link", name=APP_NAME).first.click()
    expect(admin.get_by_text("1 of 1 test(s) passed")).to_be_visible()
    for box in admin.locator("#approve input[type=checkbox]").all():
        box.check()
    shots.take(admin, "admin-review-checklist")
    admin.get_by_role("button", name="Approve and list").click()
    expect(admin.get_by_text("Approved: the app is listed in the market.")).to_be_visible()
    shots.take(admin, "admin-approved")

    # 4. The owner finds it by search, installs it through the consent page and approves the charge.
    owner = new_page(browser, ignore_https_errors=True)
    log_in(owner, base, "owner@demo.souk.dev", "souk-demo-owner")
    owner.goto(f"{base}/market")
    owner.fill("input[name=q]", SEARCH_WORD)
    owner.get_by_role("button", name="Search").click()
    results = owner.locator("#results .app-card")
    expect(results).to_have_count(1)
    assert results.first.locator(".app-name").inner_text() == APP_NAME
    shots.take(owner, "market-search")
    owner.fill("input[name=q]", "灯笼虫")  # a word only in the Chinese description
    owner.get_by_role("button", name="Search").click()
    expect(owner.locator("#results .app-name", has_text=APP_NAME)).to_have_count(1)
    shots.take(owner, "market-search-chinese")
    owner.locator("#results .app-name", has_text=APP_NAME).click()
    expect(owner.locator("h1", has_text=APP_NAME)).to_be_visible()
    shots.take(owner, "market-app-page")
    owner.locator("#install").click()
    owner.wait_for_load_state()
    if owner.get_by_text("Which shop should the app be installed on?").count():
        owner.get_by_role("link", name=SHOP_NAME).click()
    shots.take(owner, "oauth-consent")
    assert owner.locator("h1").inner_text().startswith(f"Install {APP_NAME} on {SHOP_NAME}"), _text(owner)
    owner.get_by_role("button", name="Approve and install").click()
    # The backend's /callback sent the browser on to the charge confirmation.
    assert not backend.errors, backend.errors
    owner.wait_for_url(re.compile(r"/billing/approve/"))
    assert owner.inner_text("#app-name") == APP_NAME
    assert "¥19.90" in owner.inner_text("#price")
    shots.take(owner, "charge-approval")
    owner.get_by_role("button", name="Approve").click()
    owner.wait_for_url(re.compile(re.escape(backend.url) + r"/welcome"))
    assert owner.inner_text("#status") == "Subscription: active"
    shots.take(owner, "app-return-url")

    # 5. The owner sets the plugin's threshold in the form generated from its config schema.
    owner.goto(base)
    owner.get_by_role("link", name="Plugins", exact=True).first.click()
    owner.wait_for_url(re.compile(r"/shops/[^/]+/plugins$"))
    shop_id = re.search(r"/shops/([^/]+)/plugins", owner.url).group(1)  # type: ignore[union-attr]
    row = owner.locator("tr", has_text=f"App: {APP_NAME}")
    expect(row).to_have_count(1)
    shots.take(owner, "shop-plugins")
    row.get_by_role("link", name="Settings").click()
    owner.fill("[name='cfg.tiers.0.min_spend']", "100")
    owner.fill("[name='cfg.tiers.0.amount_off']", "10.00")
    shots.take(owner, "plugin-settings")
    owner.get_by_role("button", name="Save settings").click()
    expect(owner.get_by_text("Settings of").first).to_be_visible()
    # 6. A test order above the threshold, paid with the test provider, shows the plugin's discount.
    owner.goto(f"{base}/shops/{shop_id}/orders/new")
    owner.select_option("[aria-label='Product 1']", index=1)
    owner.fill("[aria-label='Quantity 1']", "10")
    owner.check("input[name=pay]")
    shots.take(owner, "test-order-form")
    owner.get_by_role("button", name="Check out").click()
    expect(owner.get_by_text("Order placed.")).to_be_visible()
    totals = owner.locator("#order-totals")
    expect(totals.locator("tr.discount", has_text="满100减10")).to_have_count(1)
    assert "-¥10.00" in totals.locator("tr.discount", has_text="满100减10").inner_text()
    subtotal = _fen(totals.locator("tr", has_text="Subtotal").locator("td").inner_text())
    discounts = sum(_fen(cell) for cell in totals.locator("tr.discount td").all_inner_texts())
    total = _fen(totals.locator("tr", has_text=re.compile(r"^Total")).locator("td").inner_text())
    assert subtotal >= 10000 and discounts <= -1000
    assert total == subtotal + discounts  # the reduced total, the plugin's ¥10 included
    shots.take(owner, "order-with-discount")

    # 7. The developer sees the order.paid delivery (answered 200) and the plugin run in the console.
    dev.goto(app_url)
    dev.get_by_role("link", name="Webhooks", exact=True).click()
    _wait_for(
        dev, lambda: dev.locator("tr", has_text="order.paid").filter(has_text="Delivered").count() >= 1, "order.paid"
    )
    shots.take(dev, "developer-webhook-log")
    dev.locator("tr", has_text="order.paid").filter(has_text="Delivered").first.locator("a").first.click()
    assert dev.inner_text("#delivery-status") == "Delivered"
    assert dev.locator("article.attempt tr", has_text="Response status").first.inner_text().endswith("200")
    shots.take(dev, "developer-webhook-delivery")
    paid = [hit for hit in backend.received if json.loads(hit["body"]).get("type") == "order.paid"]
    assert paid, "the backend received no order.paid"
    assert len({hit["headers"].get("Webhook-Id") for hit in paid}) == 1  # one endpoint: the one the manifest declares
    event = Webhook(backend.webhook_secret).verify(paid[0]["body"], paid[0]["headers"])
    assert event["type"] == "order.paid"

    dev.goto(app_url)
    dev.get_by_role("link", name="Plugin runs", exact=True).click()
    run = dev.locator("tr.outcome-ok", has_text=MODULE_PATH).filter(has_text=shop_id)
    expect(run).to_have_count(1)  # the one checkout of the demo shop
    assert "cart.discounts" in run.inner_text()
    shots.take(dev, "developer-plugin-runs")
    run.locator("a").first.click()
    # The run's output is the discount the order page showed, its Chinese label readable.
    assert '"amount": 1000' in _text(dev) and "满100减10" in _text(dev)
    shots.take(dev, "developer-plugin-run")
