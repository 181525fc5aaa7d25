"""Developer-level endpoints: called with a client-credentials app token, not a shop token.

App tokens (``souk_apt_…``) live in their own table, so ``requires(scope)`` on shop routes never
resolves them (401 there). Here ``requires_app_token`` accepts only app tokens: a shop staff or
installation token gets 403 ``app-token-required``, anything else 401.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

import marshmallow as ma
from flask import current_app, g, request
from flask.views import MethodView

from souk_platform.api import transactional
from souk_platform.api.parsing import Blueprint
from souk_platform.apps.models import App
from souk_platform.apps.services import count_active_installations, current_version
from souk_platform.auth.errors import InvalidToken
from souk_platform.auth.services import resolve_token
from souk_platform.core.clock import app_now
from souk_platform.db import db
from souk_platform.oauth import errors
from souk_platform.oauth.services import resolve_app_token, revoke_app_token
from souk_platform.ratelimit.limiter import charge_app_request

F = TypeVar("F", bound=Callable[..., Any])

blp = Blueprint("app", __name__, url_prefix="/app", description="Developer-level calls with an app token")

_CHALLENGE = 'Bearer realm="souk-apps", error="invalid_token"'


def requires_app_token(view: F) -> F:
    """Authenticate a client-credentials app token; the view reads the app from ``g.calling_app``."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        scheme, _, value = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise errors.InvalidAppToken(
                "Send an app token from the client_credentials grant as 'Authorization: Bearer <token>'.",
                headers={"WWW-Authenticate": 'Bearer realm="souk-apps"'},
            )
        now = app_now()
        try:
            g.calling_app = resolve_app_token(db.session, value.strip(), now=now)
        except errors.InvalidAppToken as exc:
            try:
                resolve_token(db.session, value.strip(), current_app.extensions["souk.clock"])
            except InvalidToken:
                exc.headers["WWW-Authenticate"] = _CHALLENGE
                raise exc from None
            raise errors.AppTokenRequired(
                "This endpoint needs an app token from the client_credentials grant; "
                "shop staff and installation tokens cannot call it.",
                headers={"WWW-Authenticate": 'Bearer realm="souk-apps", error="insufficient_scope"'},
            ) from None
        charge_app_request(g.calling_app.id)
        return view(*args, **kwargs)

    documented = Blueprint.doc(
        security=[{"bearerAuth": []}],
        description="Needs an app token (`souk_apt_…`) from `POST /oauth/token` with "
        "`grant_type=client_credentials`; shop tokens get 403.",
        responses={"401": "UNAUTHORIZED", "403": "FORBIDDEN", "429": "TOO_MANY_REQUESTS"},
    )(wrapper)
    return cast(F, documented)


class AppVersionSummarySchema(ma.Schema):
    id = ma.fields.String()
    number = ma.fields.Integer()
    scopes = ma.fields.List(ma.fields.String())
    redirect_uris = ma.fields.List(ma.fields.String())


class CallingAppSchema(ma.Schema):
    id = ma.fields.String()
    name = ma.fields.String()
    client_id = ma.fields.String()
    client_type = ma.fields.String()
    status = ma.fields.String()
    current_version = ma.fields.Nested(AppVersionSummarySchema)
    installation_count = ma.fields.Integer(metadata={"description": "Active installations on shops"})


@blp.route("")
class CallingApp(MethodView):
    @requires_app_token
    @blp.response(200, CallingAppSchema)
    def get(self) -> Any:
        """The calling app, its current version and how many shops have it installed"""
        app: App = g.calling_app
        return {
            "id": app.id,
            "name": app.name,
            "client_id": app.client_id,
            "client_type": app.client_type,
            "status": app.status,
            "current_version": current_version(app),
            "installation_count": count_active_installations(db.session, app_id=app.id),
        }


@blp.route("/token")
class CallingToken(MethodView):
    @requires_app_token
    @transactional
    @blp.response(204)
    def delete(self) -> None:
        """Revoke the app token of this request (how `souk-dev logout` signs its device login out)"""
        plaintext = request.headers["Authorization"].partition(" ")[2].strip()
        revoke_app_token(db.session, plaintext, now=app_now())
