"""Plugin pages: the shop owner's Plugins page (order, on/off, settings) and invocation log, and the
developer's "Plugin runs" of an app across the shops that installed it.

Privacy: a developer sees the exact input their plugin received (order lines, the buyer's id and
level, for risk plugins the IP) because replaying it is how a plugin is debugged. That is data the
plugin's code already processed; shops are shown by id only, and inputs go after the retention window.
"""

from __future__ import annotations

import json
from typing import Any, cast

from flask import Blueprint, Flask, Response, abort, flash, redirect, render_template, request, url_for
from flask.blueprints import BlueprintSetupState
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from souk_platform.api.pagination import page_of
from souk_platform.apps.services import get_developer_app
from souk_platform.apps.views import developer_required
from souk_platform.core.clock import app_now
from souk_platform.db import db
from souk_platform.extensions import EXTENSION_POINTS
from souk_platform.plugins import services
from souk_platform.plugins.errors import AlreadyActivated, InvalidPluginConfig
from souk_platform.plugins.forms import ConfigForm, build_form, read_form
from souk_platform.plugins.invocation_log import BUDGET_EXHAUSTED
from souk_platform.plugins.models import PluginInvocation
from souk_platform.shops.services import get_shop
from souk_platform.web.auth import current_user, shop_role_required
from souk_platform.web.forms import EmptyForm
from souk_platform.web.links import add_link
from souk_sandbox import Outcome

bp = Blueprint("plugin_pages", __name__)

PAGE_SIZE = 50
OUTCOMES = (*(outcome.value for outcome in Outcome), BUDGET_EXHAUSTED)


@bp.record_once
def _links(state: BlueprintSetupState) -> None:
    app = cast(Flask, state.app)
    add_link(app, "shop", "plugin_pages.shop_plugins", _l("Plugins"))
    add_link(app, "shop", "plugin_pages.invocations", _l("Plugin log"))
    add_link(app, "app_console", "plugin_pages.app_plugin_runs", _l("Plugin runs"))


def _filters() -> dict[str, str | None]:
    """The log filters from the query string; unknown values are ignored (never an error page)."""
    point = request.args.get("point") or None
    outcome = request.args.get("outcome") or None
    return {
        "point": point if point in EXTENSION_POINTS else None,
        "outcome": outcome if outcome in OUTCOMES else None,
    }


def _export_response(document: dict[str, Any]) -> Response:
    body = json.dumps(document, ensure_ascii=False, indent=2)
    return Response(
        body,
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="{document["id"]}.json"'},
    )


# --- the shop owner's pages ---------------------------------------------------------------------------


