"""The developer console: sign-up, the app list, registering apps, versions and client secrets.

Only the developer who owns an app sees it; anyone else gets a 404 that does not confirm it exists.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

import yaml
from flask import Blueprint, abort, current_app, flash, redirect, render_template, session, url_for
from flask_babel import gettext as _

from souk_platform.apps import services
from souk_platform.apps.errors import ClientTypeChange, InvalidDeveloperSignup, InvalidManifest
from souk_platform.apps.forms import DeveloperSignupForm, ManifestForm
from souk_platform.apps.models import App
from souk_platform.auth.models import User
from souk_platform.core.clock import app_now
from souk_platform.core.errors import Conflict, NotFound
from souk_platform.db import db
from souk_platform.oauth import device
from souk_platform.web.auth import current_user, login_required
from souk_platform.web.forms import EmptyForm
from souk_platform.webhooks.app_endpoints import (
    app_webhook_secret,
    current_app_webhook_secret,
    rotate_app_webhook_secret,
)
from souk_platform.webhooks.runtime import runtime_for as webhook_runtime_for

bp = Blueprint("developers", __name__)

F = TypeVar("F", bound=Callable[..., Any])

EXAMPLE_MANIFEST = """\
name: My app
description: What it does for merchants.
client_type: confidential
redirect_uris:
  - https://example.com/oauth/callback
scopes:
  - read_orders
webhooks:
  - topic: order.paid
    uri: https://example.com/webhooks
pricing:
  - id: free
    kind: free
