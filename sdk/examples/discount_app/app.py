"""A Souk app in one file: install through OAuth, ask for the plan, receive order.paid webhooks.

Run it (see README.md for the whole walk-through)::

    SOUK_API_URL=http://127.0.0.1:5000 SOUK_CLIENT_ID=… SOUK_CLIENT_SECRET=… \\
        flask --app app run --port 8000

Only ``souk_sdk`` and Flask are used. Installations are kept in a JSON file in the app's instance
folder: enough for an example, not for production (tokens and secrets are stored in the clear there;
a real app keeps them in a database, encrypted).
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from flask import Flask, abort, current_app, redirect, request, session, url_for
from markupsafe import escape
from werkzeug.wrappers import Response

from souk_sdk import Client, OAuthClient, OAuthError, SoukError, Token
from souk_sdk.oauth import RefreshingToken
from souk_sdk.webhooks import WebhookVerificationError, verify

#: What the app asks each shop for; a subset of manifest.yaml's ``scopes``.
SCOPES = ("read_orders", "read_shop", "write_webhooks")
#: The plan of manifest.yaml's ``pricing`` the app asks the merchant to approve after installing.
PLAN_ID = "standard"
#: The events the app subscribes each installation to.
WEBHOOK_TOPICS = ("order.paid",)

log = logging.getLogger("discount_app")


def create_app(config: Mapping[str, Any] | None = None, *, instance_path: str | None = None) -> Flask:
    """The example app; settings come from ``config``, else from the environment (read once, here)."""
    app = Flask(__name__, instance_path=instance_path)
    app.config.from_mapping(
        # The session holds the OAuth state and PKCE verifier between /install and the callback.
        SECRET_KEY=os.environ.get("APP_SECRET_KEY") or secrets.token_hex(32),
        SOUK_API_URL=os.environ.get("SOUK_API_URL", "http://127.0.0.1:5000"),
        SOUK_CLIENT_ID=os.environ.get("SOUK_CLIENT_ID", ""),
        # Empty for a public client: PKCE alone then protects the code exchange.
        SOUK_CLIENT_SECRET=os.environ.get("SOUK_CLIENT_SECRET") or None,
        # Space- or comma-separated whsec_ secrets of endpoints made by hand; two during a rotation.
        SOUK_WEBHOOK_SECRET=os.environ.get("SOUK_WEBHOOK_SECRET", ""),
        # Where Souk reaches this app: the redirect URI and the webhook URL are built on it.
        APP_URL=os.environ.get("APP_URL", "http://127.0.0.1:8000"),
    )
    app.config.from_mapping(config or {})
    if not app.config["SOUK_CLIENT_ID"]:
        raise RuntimeError("Set SOUK_CLIENT_ID (the developer console shows it) before starting the app.")
    if not log.handlers:  # `flask run` shows warnings only; this app's lines are the point of it
        log.addHandler(logging.StreamHandler())
        log.setLevel(logging.INFO)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.extensions["discount_app.store"] = InstallationStore(Path(app.instance_path) / "installations.json")

    app.add_url_rule("/", view_func=home)
    app.add_url_rule("/install", view_func=install)
    app.add_url_rule("/oauth/callback", view_func=oauth_callback)
    app.add_url_rule("/installations/<installation_id>", view_func=installation_status)
    app.add_url_rule("/billing/return", view_func=billing_return)
    app.add_url_rule("/webhooks", view_func=receive_webhook, methods=["POST"])
    return app


class InstallationStore:
    """Installations by id in one JSON file, rewritten whole on each change (atomically)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def all(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            return self._read()

    def get(self, installation_id: str) -> dict[str, Any] | None:
        return self.all().get(installation_id)

    def update(self, installation_id: str, **fields: Any) -> None:
        with self._lock:
            installations = self._read()
            installations.setdefault(installation_id, {}).update(fields)
            scratch = self.path.with_suffix(".tmp")
            scratch.write_text(json.dumps(installations, indent=2, ensure_ascii=False), encoding="utf-8")
            scratch.chmod(0o600)
            scratch.replace(self.path)

    def webhook_secrets(self) -> list[str]:
        return [entry["webhook_secret"] for entry in self.all().values() if entry.get("webhook_secret")]

    def _read(self) -> dict[str, dict[str, Any]]:
        if not self.path.exists():
            return {}
        installations: dict[str, dict[str, Any]] = json.loads(self.path.read_text(encoding="utf-8"))
        return installations


def _store() -> InstallationStore:
    store: InstallationStore = current_app.extensions["discount_app.store"]
    return store


def _oauth() -> OAuthClient:
    config = current_app.config
    return OAuthClient(
        config["SOUK_API_URL"],
        config["SOUK_CLIENT_ID"],
        config["SOUK_CLIENT_SECRET"],
        redirect_uri=_app_url("oauth_callback"),
    )


def _app_url(endpoint: str) -> str:
    """This app's public address for ``endpoint`` (APP_URL, not the request's host: Souk checks it)."""
    return str(current_app.config["APP_URL"]).rstrip("/") + url_for(endpoint)


def _client_for(installation_id: str) -> Client:
    """An API client with the installation's token, refreshed (and the new one saved) when it is due."""
    saved = _store().get(installation_id)
    if saved is None:
        abort(404)
    token = Token(
        access_token=saved["access_token"],
        token_type="Bearer",
        expires_at=saved["expires_at"],
        refresh_token=saved["refresh_token"],
        scopes=tuple(saved["scopes"]),
        raw={},
    )
    store = _store()

    def save(new: Token) -> None:  # the old refresh token is dead from now on
        store.update(installation_id, **_token_fields(new))

    return Client(current_app.config["SOUK_API_URL"], RefreshingToken(_oauth(), token, on_refresh=save))


def _token_fields(token: Token) -> dict[str, Any]:
    return {
        "access_token": token.access_token,
        "refresh_token": token.refresh_token,
        "expires_at": token.expires_at,
        "scopes": list(token.scopes),
    }


def home() -> str:
    rows = "".join(
        f'<li><a href="{url_for("installation_status", installation_id=installation_id)}">'
        f"{escape(entry.get('shop_name') or entry.get('shop_id', '?'))}</a></li>"
        for installation_id, entry in _store().all().items()
    )
    return (
        "<h1>Tiered Discount Example</h1>"
        f'<p><a href="{url_for("install")}">Install on a Souk shop</a></p>'
        f"<h2>Installations</h2><ul>{rows or '<li>none yet</li>'}</ul>"
    )


def install() -> Response:
    """Send the merchant to Souk's consent page, with a fresh state and PKCE verifier kept in the session."""
    with _oauth() as oauth:
        authorization = oauth.authorization_url(SCOPES, shop_id=request.args.get("shop_id") or None)
    session["oauth_state"] = authorization.state
    session["oauth_verifier"] = authorization.code_verifier
    return redirect(authorization.url)


def oauth_callback() -> Response | tuple[str, int]:
    """Exchange the code, keep the tokens, subscribe to order.paid, and ask the merchant for the plan."""
    state, verifier = session.pop("oauth_state", None), session.pop("oauth_verifier", None)
    if state is None or verifier is None:
        return "This installation was not started here (or was finished already): start again at /install.", 400
    with _oauth() as oauth:
        try:
            code = oauth.parse_callback(request.url, state=state)
            token = oauth.exchange_code(code, code_verifier=verifier)
        except OAuthError as error:
            return f"Souk did not grant the installation: {error.error} {error.error_description}".strip(), 400

    with Client(current_app.config["SOUK_API_URL"], token.access_token) as souk:
        shop = souk.shop.get()
        try:
            subscription = souk.webhook_subscriptions.create(
                {"url": _app_url("receive_webhook"), "topics": list(WEBHOOK_TOPICS), "description": "discount_app"}
            )
        except SoukError as error:  # the app still works without it; say why in the log
            log.warning("could not subscribe to %s: %s", ", ".join(WEBHOOK_TOPICS), error)
            subscription = None
        plan = souk.billing.create_subscription({"plan_id": PLAN_ID, "return_url": _app_url("billing_return")})

    _store().update(
        plan["installation_id"],
        shop_id=shop["id"],
        shop_name=shop.get("name", ""),
        plan_subscription_id=plan["id"],
        webhook_subscription_id=subscription["id"] if subscription else None,
        webhook_secret=subscription["secret"] if subscription else None,
        **_token_fields(token),
    )
    log.info("installed on %s (%s); plan %s is %s", shop["id"], plan["installation_id"], PLAN_ID, plan["status"])
    # Pending: the merchant approves the charge on Souk's page, which then comes back to /billing/return.
    return redirect(plan.get("confirmation_url") or _app_url("billing_return") + "?" + urlencode({"done": "1"}))


def installation_status(installation_id: str) -> str:
    """The shop's billing status for this app, read with the installation's (refreshed) token."""
    with _client_for(installation_id) as souk:
        status = souk.billing.current_subscription()
    return f"<h1>{escape(str(status.get('status', '?')))}</h1><pre>{escape(json.dumps(status, indent=2))}</pre>"


def billing_return() -> str:
    return "<h1>Thank you</h1><p>Configure your spend tiers on the shop's Plugins page in Souk.</p>"


def receive_webhook() -> Response | tuple[str, int]:
    """Verify the Standard Webhooks signature, log order.paid, answer 2xx at once (400 if not from Souk)."""
    try:
        event = verify(request.get_data(), dict(request.headers.items()), _webhook_secrets())
    except WebhookVerificationError as error:
        log.warning("refused a webhook delivery: %s", error.reason)
        return f"refused: {error.reason}", 400
    # Delivery is at least once: a real app would skip a webhook-id it has already handled.
    if event.get("type") == "order.paid":
        order = event.get("data") or {}
        log.info(
            "order.paid %s total %s %s (shop %s)",
            order.get("id"),
            order.get("total"),
            order.get("currency"),
            event.get("shop_id"),
        )
    return Response(status=204)


def _webhook_secrets() -> list[str]:
    configured = str(current_app.config["SOUK_WEBHOOK_SECRET"]).replace(",", " ").split()
    found = configured + _store().webhook_secrets()
    if not found:
        abort(503, "No webhook secret yet: install the app on a shop, or set SOUK_WEBHOOK_SECRET.")
    return found


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    create_app().run(host="127.0.0.1", port=8000)