@bp.get("/shops/<shop_id>/plugins")
@shop_role_required("owner")
def shop_plugins(shop_id: str) -> str:
    entries = services.shop_plugin_entries(db.session, shop_id=shop_id, now=app_now())
    by_point = {point: [e for e in entries if e.point == point] for point in EXTENSION_POINTS}
    return render_template(
        "plugins/shop_plugins.html",
        shop=get_shop(db.session, shop_id),
        by_point={point: listed for point, listed in by_point.items() if listed},
        points=EXTENSION_POINTS,
        idle=services.unactivated_plugins(db.session, shop_id=shop_id),
        action_form=EmptyForm(),
        window_hours=int(services.HEALTH_WINDOW.total_seconds() // 3600),
    )


@bp.post("/shops/<shop_id>/plugins/<activation_id>/toggle")
@shop_role_required("owner")
def toggle(shop_id: str, activation_id: str) -> Any:
    entry = services.get_shop_plugin_entry(db.session, shop_id=shop_id, activation_id=activation_id, now=app_now())
    if EmptyForm().validate_on_submit():
        on = not entry.enabled
        services.change_shop_plugin(db.session, shop_id=shop_id, entry=entry, changes={"enabled": on})
        db.session.commit()
        flash(_("%(name)s is on.", name=entry.name) if on else _("%(name)s is off.", name=entry.name))
    else:
        flash(_("The form expired; submit it again."), "error")
    return redirect(url_for("plugin_pages.shop_plugins", shop_id=shop_id))


@bp.post("/shops/<shop_id>/plugins/<activation_id>/move")
@shop_role_required("owner")
def move(shop_id: str, activation_id: str) -> Any:
    offsets = {"up": -1, "down": 1}
    if request.form.get("direction") not in offsets:
        abort(400)
    if EmptyForm().validate_on_submit():
        services.move_activation(
            db.session, shop_id=shop_id, activation_id=activation_id, offset=offsets[request.form["direction"]]
        )
        db.session.commit()
    else:
        flash(_("The form expired; submit it again."), "error")
    return redirect(url_for("plugin_pages.shop_plugins", shop_id=shop_id))


@bp.route("/shops/<shop_id>/plugins/activate/<plugin_id>", methods=["GET", "POST"])
@shop_role_required("owner")
def activate(shop_id: str, plugin_id: str) -> Any:
    """Switch on one of the shop's own uploads with its settings (an app's plugins come with the install)."""
    plugin = services.get_plugin(db.session, shop_id=shop_id, plugin_id=plugin_id)
    if plugin.shop_id != shop_id:
        abort(404)
    csrf_form = EmptyForm()
    currency = get_shop(db.session, shop_id).currency
    form = build_form(plugin.config_schema, {}, currency)
    if request.method == "POST":
        form, config = _posted(csrf_form, plugin.config_schema, {}, currency)
        if config is not None:
            try:
                services.create_activation(db.session, shop_id=shop_id, plugin_id=plugin.id, config=config)
            except (InvalidPluginConfig, AlreadyActivated) as error:
                db.session.rollback()
                form.errors.append(error.detail)
            else:
                db.session.commit()
                flash(_("%(name)s is on.", name=plugin.name), "success")
                return redirect(url_for("plugin_pages.shop_plugins", shop_id=shop_id))
    return _settings_page(shop_id, form, csrf_form, name=plugin.name, point=plugin.point, activating=True)


def _posted(
    csrf_form: EmptyForm, schema: dict[str, Any] | None, config: dict[str, Any], currency: str
) -> tuple[ConfigForm, dict[str, Any] | None]:
    if not csrf_form.validate_on_submit():
        form = build_form(schema, config, currency)
        form.errors.append(_("The form expired; submit it again."))
        return form, None
    return read_form(schema, config, request.form, currency)


def _settings_page(
    shop_id: str, form: ConfigForm, csrf_form: EmptyForm, *, name: str, point: str, activating: bool, entry: Any = None
) -> Any:
    status = 422 if form.has_errors and request.method == "POST" else 200
    page = render_template(
        "plugins/settings.html",
        shop=get_shop(db.session, shop_id),
        name=name,
        entry=entry,
        form=form,
        csrf_form=csrf_form,
        point=EXTENSION_POINTS[point],
        activating=activating,
    )
    return page, status


@bp.route("/shops/<shop_id>/plugins/<activation_id>/settings", methods=["GET", "POST"])
@shop_role_required("owner")
def settings(shop_id: str, activation_id: str) -> Any:
    entry = services.get_shop_plugin_entry(db.session, shop_id=shop_id, activation_id=activation_id, now=app_now())
    csrf_form = EmptyForm()
    currency = get_shop(db.session, shop_id).currency
    form = build_form(entry.config_schema, entry.config, currency)
    if request.method == "POST":
        form, config = _posted(csrf_form, entry.config_schema, entry.config, currency)
        if config is not None:
            try:
                services.change_shop_plugin(db.session, shop_id=shop_id, entry=entry, changes={"config": config})
            except InvalidPluginConfig as error:  # only the 64 KiB cap is left to fail here
                db.session.rollback()
                form.errors.append(error.detail)
            else:
                db.session.commit()
                flash(_("Settings of %(name)s saved.", name=entry.name), "success")
                return redirect(url_for("plugin_pages.shop_plugins", shop_id=shop_id))
    return _settings_page(shop_id, form, csrf_form, name=entry.name, point=entry.point, activating=False, entry=entry)


@bp.get("/shops/<shop_id>/plugin-invocations")
@shop_role_required("owner")
def invocations(shop_id: str) -> str:
    filters = _filters()
    plugin_id = request.args.get("plugin_id") or None
    stmt = services.invocations_stmt(shop_id, plugin_id=plugin_id, **filters)
    page = page_of(db.session, stmt, PluginInvocation.id, limit=PAGE_SIZE, cursor=request.args.get("cursor") or None)
    return render_template(
        "plugins/invocations.html",
        shop=get_shop(db.session, shop_id),
        page=page,
        filters=filters,
        plugin_id=plugin_id,
        points=EXTENSION_POINTS,
        outcomes=OUTCOMES,
        names=_plugin_names(shop_id),
    )


def _plugin_names(shop_id: str) -> dict[str, str]:
    entries = services.shop_plugin_entries(db.session, shop_id=shop_id, now=app_now())
    names = {e.plugin.id: e.name if e.kind == "own" else f"{e.app_name} · {e.name}" for e in entries if e.plugin}
    names.update({p.id: p.name for p in services.unactivated_plugins(db.session, shop_id=shop_id)})
    return names


@bp.get("/shops/<shop_id>/plugin-invocations/<invocation_id>")
@shop_role_required("owner")
def invocation(shop_id: str, invocation_id: str) -> str:
    found = services.get_invocation(db.session, shop_id=shop_id, invocation_id=invocation_id)
    return render_template(
        "plugins/invocation.html",
        shop=get_shop(db.session, shop_id),
        invocation=found,
        pretty_input=_pretty(found.input),
        pretty_output=_pretty_json(found.output),
        name=_plugin_names(shop_id).get(found.plugin_id, found.plugin_id),
        export_url=url_for("plugin_pages.invocation_export", shop_id=shop_id, invocation_id=found.id),
        back_url=url_for("plugin_pages.invocations", shop_id=shop_id),
    )


@bp.get("/shops/<shop_id>/plugin-invocations/<invocation_id>/export")
@shop_role_required("owner")
def invocation_export(shop_id: str, invocation_id: str) -> Response:
    return _export_response(services.export_invocation(db.session, shop_id=shop_id, invocation_id=invocation_id))


def _pretty_json(document: Any) -> str | None:
    """Indented JSON that keeps Chinese labels readable (Jinja's tojson escapes them as \\uXXXX)."""
    return None if document is None else json.dumps(document, ensure_ascii=False, indent=2)


def _pretty(text: str | None) -> str | None:
    if text is None:
        return None
    try:
        return json.dumps(json.loads(text), ensure_ascii=False, indent=2)
    except ValueError:
        return text


# --- the developer console -----------------------------------------------------------------------------


def _developer_app(app_id: str) -> Any:
    user = current_user()
    assert user is not None  # developer_required
    return get_developer_app(db.session, developer_id=user.id, app_id=app_id)  # another developer's: 404


@bp.get("/developer/apps/<app_id>/plugin-runs")
@developer_required
def app_plugin_runs(app_id: str) -> str:
    app = _developer_app(app_id)
    filters = _filters()
    stmt = services.app_invocations_stmt(app.id, **filters)
    page = page_of(db.session, stmt, PluginInvocation.id, limit=PAGE_SIZE, cursor=request.args.get("cursor") or None)
    health = services.app_plugin_health(db.session, app_id=app.id, now=app_now())
    return render_template(
        "plugins/app_runs.html",
        app=app,
        page=page,
        filters=filters,
        points=EXTENSION_POINTS,
        outcomes=OUTCOMES,
        health=health,
        modules={row.plugin.id: f"v{row.version_number} {row.plugin.module_path}" for row in health},
        window_hours=int(services.HEALTH_WINDOW.total_seconds() // 3600),
    )


@bp.get("/developer/apps/<app_id>/plugin-runs/<invocation_id>")
@developer_required
def app_plugin_run(app_id: str, invocation_id: str) -> str:
    app = _developer_app(app_id)
    found = services.get_app_invocation(db.session, app_id=app.id, invocation_id=invocation_id)
    return render_template(
        "plugins/invocation.html",
        app=app,
        invocation=found,
        pretty_input=_pretty(found.input),
        pretty_output=_pretty_json(found.output),
        name=found.plugin_id,
        export_url=url_for("plugin_pages.app_plugin_run_export", app_id=app.id, invocation_id=found.id),
        back_url=url_for("plugin_pages.app_plugin_runs", app_id=app.id),
    )


@bp.get("/developer/apps/<app_id>/plugin-runs/<invocation_id>/export")
@developer_required
def app_plugin_run_export(app_id: str, invocation_id: str) -> Response:
    app = _developer_app(app_id)
    found = services.get_app_invocation(db.session, app_id=app.id, invocation_id=invocation_id)
    return _export_response(services.replay_document(found))