"""


def developer_required(view: F) -> F:
    """The logged-in user must have a developer account (403 otherwise)."""

    @functools.wraps(view)
    @login_required
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        user = current_user()
        if user is None or not user.is_developer:
            abort(403, description=_("The developer console is for developer accounts."))
        return view(*args, **kwargs)

    return cast(F, wrapper)


def _developer() -> User:
    user = current_user()
    assert user is not None
    return user


@bp.route("/developers/signup", methods=["GET", "POST"])
def signup() -> Any:
    user = current_user()
    if user is not None and user.is_developer:
        return redirect(url_for("developers.apps"))
    form = DeveloperSignupForm()
    if form.validate_on_submit():
        try:
            developer = services.sign_up_developer(
                db.session, email=form.email.data or "", name=form.name.data or "", password=form.password.data or ""
            )
        except Conflict:
            db.session.rollback()
            form.email.errors = [_("An account with this email already exists. Log in instead.")]
        except InvalidDeveloperSignup as exc:
            db.session.rollback()
            for field, messages in (exc.errors or {}).items():
                getattr(form, field).errors = list(messages)
        else:
            db.session.commit()
            session.clear()
            session["user_id"] = developer.id
            flash(_("Welcome! Your developer account is ready."), "success")
            return redirect(url_for("developers.apps"))
    return render_template("developer/signup.html", form=form)


@bp.get("/developer/apps")
@developer_required
def apps() -> str:
    listed = services.list_developer_apps(db.session, developer_id=_developer().id)
    return render_template("developer/apps.html", summaries=listed)


@bp.route("/developer/apps/new", methods=["GET", "POST"])
@developer_required
def new_app() -> Any:
    form = ManifestForm()
    problems: list[dict[str, Any]] = []
    if form.validate_on_submit():
        try:
            app, _version, secret = services.register_app(
                db.session, developer=_developer(), manifest_text=form.manifest.data or ""
            )
        except InvalidManifest as exc:
            db.session.rollback()
            problems = exc.problems
        else:
            db.session.commit()
            flash(_("App registered."), "success")
            return _render_app(app, shown_secret=secret)
    elif not form.is_submitted():
        form.manifest.data = EXAMPLE_MANIFEST
    return render_template("developer/new_app.html", form=form, problems=problems)


def _owned_app(app_id: str) -> App:
    app = db.session.scalar(db.select(App).where(App.id == app_id, App.developer_id == _developer().id))
    if app is None:
        abort(404)  # another developer's app: never confirm it exists
    return app


def _render_app(
    app: App, *, shown_secret: str | None = None, form: ManifestForm | None = None, problems: list[Any] | None = None
) -> str:
    current = services.current_version(app)
    if form is None:
        form = ManifestForm(formdata=None)
        form.manifest.data = _as_yaml(current.manifest)
    return render_template(
        "developer/app.html",
        app=app,
        current=current,
        versions=services.list_versions(db.session, app=app),
        installs=services.count_active_installations(db.session, app_id=app.id),
        shown_secret=shown_secret,
        webhook_secret=current_app_webhook_secret(app, box=webhook_runtime_for(current_app).box),
        webhook_endpoints=sorted({hook["uri"] for hook in current.manifest.get("webhooks") or []}),
        device_logins=device.device_logins(db.session, app_id=app.id, now=app_now()),
        form=form,
        problems=problems or [],
        rotate_form=EmptyForm(),
    )


def _as_yaml(manifest: dict[str, Any]) -> str:
    return yaml.safe_dump(manifest, allow_unicode=True, sort_keys=False)


@bp.get("/developer/apps/<app_id>")
@developer_required
def app_detail(app_id: str) -> str:
    return _render_app(_owned_app(app_id))


@bp.post("/developer/apps/<app_id>/versions")
@developer_required
def publish(app_id: str) -> Any:
    app = _owned_app(app_id)
    form = ManifestForm()
    if not form.validate_on_submit():
        return _render_app(app, form=form)
    before = app.current_version_id
    try:
        version = services.publish_version(db.session, app=app, manifest_text=form.manifest.data or "")
    except InvalidManifest as exc:
        db.session.rollback()
        return _render_app(app, form=form, problems=exc.problems)
    except ClientTypeChange:
        db.session.rollback()
        flash(_("An app's client type cannot change. Register a new app instead."), "error")
        return _render_app(app, form=form)
    db.session.commit()
    if version.id == before:
        flash(_("The manifest is the same as the current version: no new version was published."), "info")
    else:
        flash(_("Version %(number)d published.", number=version.number), "success")
    return redirect(url_for("developers.app_detail", app_id=app.id))


@bp.post("/developer/apps/<app_id>/rotate-secret")
@developer_required
def rotate_secret(app_id: str) -> Any:
    app = _owned_app(app_id)
    if not EmptyForm().validate_on_submit():
        return redirect(url_for("developers.app_detail", app_id=app.id))
    if app.client_type != "confidential":
        flash(_("Public clients have no client secret."), "error")
        return redirect(url_for("developers.app_detail", app_id=app.id))
    secret = services.rotate_client_secret(db.session, app=app, now=app_now())
    db.session.commit()
    flash(_("New client secret issued. The previous one keeps working for 24 hours."), "success")
    return _render_app(app, shown_secret=secret)


@bp.post("/developer/apps/<app_id>/rotate-webhook-secret")
@developer_required
def rotate_webhook_secret(app_id: str) -> Any:
    app = _owned_app(app_id)
    if not EmptyForm().validate_on_submit():
        return redirect(url_for("developers.app_detail", app_id=app.id))
    box = webhook_runtime_for(current_app).box
    had_one = current_app_webhook_secret(app, box=box) is not None
    if had_one:
        rotate_app_webhook_secret(db.session, app=app, box=box, now=app_now())
        flash(_("New webhook secret issued. The previous one keeps signing beside it for 24 hours."), "success")
    else:
        app_webhook_secret(db.session, app=app, box=box)
        flash(_("Webhook secret issued."), "success")
    db.session.commit()
    return redirect(url_for("developers.app_detail", app_id=app.id) + "#webhook-secret")


@bp.post("/developer/apps/<app_id>/logins/<token_id>/sign-out")
@developer_required
def sign_out_login(app_id: str, token_id: str) -> Any:
    app = _owned_app(app_id)
    if EmptyForm().validate_on_submit():
        try:
            now = app_now()
            device.sign_out(db.session, app_id=app.id, token_id=token_id, now=now)
        except NotFound:
            abort(404)
        db.session.commit()
        flash(_("Signed out: that souk-dev login no longer works."), "success")
    return redirect(url_for("developers.app_detail", app_id=app.id) + "#device-logins")
