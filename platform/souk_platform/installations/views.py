"""The merchant's installed-apps page: what is installed, with which scopes, and Uninstall."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from souk_platform.auth.scopes import describe
from souk_platform.core.clock import app_now
from souk_platform.db import db
from souk_platform.installations import services
from souk_platform.shops.services import get_shop
from souk_platform.web.auth import shop_role_required
from souk_platform.web.forms import EmptyForm

bp = Blueprint("installed_apps", __name__)


@bp.get("/shops/<shop_id>/apps")
@shop_role_required("owner")
def installed_apps(shop_id: str) -> Any:
    return render_template(
        "shop/apps.html",
        shop=get_shop(db.session, shop_id),
        installed=services.installed_apps(db.session, shop_id=shop_id),
        describe=describe,
        uninstall_form=EmptyForm(),
    )


@bp.post("/shops/<shop_id>/apps/<installation_id>/uninstall")
@shop_role_required("owner")
def uninstall(shop_id: str, installation_id: str) -> Any:
    if EmptyForm().validate_on_submit():
        services.uninstall(
            db.session,
            shop_id=shop_id,
            installation_id=installation_id,
            now=app_now(),
        )
        db.session.commit()
        flash(_("The app was uninstalled: its access is revoked and its plugins are off."), "success")
    return redirect(url_for("installed_apps.installed_apps", shop_id=shop_id))
