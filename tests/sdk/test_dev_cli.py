"""`souk-dev` against a live Souk server: login, init + deploy + submit, status, trigger and listen."""

from __future__ import annotations

import json
import shutil
import stat
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from werkzeug.serving import make_server

from factories import ShopFactory, UserFactory
from souk_platform.apps.models import Installation
from souk_platform.apps.services import register_app
from souk_platform.auth.scopes import all_scopes
from souk_platform.core.clock import FrozenClock
from souk_platform.db import db
from souk_platform.events.services import emit
from souk_platform.webhooks.listen import WebhookListenEvent, WebhookListenSession
from souk_platform.webhooks.models import WebhookDelivery
from souk_platform.webhooks.runtime import runtime_for
from souk_platform.webhooks.services import create_subscription, dispatch_outbox
from souk_sdk.dev_cli import credentials_path, main
from souk_sdk.webhooks import verify

MANIFEST = """\
name: CLI Helper
redirect_uris: [http://127.0.0.1:8765/callback]
scopes: [read_orders, read_plugins, write_plugins, read_webhooks, write_webhooks]
"""


@dataclass(frozen=True)
class Live:
    url: str
    app_id: str
    client_id: str
    client_secret: str
    shop_id: str
    webhook_secret: str


@dataclass
class Ran:
    code: int
    out: str
    err: str


@pytest.fixture(scope="module")
def live(isolated_app) -> Iterator[Live]:
    """A real HTTP server; an app installed on a shop with an order.* webhook endpoint."""
    with isolated_app.app_context():
        developer = UserFactory(is_developer=True)
        app, version, secret = register_app(db.session, developer=developer, manifest_text=MANIFEST)
        shop = ShopFactory()
        installation = Installation(
            app_id=app.id, shop_id=shop.id, app_version_id=version.id, granted_scopes=list(all_scopes())
        )
        db.session.add(installation)
        db.session.flush()
        _, webhook_secret = create_subscription(
            db.session,
            shop_id=shop.id,
            url="https://hooks.example.com/souk",
            topics=["order.*"],
            installation_id=installation.id,
            granted_scopes=all_scopes(),
            box=runtime_for(isolated_app).box,
            clock=isolated_app.extensions["souk.clock"],
        )
        db.session.commit()
        ids = (app.id, app.client_id, shop.id)
    server = make_server("127.0.0.1", 0, isolated_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="souk-live", daemon=True)
    thread.start()
    try:
        assert secret is not None
        yield Live(f"http://127.0.0.1:{server.server_port}", ids[0], ids[1], secret, ids[2], webhook_secret)
    finally:
        server.shutdown()
        thread.join(5)


@pytest.fixture
def dev(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], live: Live):
    """`dev("whoami")` runs `souk-dev` in a scratch folder with a scratch config dir, against the live server."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("SOUK_API_URL", live.url)

    def run(*argv: str) -> Ran:
        capsys.readouterr()
        code = main(list(argv))
        captured = capsys.readouterr()
        return Ran(code, captured.out, captured.err)

    return run


@pytest.fixture
def logged_in(dev, live: Live):
    result = dev("login", "--client-id", live.client_id, "--client-secret", live.client_secret)
    assert result.code == 0, result.err
    return dev


@dataclass
class Receiver:
    url: str
    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    arrived: threading.Event = field(default_factory=threading.Event)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A local webhook endpoint that records what it gets and answers 204."""
    got: list[tuple[dict[str, str], bytes]] = []
    arrived = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            got.append(({k.lower(): v for k, v in self.headers.items()}, body))
            arrived.set()  # before answering: the CLI may stop (and the test check) as soon as it has the answer
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Receiver(f"http://127.0.0.1:{server.server_address[1]}/webhooks/souk", got, arrived)
    finally:
        server.shutdown()
        thread.join(5)


def test_login_stores_private_credentials_and_whoami_names_the_app(dev, live):
    result = dev("login", "--client-id", live.client_id, "--client-secret", live.client_secret)
    assert result.code == 0, result.err
    assert f"as CLI Helper ({live.app_id})" in result.out
    path = credentials_path()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert json.loads(path.read_text())["client_id"] == live.client_id

    result = dev("whoami")
    assert result.code == 0 and f"CLI Helper ({live.app_id}) at {live.url}" in result.out
    assert "installations 1" in result.out
    result = dev("whoami", "--json")
    assert result.code == 0 and json.loads(result.out)["id"] == live.app_id

    assert dev("logout").code == 0 and not path.exists()
    result = dev("whoami")
    assert result.code == 2 and "Not logged in" in result.err


