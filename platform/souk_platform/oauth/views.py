"""OAuth endpoints: the consent page, token, revocation, introspection and RFC 8414 metadata.

Errors here are RFC 6749 JSON (or redirects to the client) produced by authlib, never problem+json.
The machine endpoints take form bodies from other servers, so they are exempt from CSRF; the consent
form is not.
"""

from __future__ import annotations

import json
from typing import Any, cast
from urllib.parse import urlencode

from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749.util import scope_to_list
from authlib.oauth2.rfc8628 import DEVICE_CODE_GRANT_TYPE
from flask import Blueprint, Flask, Response, current_app, jsonify, redirect, render_template, request, url_for
from flask.blueprints import BlueprintSetupState

from souk_platform.auth.models import User
from souk_platform.auth.scopes import all_scopes, describe
from souk_platform.core.clock import app_now
from souk_platform.core.errors import SoukError
from souk_platform.db import db
from souk_platform.installations import services as installations
from souk_platform.oauth import device
from souk_platform.oauth.server import (
    ALL_AUTH_METHODS,
    SECRET_AUTH_METHODS,
    Consent,
    OAuthClient,
    SoukAuthorizationServer,
    init_authorization_server,
)
from souk_platform.shops.services import shops_of
from souk_platform.web.auth import current_user, login_required, signed_in_user
from souk_platform.web.forms import EmptyForm
from souk_platform.webhooks.runtime import runtime_for as webhook_runtime_for

bp = Blueprint("oauth", __name__)


def _server() -> SoukAuthorizationServer:
    server: SoukAuthorizationServer = current_app.extensions["souk.oauth"]
    return server


def _oauth_error_page(error: OAuth2Error) -> tuple[str, int]:
    """An error we must not redirect (the client or its redirect URI is not trusted): tell the person."""
    return render_template("oauth/error.html", error=error.error, description=error.description or ""), 400


@bp.route("/oauth/authorize", methods=["GET", "POST"])
def authorize() -> Any:
    """Validate the request, let a shop owner pick a shop and consent, then redirect with a code."""
    server = _server()
    user = current_user()
    try:
        grant = server.get_consent_grant(end_user=user)
    except OAuth2Error as error:
        if error.redirect_uri:
            return server.handle_error_response(None, error)
        return _oauth_error_page(error)
    if user is None:
        return redirect(url_for("web.login", next=request.full_path))

    owned = [shop for shop, role in shops_of(db.session, user.id) if role == "owner"]
    if not owned:
        return render_template("oauth/no_shop.html"), 403
    chosen = request.args.get("shop_id")
    shop = next((s for s in owned if s.id == chosen), None) if chosen else (owned[0] if len(owned) == 1 else None)
    if shop is None:
        if chosen:  # not a shop this person owns: ask again rather than confirm it exists
            return render_template("oauth/choose_shop.html", shops=_shop_links(owned), unknown=True), 404
        return render_template("oauth/choose_shop.html", shops=_shop_links(owned), unknown=False)

    client: OAuthClient = grant.client
    scopes = scope_to_list(grant.request.scope) or []
    installation = installations.active_installation(db.session, app_id=client.app.id, shop_id=shop.id)
    form = EmptyForm()
    if request.method == "POST" and form.validate_on_submit():
        if request.form.get("decision") != "approve":
            return server.create_authorization_response(grant=grant, grant_user=None)  # error=access_denied
        installation = installations.install_app(
            db.session,
            app=client.app,
            shop_id=shop.id,
            user_id=user.id,
            scopes=scopes,
            now=app_now(),
            box=webhook_runtime_for(current_app).box,
        )
        response = server.create_authorization_response(
            grant=grant, grant_user=Consent(user_id=user.id, installation=installation, scopes=scopes)
        )
        if response.status_code == 302 and "code=" in response.headers.get("Location", ""):
            db.session.commit()
        else:
            db.session.rollback()
        return response

    new_scopes = set(installations.missing_scopes(installation, scopes))
    return render_template(
        "oauth/consent.html",
        form=form,
        app=client.app,
        developer=db.session.get(User, client.app.developer_id),
        shop=shop,
        scopes=[(scope, describe(scope), scope in new_scopes) for scope in scopes],
        installation=installation,
        redirect_uri=grant.redirect_uri,
        action=request.full_path,
    )


