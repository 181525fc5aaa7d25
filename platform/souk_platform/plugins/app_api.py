"""Developer-level plugin calls with a client-credentials app token: publish versions, upload their modules.

A version's manifest declares its plugins (point + module path); the modules themselves are uploaded
afterwards, one per declared path, and are immutable once stored. Another app's version is a 404.
"""

from __future__ import annotations

from typing import Any

from flask import g
from flask.views import MethodView

from souk_platform.api import PageArgs, page_of, page_schema, paginated, transactional
from souk_platform.api.pagination import Page
from souk_platform.api.parsing import Blueprint
from souk_platform.apps.models import App, AppVersion
from souk_platform.apps.services import publish_version
from souk_platform.db import db
from souk_platform.oauth.api import requires_app_token
from souk_platform.plugins import services
from souk_platform.plugins.schemas import (
    AppModuleUploadSchema,
    AppVersionCreateSchema,
    AppVersionSchema,
    PluginSchema,
)

blp = Blueprint(
    "app_versions",
    __name__,
    url_prefix="/app/versions",
    description="An app's versions and the Wasm modules of their plugins (app token)",
)


def _app() -> App:
    app: App = g.calling_app
    return app


def _views(versions: list[AppVersion]) -> list[dict[str, Any]]:
    """Each version with the module paths its manifest declares and which of them are still missing."""
    app = _app()
    modules = services.declared_modules(db.session, versions)
    out = []
    for version in versions:
        declared = modules[version.id]
        out.append(
            {
                "id": version.id,
                "number": version.number,
                "current": version.id == app.current_version_id,
                "scopes": version.scopes,
                "manifest": version.manifest,
                "created_at": version.created_at,
                "modules": [
                    {
                        "module": entry.path,
                        "points": entry.points,
                        "uploaded": entry.plugin is not None,
                        "plugin_id": entry.plugin.id if entry.plugin else None,
                        "sha256": entry.plugin.sha256 if entry.plugin else None,
                    }
                    for entry in declared
                ],
                "missing_modules": [entry.path for entry in declared if entry.plugin is None],
            }
        )
    return out


@blp.route("")
class AppVersionList(MethodView):
    @requires_app_token
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, page_schema(AppVersionSchema))
    def get(self, args: dict[str, Any]) -> Any:
        """The calling app's versions, newest first"""
        page = page_of(db.session, services.app_versions_stmt(_app().id), AppVersion.id, **args)
        return paginated(Page(_views(page.items), page.next_cursor))

    @requires_app_token
    @transactional
    @blp.arguments(AppVersionCreateSchema)
    @blp.response(201, AppVersionSchema)
    @blp.alt_response(200, schema=AppVersionSchema, description="The manifest is the current version's: no new one")
    @blp.alt_response(409, description="The manifest changes the client type")
    @blp.alt_response(422, description="The manifest is not valid (each error with its line and column)")
    def post(self, body: dict[str, Any]) -> Any:
        """Publish a new version from a manifest (YAML or JSON text); upload its plugins' modules next"""
        app = _app()
        before = app.current_version_id
        version = publish_version(db.session, app=app, manifest_text=body["manifest"])
        return _views([version])[0], 200 if version.id == before else 201


@blp.route("/<version_id>")
class AppVersionResource(MethodView):
    @requires_app_token
    @blp.response(200, AppVersionSchema)
    def get(self, version_id: str) -> Any:
        """One version, with the module paths it declares and which are still missing"""
        return _views([services.get_app_version(db.session, app_id=_app().id, version_id=version_id)])[0]


@blp.route("/<version_id>/modules")
class AppVersionModules(MethodView):
    @requires_app_token
    @transactional
    @blp.arguments(AppModuleUploadSchema)
    @blp.response(201, PluginSchema)
    @blp.alt_response(200, schema=PluginSchema, description="The same bytes were already stored at this path")
    @blp.alt_response(409, description="Different bytes are stored at this path: publish a new version")
    @blp.alt_response(422, description="Not declared by the manifest, not base64, or not a valid ABI v1 module")
    def post(self, body: dict[str, Any], version_id: str) -> Any:
        """Upload the Wasm module the manifest declares at `module` (validated like a shop upload)"""
        plugin, created = services.upload_app_module(
            db.session,
            app_id=_app().id,
            version_id=version_id,
            module_path=body["module"],
            module=services.decode_module(body["module_base64"]),
        )
        return plugin, 201 if created else 200