def test_a_wrong_secret_is_refused_and_nothing_is_stored(dev, live):
    result = dev("login", "--client-id", live.client_id, "--client-secret", "wrong")
    assert result.code == 1 and "refused the client credentials (401)" in result.err
    assert not credentials_path().exists()
    result = dev("login")
    assert result.code == 2 and "Pass --client-id" in result.err


def _decide_when_asked(isolated_app, app_id: str, *, approve: bool) -> None:
    """The developer, in the browser: wait for the CLI's pending login of the app, then decide it."""
    from souk_platform.apps.models import App
    from souk_platform.auth.models import User
    from souk_platform.oauth import device
    from souk_platform.oauth.models import DeviceAuthorization

    deadline = time.monotonic() + 20
    with isolated_app.app_context():
        while time.monotonic() < deadline:
            code = db.session.scalar(
                sa.select(DeviceAuthorization.user_code).where(
                    DeviceAuthorization.app_id == app_id, DeviceAuthorization.status == "pending"
                )
            )
            if code:
                developer = db.session.get(User, db.session.get(App, app_id).developer_id)
                now = isolated_app.extensions["souk.clock"].now()
                device.decide(db.session, user_code=code, developer=developer, approve=approve, now=now)
                db.session.commit()
                return
            db.session.rollback()
            time.sleep(0.05)


def _login_in_the_browser(dev, live, isolated_app, monkeypatch, *, approve: bool) -> Ran:
    monkeypatch.setitem(isolated_app.config, "SOUK_DEVICE_POLL_INTERVAL", 1)
    browser = threading.Thread(target=_decide_when_asked, args=(isolated_app, live.app_id), kwargs={"approve": approve})
    browser.start()
    try:
        return dev("login", "--client-id", live.client_id)
    finally:
        browser.join(20)


def test_login_with_the_client_id_alone_is_approved_in_the_browser(dev, live, isolated_app, monkeypatch):
    from souk_platform.oauth.models import AppToken

    result = _login_in_the_browser(dev, live, isolated_app, monkeypatch, approve=True)
    assert result.code == 0, result.err
    assert "/device?user_code=" in result.out and "Waiting for your approval" in result.out
    assert f"as CLI Helper ({live.app_id})" in result.out
    stored = json.loads(credentials_path().read_text())
    assert stored["login"] == "device" and stored["token"].startswith("souk_apt_") and "client_secret" not in stored
    assert f"({live.app_id})" in dev("whoami").out

    logout = dev("logout")
    assert logout.code == 0 and "Signed the login out" in logout.out and not credentials_path().exists()
    with isolated_app.app_context():
        tokens = db.session.scalars(sa.select(AppToken).where(AppToken.approved_by.is_not(None))).all()
        assert tokens and all(token.revoked_at is not None for token in tokens)


def test_a_login_denied_in_the_browser_stores_nothing(dev, live, isolated_app, monkeypatch):
    result = _login_in_the_browser(dev, live, isolated_app, monkeypatch, approve=False)
    assert result.code == 1 and "denied" in result.err
    assert not credentials_path().exists()
    unknown = dev("login", "--client-id", "souk_ci_nobody")
    assert unknown.code == 1 and "knows no app with this client id" in unknown.err


def test_a_pasted_app_token_works_like_the_client_secret(dev, live, isolated_app):
    from souk_platform.oauth.services import issue_app_token

    with isolated_app.app_context():
        _, token = issue_app_token(db.session, app_id=live.app_id, now=isolated_app.extensions["souk.clock"].now())
        db.session.commit()
    assert dev("login", "--token", token).code == 0
    assert f"({live.app_id})" in dev("whoami").out
    result = dev("login", "--token", "souk_apt_unknown")
    assert result.code == 1 and "(401)" in result.err


