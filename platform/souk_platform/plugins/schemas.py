"""Request and response shapes of the plugins API."""

from __future__ import annotations

import marshmallow as ma

from souk_platform.api.pagination import PageArgs

# 256 KiB of module as base64, plus padding: anything longer is over the module limit anyway.
_MAX_BASE64 = 4 * ((256 * 1024 + 2) // 3)


class PluginSchema(ma.Schema):
    id = ma.fields.String()
    name = ma.fields.String()
    point = ma.fields.String()
    sha256 = ma.fields.String()
    size_bytes = ma.fields.Integer()
    config_schema = ma.fields.Dict(allow_none=True)
    app_version_id = ma.fields.String(allow_none=True, metadata={"description": "Set for an app's plugin"})
    module_path = ma.fields.String(allow_none=True)
    created_at = ma.fields.DateTime()


class PluginUploadSchema(ma.Schema):
    name = ma.fields.String(required=True, validate=ma.validate.Length(1, 100))
    point = ma.fields.String(required=True, validate=ma.validate.Length(1, 64))
    module_base64 = ma.fields.String(
        required=True,
        validate=ma.validate.Length(1, _MAX_BASE64, error="The module is larger than 256 KiB."),
        metadata={"description": "The ABI v1 .wasm module, base64 (≤ 256 KiB decoded)"},
    )
    config_schema = ma.fields.Dict(
        load_default=None, allow_none=True, metadata={"description": "JSON Schema (2020-12) of the activation config"}
    )


class AppVersionCreateSchema(ma.Schema):
    manifest = ma.fields.String(
        required=True,
        validate=ma.validate.Length(1, 64 * 1024),
        metadata={"description": "The app manifest as YAML or JSON text"},
    )


class AppModuleUploadSchema(ma.Schema):
    module = ma.fields.String(
        required=True,
        validate=ma.validate.Length(1, 200),
        metadata={"description": "The module path exactly as the version's manifest declares it"},
    )
    module_base64 = ma.fields.String(
        required=True,
        validate=ma.validate.Length(1, _MAX_BASE64, error="The module is larger than 256 KiB."),
        metadata={"description": "The ABI v1 .wasm module, base64 (≤ 256 KiB decoded)"},
    )


class DeclaredModuleSchema(ma.Schema):
    module = ma.fields.String(metadata={"description": "The path the manifest declares"})
    points = ma.fields.List(ma.fields.String())
    uploaded = ma.fields.Boolean()
    plugin_id = ma.fields.String(allow_none=True)
    sha256 = ma.fields.String(allow_none=True)


class AppVersionSchema(ma.Schema):
    id = ma.fields.String()
    number = ma.fields.Integer()
    current = ma.fields.Boolean(metadata={"description": "The app's current (latest published) version"})
    scopes = ma.fields.List(ma.fields.String())
    manifest = ma.fields.Dict(metadata={"description": "The validated manifest, normalised"})
    modules = ma.fields.List(ma.fields.Nested(DeclaredModuleSchema))
    missing_modules = ma.fields.List(
        ma.fields.String(), metadata={"description": "Declared module paths not uploaded yet"}
    )
    created_at = ma.fields.DateTime()


class HealthQuerySchema(ma.Schema):
    window_minutes = ma.fields.Integer(load_default=60, validate=ma.validate.Range(1, 7 * 24 * 60))


class HealthSchema(ma.Schema):
    plugin_id = ma.fields.String()
    window_minutes = ma.fields.Integer()
    calls = ma.fields.Integer()
    failures = ma.fields.Integer()
    failure_rate = ma.fields.Float(metadata={"description": "failures / calls, 0–1"})
    by_outcome = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer())
    failing = ma.fields.Boolean(metadata={"description": "At or above the plugin.failing threshold"})


_ON_FAILURE = ma.fields.String(
    allow_none=True,
    validate=ma.validate.OneOf(["abort", "continue"]),
    metadata={"description": "order.validate only: abort (deny when the plugin fails) or continue; null: default"},
)


class ActivationSchema(ma.Schema):
    id = ma.fields.String()
    plugin_id = ma.fields.String()
    position = ma.fields.Integer()
    config = ma.fields.Dict()
    enabled = ma.fields.Boolean()
    on_failure = ma.fields.String(allow_none=True)
    created_at = ma.fields.DateTime()
    version = ma.fields.Integer()


class ActivationCreateSchema(ma.Schema):
    plugin_id = ma.fields.String(required=True, validate=ma.validate.Length(1, 64))
    position = ma.fields.Integer(load_default=0, validate=ma.validate.Range(0, 10_000))
    config = ma.fields.Dict(load_default=dict)
    enabled = ma.fields.Boolean(load_default=True)
    on_failure = _ON_FAILURE


class ActivationUpdateSchema(ma.Schema):
    position = ma.fields.Integer(validate=ma.validate.Range(0, 10_000))
    config = ma.fields.Dict()
    enabled = ma.fields.Boolean()
    on_failure = _ON_FAILURE


class InvocationQuerySchema(PageArgs):
    plugin_id = ma.fields.String(load_default=None, validate=ma.validate.Length(1, 64))
    point = ma.fields.String(load_default=None, validate=ma.validate.Length(1, 64))
    outcome = ma.fields.String(load_default=None, validate=ma.validate.Length(1, 32))


class InvocationSchema(ma.Schema):
    id = ma.fields.String()
    plugin_id = ma.fields.String()
    activation_id = ma.fields.String()
    app_id = ma.fields.String(allow_none=True, metadata={"description": "The app whose plugin ran; null: own"})
    point = ma.fields.String()
    outcome = ma.fields.String()
    message = ma.fields.String()
    fuel = ma.fields.Integer()
    elapsed_us = ma.fields.Integer()
    input_sha256 = ma.fields.String()
    module_sha256 = ma.fields.String()
    output = ma.fields.Raw(allow_none=True)
    created_at = ma.fields.DateTime()


class InvocationDetailSchema(InvocationSchema):
    input = ma.fields.String(allow_none=True, metadata={"description": "The exact input JSON; null once purged"})


class InvocationExportSchema(ma.Schema):
    id = ma.fields.String()
    point = ma.fields.String()
    plugin_id = ma.fields.String()
    app_id = ma.fields.String(allow_none=True)
    input = ma.fields.Raw()
    input_sha256 = ma.fields.String()
    output = ma.fields.Raw(allow_none=True)
    outcome = ma.fields.String()
    message = ma.fields.String()
    module_sha256 = ma.fields.String()
    fuel = ma.fields.Integer()
    elapsed_us = ma.fields.Integer()
    created_at = ma.fields.String()
