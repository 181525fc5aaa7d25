"""The member-level editor: V1–V5 names and the rules to reach and keep each level (spend typed in yuan).

Saving goes through ``members.services.save_level_config``, which checks the rules are consistent;
its per-field reasons are shown next to the fields (docs/architecture.md §14).
"""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from souk_platform.core.errors import SoukError
from souk_platform.core.money import format_money
from souk_platform.db import db
from souk_platform.members.forms import LevelConfigForm
from souk_platform.members.services import get_level_config, save_level_config
from souk_platform.reports.services import level_distribution
from souk_platform.shops.services import get_shop
from souk_platform.web.auth import shop_role_required
from souk_platform.web.forms import refuse_nul_characters
from souk_platform.web.links import add_link
from souk_platform.web.refusals import refusal

bp = Blueprint("shop_levels", __name__)
bp.before_request(refuse_nul_characters)

# A service error's field path (``levels.1.upgrade.spend``) → the form field it belongs to.
_FIELD_PATH = re.compile(r"levels\.(\d)\.(upgrade|keep)(?:\.(spend|orders|points))?")
# An amount in a spend field's reason: the service counts fen, the page speaks yuan ("V2" is no amount).
_FEN = re.compile(r"(?<![V\d])\d+")


@bp.record_once
def _link(state: Any) -> None:
    add_link(state.app, "shop", "shop_levels.levels", _l("Member levels"))


def _fill(form: LevelConfigForm, config: dict[str, Any]) -> None:
    form.version.data = str(config["version"])
    form.window_days.data = config["window_days"]
    form.downgrade_period_days.data = config["downgrade_period_days"]
    for row, entry in zip(form.levels, config["levels"], strict=True):
        row.form.name.data = entry["name"]
        row.form.upgrade.form.show(entry.get("upgrade"))
        row.form.keep.form.show(entry.get("keep"))


def _attach(form: LevelConfigForm, errors: dict[str, list[str]], currency: str) -> None:
    """Put the service's per-field reasons on the form's fields."""
    for path, messages in errors.items():
        found = _FIELD_PATH.fullmatch(path)
        if found is None:
            continue
        index, part, metric = int(found[1]), found[2], found[3]
        if index >= len(form.levels):
            continue
        rule = getattr(form.levels[index].form, part).form
        field = getattr(rule, metric) if metric else rule.match
        if metric == "spend":
            messages = [_FEN.sub(lambda fen: format_money(int(fen[0]), currency), m) for m in messages]
        field.errors = [*field.errors, *messages]


@bp.route("/shops/<shop_id>/levels", methods=["GET", "POST"])
@shop_role_required("owner", "staff")
def levels(shop_id: str) -> Any:
    shop = get_shop(db.session, shop_id)
    form = LevelConfigForm()
    if not form.is_submitted():
        _fill(form, get_level_config(db.session, shop_id=shop_id))
    elif form.validate():
        try:
            version = int(form.version.data) if form.version.data else None
        except ValueError:
            abort(400)
        try:
            save_level_config(
                db.session,
                shop_id=shop_id,
                window_days=form.window_days.data or 0,
                downgrade_period_days=form.downgrade_period_days.data or 0,
                levels=form.config_levels(),
                expected_version=version,
            )
        except SoukError as exc:
            db.session.rollback()
            flash(refusal(exc, fields_explain=bool(exc.errors)), "error")
            _attach(form, exc.errors or {}, shop.currency)
        else:
            db.session.commit()
            flash(_("Member levels saved. The hourly evaluation applies the new rules."), "success")
            return redirect(url_for("shop_levels.levels", shop_id=shop_id))
    shares = {share.level: share.customers for share in level_distribution(db.session, shop_id=shop_id)}
    status = 422 if form.is_submitted() else 200
    return render_template("members/levels.html", shop=shop, form=form, members=shares), status