@pytest.mark.skipif(shutil.which("clang") is None or shutil.which("wasm-ld") is None, reason="needs clang and lld")
def test_init_then_deploy_builds_uploads_and_submits_then_status_shows_the_review(logged_in, live, tmp_path):
    result = logged_in("app", "init", "tea-deals", "--name", 'Tea "Deals"\\')
    assert result.code == 0, result.err
    app_dir = tmp_path / "tea-deals"
    for name in ("manifest.yaml", "listing.json", "app.py", "plugins/discount/plugin.c", "icon.png"):
        assert (app_dir / name).is_file(), name
    assert "verify(request.get_data()" in (app_dir / "app.py").read_text()
    compile((app_dir / "app.py").read_text(), "app.py", "exec")  # the name in its docstring breaks nothing
    assert logged_in("app", "init", "tea-deals").code == 2  # not over an existing app

    result = logged_in("app", "deploy", "tea-deals", "--submit")
    assert result.code == 0, result.err
    assert "Building tea-deals/plugins/discount" in result.out
    assert "Uploading plugins/discount/plugin.wasm" in result.out and "stored as plg_" in result.out
    assert "submission 1 (" in result.out

    # Deploying again publishes nothing new and uploads nothing: the module is there.
    again = logged_in("app", "deploy", "tea-deals", "--json")
    assert again.code == 0, again.err
    document = json.loads(again.out)
    assert document["uploaded_modules"] == [] and document["version"]["missing_modules"] == []

    status = logged_in("app", "status")
    assert status.code == 0, status.err
    assert 'Tea "Deals"' in status.out and "last submission 1" in status.out
    assert json.loads(logged_in("app", "status", "--json").out)["listing"]["submissions"][0]["number"] == 1


def test_deploy_lists_the_manifests_errors_and_a_missing_module(logged_in, tmp_path):
    app_dir = tmp_path / "broken"
    app_dir.mkdir()
    (app_dir / "manifest.yaml").write_text(
        "name: Broken\nredirect_uris: [http://127.0.0.1/cb]\nscopes: [read_nothing]\n"
    )
    result = logged_in("app", "deploy", "broken")
    assert result.code == 1 and "(422)" in result.err and "read_nothing" in result.err

    manifest = MANIFEST + "plugins:\n  - point: cart.discounts\n    module: plugins/missing.wasm\n"
    (app_dir / "manifest.yaml").write_text(manifest)
    result = logged_in("app", "deploy", "broken")
    assert result.code == 2 and "plugins/missing.wasm" in result.err and "does not exist" in result.err
    assert logged_in("app", "deploy", "nowhere").code == 2


def test_trigger_sends_a_signed_test_event_to_the_apps_endpoint(logged_in, live, isolated_app):
    result = logged_in("webhooks", "trigger", "order.paid")
    assert result.code == 0, result.err
    assert "Sent a test order.paid to 1 endpoint(s)" in result.out and "https://hooks.example.com/souk" in result.out
    delivery_id = result.out.split("\n")[1].split()[0]
    with isolated_app.app_context():
        delivery = db.session.get(WebhookDelivery, delivery_id)
        body = json.loads(delivery.body)
    assert (delivery.event_type, body["type"], body["shop_id"]) == ("order.paid", "order.paid", live.shop_id)
    assert body["data"]["test"] is True and body["data"]["version"] == 1 and "total" in body["data"]

    result = logged_in("webhooks", "trigger", "order.nonsense")
    assert result.code == 1 and "Unknown event type (422)" in result.err and "- type:" in result.err
    result = logged_in("webhooks", "trigger", "customer.created")  # a real type nobody here subscribes to
    assert result.code == 1 and "(409)" in result.err


def test_webhooks_secret_prints_the_apps_secret_alone_and_rotates_it(logged_in, live, isolated_app):
    first = logged_in("webhooks", "secret")
    assert first.code == 0, first.err
    secret = first.out.strip()
    assert secret.startswith("whsec_") and " " not in secret and "signed with it" in first.err
    assert logged_in("webhooks", "secret").out.strip() == secret  # issued once, then the same

    rotated = logged_in("webhooks", "secret", "--rotate")
    assert rotated.code == 0, rotated.err
    new, previous = rotated.out.split()  # both, space-separated, as the scaffold's handler reads them
    assert previous == secret and new != secret and "signs too until" in rotated.err
    as_json = json.loads(logged_in("webhooks", "secret", "--json").out)
    assert as_json["secret"] == new and as_json["previous_secret"] == secret