def _shop_links(shops: list[Any]) -> list[tuple[Any, str]]:
    args = [(key, value) for key, value in request.args.items(multi=True) if key != "shop_id"]
    return [(shop, url_for("oauth.authorize") + "?" + urlencode([*args, ("shop_id", shop.id)])) for shop in shops]


def _endpoint(respond: Any) -> Response:
    """Run an authlib endpoint in one unit of work.

    It commits even when authlib answers with an error, because some refusals must stick: a reused
    code or refresh token revokes its family before the request fails. Nothing else writes before
    validation passes.
    """
    try:
        response: Response = respond()
    except OAuth2Error as error:  # raised outside authlib's own handling (e.g. plain http off loopback)
        db.session.rollback()
        return Response(*_error_triplet(error))
    except BaseException:
        db.session.rollback()
        raise
    db.session.commit()
    return response


def _error_triplet(error: OAuth2Error) -> tuple[str, int, list[tuple[str, str]]]:
    status, body, headers = error()
    return json.dumps(body), status, headers


@bp.post("/oauth/token")
def token() -> Response:
    return _endpoint(lambda: _server().create_token_response())


@bp.post("/oauth/device_authorization")
def device_authorization() -> Response:
    """RFC 8628 §3.1: a developer tool asks for a device code and a user code to show its developer."""
    return _endpoint(lambda: _server().create_endpoint_response("device_authorization"))


@bp.route("/device", methods=["GET", "POST"])
@login_required
def device_page() -> Any:
    """The developer confirms the code their tool shows, and approves or denies its login."""
    typed = (request.values.get("user_code") or "").strip()
    form = EmptyForm()
    now = app_now()
    if not typed:
        return render_template("oauth/device.html", form=form, stage="enter")
    try:
        if request.method == "POST" and form.validate_on_submit() and request.form.get("decision"):
            approve = request.form["decision"] == "approve"
            app = device.decide(db.session, user_code=typed, developer=signed_in_user(), approve=approve, now=now)
            db.session.commit()
            return render_template("oauth/device.html", form=form, stage="approved" if approve else "denied", app=app)
        _row, app = device.pending_login(db.session, user_code=typed, now=now)
    except SoukError as error:
        db.session.rollback()
        return render_template("oauth/device.html", form=form, stage="enter", typed=typed, error=error), error.status
    mine = app.developer_id == signed_in_user().id
    return render_template(
        "oauth/device.html",
        form=form,
        stage="confirm",
        app=app,
        mine=mine,
        user_code=device.display_user_code(device.normalise_user_code(typed)),
        days=device.DEVICE_TOKEN_LIFETIME.days,
    )


@bp.post("/oauth/revoke")
def revoke() -> Response:
    return _endpoint(lambda: _server().create_endpoint_response("revocation"))


@bp.post("/oauth/introspect")
def introspect() -> Response:
    return _endpoint(lambda: _server().create_endpoint_response("introspection"))


@bp.get("/.well-known/oauth-authorization-server")
def metadata() -> Response:
    """RFC 8414 authorization server metadata; the issuer is ``SOUK_PUBLIC_URL``."""
    base = current_app.config["SOUK_PUBLIC_URL"].rstrip("/")
    return jsonify(
        {
            "issuer": base,
            "authorization_endpoint": f"{base}/oauth/authorize",
            "token_endpoint": f"{base}/oauth/token",
            "revocation_endpoint": f"{base}/oauth/revoke",
            "introspection_endpoint": f"{base}/oauth/introspect",
            "scopes_supported": list(all_scopes()),
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "device_authorization_endpoint": f"{base}/oauth/device_authorization",
            "grant_types_supported": [
                "authorization_code",
                "refresh_token",
                "client_credentials",
                DEVICE_CODE_GRANT_TYPE,
            ],
            "token_endpoint_auth_methods_supported": ALL_AUTH_METHODS,
            "revocation_endpoint_auth_methods_supported": ALL_AUTH_METHODS,
            "introspection_endpoint_auth_methods_supported": SECRET_AUTH_METHODS,
            "code_challenge_methods_supported": ["S256"],
            "service_documentation": f"{base}/api/v1/docs",
            "ui_locales_supported": ["en", "zh-CN"],
        }
    )


@bp.record_once
def _wire(state: BlueprintSetupState) -> None:
    init_authorization_server(cast(Flask, state.app))
    csrf = state.app.extensions.get("csrf")
    if csrf is not None:  # other servers post here with client credentials, not a browser session
        for view in (token, revoke, introspect, device_authorization):
            csrf.exempt(view)
