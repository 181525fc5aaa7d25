from __future__ import annotations

from typing import Any, cast

from flask import Flask
from flask.blueprints import BlueprintSetupState
from flask.views import MethodView

from souk_platform.api import (
    PageArgs,
    current_principal,
    etag,
    expected_version,
    page_of,
    page_schema,
    paginated,
    requires,
    transactional,
)
from souk_platform.api.parsing import Blueprint
from souk_platform.core.clock import app_now
from souk_platform.db import db
from souk_platform.plugins import invocation_log, services
from souk_platform.plugins.models import Plugin, PluginInvocation, ShopPluginActivation
from souk_platform.plugins.schemas import (
    ActivationCreateSchema,
    ActivationSchema,
    ActivationUpdateSchema,
    HealthQuerySchema,
    HealthSchema,
    InvocationDetailSchema,
    InvocationExportSchema,
    InvocationQuerySchema,
    InvocationSchema,
    PluginSchema,
    PluginUploadSchema,
)
from souk_platform.plugins.services import pipeline

blp = Blueprint(
    "plugins",
    __name__,
    url_prefix="",  # three collections: /plugins, /plugin-activations, /plugin-invocations
    description="Wasm plugins (ABI v1) at the extension points, their activations, invocation log and health.",
)


@blp.record_once
def _install_session_hooks(state: BlueprintSetupState) -> None:
    invocation_log.install(cast(Flask, state.app))  # the log survives rollbacks
    pipeline.install_session_hooks()  # active plugins are read once per transaction


def _shop_id() -> str:
    return current_principal().shop_id


@blp.route("/plugins")
class PluginList(MethodView):
    @requires("read_plugins")
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, page_schema(PluginSchema))
    def get(self, args: dict[str, Any]) -> Any:
        """The shop's own uploaded plugins"""
        return paginated(page_of(db.session, services.plugins_stmt(_shop_id()), Plugin.id, **args))

    @requires("write_plugins")
    @transactional
    @blp.arguments(PluginUploadSchema)
    @blp.response(201, PluginSchema)
    def post(self, args: dict[str, Any]) -> Any:
        """Upload an ABI v1 module for one extension point (validated: no imports, exports, ≤ 256 KiB)"""
        module = services.decode_module(args.pop("module_base64"))
        return services.upload_plugin(db.session, shop_id=_shop_id(), module=module, **args), 201


@blp.route("/plugins/<plugin_id>")
class PluginResource(MethodView):
    @requires("read_plugins")
    @blp.response(200, PluginSchema)
    def get(self, plugin_id: str) -> Any:
        """One plugin"""
        return services.get_plugin(db.session, shop_id=_shop_id(), plugin_id=plugin_id)


@blp.route("/plugins/<plugin_id>/health")
class PluginHealth(MethodView):
    @requires("read_plugins")
    @blp.arguments(HealthQuerySchema, location="query")
    @blp.response(200, HealthSchema)
    def get(self, args: dict[str, Any], plugin_id: str) -> Any:
        """Calls, failures and failure rate of a plugin in this shop over a window"""
        now = app_now()
        return services.plugin_health(db.session, shop_id=_shop_id(), plugin_id=plugin_id, now=now, **args)


@blp.route("/plugin-activations")
class ActivationList(MethodView):
    @requires("read_plugins")
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, page_schema(ActivationSchema))
    def get(self, args: dict[str, Any]) -> Any:
        """The shop's activations of its own plugins"""
        stmt = services.activations_stmt(_shop_id())
        return paginated(page_of(db.session, stmt, ShopPluginActivation.id, **args))

    @requires("write_plugins")
    @transactional
    @blp.arguments(ActivationCreateSchema)
    @blp.response(201, ActivationSchema)
    def post(self, args: dict[str, Any]) -> Any:
        """Activate a plugin at its point, with its position in the order and its config"""
        activation = services.create_activation(db.session, shop_id=_shop_id(), **args)
        return activation, 201, etag(activation.version)


@blp.route("/plugin-activations/<activation_id>")
class ActivationResource(MethodView):
    @requires("read_plugins")
    @blp.response(200, ActivationSchema)
    def get(self, activation_id: str) -> Any:
        """One activation"""
        activation = services.get_activation(db.session, shop_id=_shop_id(), activation_id=activation_id)
        return activation, 200, etag(activation.version)

    @requires("write_plugins")
    @transactional
    @blp.arguments(ActivationUpdateSchema)
    @blp.response(200, ActivationSchema)
    @blp.alt_response(412, description="If-Match names a stale version")
    def patch(self, changes: dict[str, Any], activation_id: str) -> Any:
        """Enable/disable, reorder, reconfigure, or choose abort/continue on failure (order.validate)"""
        activation = services.update_activation(
            db.session,
            shop_id=_shop_id(),
            activation_id=activation_id,
            changes=changes,
            expected_version=expected_version(),
        )
        return activation, 200, etag(activation.version)


@blp.route("/plugin-invocations")
class InvocationList(MethodView):
    @requires("read_plugins")
    @blp.arguments(InvocationQuerySchema, location="query")
    @blp.response(200, page_schema(InvocationSchema))
    def get(self, args: dict[str, Any]) -> Any:
        """The invocation log, newest first (filter by plugin, point or outcome)"""
        stmt = services.invocations_stmt(
            _shop_id(), plugin_id=args.pop("plugin_id"), point=args.pop("point"), outcome=args.pop("outcome")
        )
        return paginated(page_of(db.session, stmt, PluginInvocation.id, **args))


@blp.route("/plugin-invocations/<invocation_id>")
class InvocationResource(MethodView):
    @requires("read_plugins")
    @blp.response(200, InvocationDetailSchema)
    def get(self, invocation_id: str) -> Any:
        """One invocation with its full input (until purged)"""
        return services.get_invocation(db.session, shop_id=_shop_id(), invocation_id=invocation_id)


@blp.route("/plugin-invocations/<invocation_id>/export")
class InvocationExport(MethodView):
    @requires("read_plugins")
    @blp.response(200, InvocationExportSchema)
    def get(self, invocation_id: str) -> Any:
        """The replay document for `souk-plugin replay`"""
        return services.export_invocation(db.session, shop_id=_shop_id(), invocation_id=invocation_id)
