from __future__ import annotations

import dataclasses
from typing import Any

from flask.views import MethodView

from souk_platform.api import (
    current_principal,
    expected_version,
    page_of,
    page_schema,
    paginated,
    requires,
    transactional,
)
from souk_platform.api.parsing import Blueprint
from souk_platform.apps.models import App, Installation
from souk_platform.core.clock import app_now
from souk_platform.db import db
from souk_platform.installations import services
from souk_platform.installations.schemas import InstallationListArgs, InstallationSchema

blp = Blueprint("installations", __name__, url_prefix="/installations", description="Apps installed on the shop")


@blp.route("")
class InstallationList(MethodView):
    @requires("read_shop")
    @blp.arguments(InstallationListArgs, location="query")
    @blp.response(200, page_schema(InstallationSchema))
    def get(self, args: dict[str, Any]) -> Any:
        """The shop's app installations, newest first (filter with status=active|uninstalled)"""
        stmt = services.list_installations_stmt(current_principal().shop_id, status=args.pop("status", None))
        page = page_of(db.session, stmt, Installation.id, **args)
        return paginated(dataclasses.replace(page, items=services.views_of(db.session, page.items)))


@blp.route("/<installation_id>")
class InstallationResource(MethodView):
    @requires("read_shop")
    @blp.response(200, InstallationSchema)
    def get(self, installation_id: str) -> Any:
        """One installation of the shop"""
        installation = services.get_installation(
            db.session, shop_id=current_principal().shop_id, installation_id=installation_id
        )
        return services.installation_view(installation, db.session.get(App, installation.app_id))

    @requires("write_shop")
    @transactional
    @blp.response(200, InstallationSchema)
    @blp.alt_response(409, description="The installation is already uninstalled")
    @blp.alt_response(412, description="If-Match names a stale version")
    def delete(self, installation_id: str) -> Any:
        """Uninstall the app: revoke all its tokens, disable its plugins, emit app.uninstalled"""
        installation = services.uninstall(
            db.session,
            shop_id=current_principal().shop_id,
            installation_id=installation_id,
            now=app_now(),
            expected_version=expected_version(),
        )
        return services.installation_view(installation, db.session.get(App, installation.app_id))