def _listen_in_background(dev, receiver: Receiver) -> tuple[threading.Thread, dict[str, Ran]]:
    ran: dict[str, Ran] = {}

    def listen() -> None:
        ran["result"] = dev("webhooks", "listen", "--forward-to", receiver.url, "--max-events", "1", "--timeout", "20")

    thread = threading.Thread(target=listen, daemon=True)
    thread.start()
    return thread, ran


def _clear_sessions(isolated_app, app_id: str) -> None:
    with isolated_app.app_context():
        sessions = sa.select(WebhookListenSession.id).where(WebhookListenSession.app_id == app_id)
        db.session.execute(sa.delete(WebhookListenEvent).where(WebhookListenEvent.session_id.in_(sessions)))
        db.session.execute(sa.delete(WebhookListenSession).where(WebhookListenSession.app_id == app_id))
        db.session.commit()


def _wait_for_session(isolated_app, app_id: str) -> None:
    deadline = time.monotonic() + 10
    with isolated_app.app_context():
        while time.monotonic() < deadline:
            found = db.session.scalar(sa.select(WebhookListenSession.id).where(WebhookListenSession.app_id == app_id))
            db.session.rollback()
            if found:
                return
            time.sleep(0.05)
    raise AssertionError("the CLI opened no listen session")


def test_listen_forwards_a_real_order_paid_delivery_with_its_signature(logged_in, live, isolated_app, receiver):
    _clear_sessions(isolated_app, live.app_id)
    thread, ran = _listen_in_background(logged_in, receiver)
    _wait_for_session(isolated_app, live.app_id)
    with isolated_app.app_context():
        clock = isolated_app.extensions["souk.clock"]
        order = {"id": "ord_cli", "status": "paid", "currency": "CNY", "total": 12000, "version": 3}
        emit(
            db.session,
            shop_id=live.shop_id,
            type="order.paid",
            subject_type="order",
            subject_id="ord_cli",
            payload=order,
        )
        _, delivery_ids = dispatch_outbox(db.session, clock=FrozenClock(clock.now()))
        db.session.commit()
    thread.join(25)
    assert not thread.is_alive()
    result = ran["result"]
    assert result.code == 0, result.err
    assert receiver.arrived.is_set() and len(receiver.requests) == 1
    headers, body = receiver.requests[0]
    assert headers["webhook-id"] in delivery_ids
    event = verify(body, headers, live.webhook_secret, now=int(headers["webhook-timestamp"]))
    assert event["type"] == "order.paid" and event["data"]["id"] == "ord_cli"
    line = next(line for line in result.out.splitlines() if headers["webhook-id"] in line)
    assert "order.paid" in line and line.endswith("→ 204")


def test_listen_tells_when_the_local_endpoint_is_down_and_another_apps_session_is_404(logged_in, live, isolated_app):
    _clear_sessions(isolated_app, live.app_id)
    dead = Receiver("http://127.0.0.1:9/webhooks/souk")  # the discard port: nothing listens
    thread, ran = _listen_in_background(logged_in, dead)
    _wait_for_session(isolated_app, live.app_id)
    assert logged_in("webhooks", "trigger", "order.paid").code == 0
    thread.join(25)
    result = ran["result"]
    assert result.code == 0 and "→ not delivered:" in result.out

    with isolated_app.app_context():
        session_id = db.session.scalar(
            sa.select(WebhookListenSession.id).where(WebhookListenSession.app_id == live.app_id)
        )
        other_developer = UserFactory(is_developer=True)
        other, _, _ = register_app(db.session, developer=other_developer, manifest_text=MANIFEST)
        from souk_platform.oauth.services import issue_app_token

        _, token = issue_app_token(db.session, app_id=other.id, now=isolated_app.extensions["souk.clock"].now())
        db.session.commit()
    client = isolated_app.test_client()
    response = client.get(
        f"/api/v1/app/webhooks/listen-sessions/{session_id}/events", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 404 and response.get_json()["type"].endswith("webhook-listen-session-not-found")
