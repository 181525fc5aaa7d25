from __future__ import annotations

import marshmallow as ma

from souk_platform.api import PageArgs


class InstallationSchema(ma.Schema):
    id = ma.fields.String(dump_only=True)
    app_id = ma.fields.String(dump_only=True)
    app_name = ma.fields.String(dump_only=True, allow_none=True)
    client_id = ma.fields.String(dump_only=True, allow_none=True)
    shop_id = ma.fields.String(dump_only=True)
    app_version_id = ma.fields.String(dump_only=True)
    granted_scopes = ma.fields.List(ma.fields.String(), dump_only=True)
    status = ma.fields.String(dump_only=True, metadata={"description": "active | uninstalled"})
    installed_at = ma.fields.DateTime(dump_only=True)
    uninstalled_at = ma.fields.DateTime(dump_only=True, allow_none=True)
    version = ma.fields.Integer(dump_only=True)


class InstallationListArgs(PageArgs):
    status = ma.fields.String(validate=ma.validate.OneOf(["active", "uninstalled"]))
