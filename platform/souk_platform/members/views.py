"""The member-level editor: V1–V5 names, perks (discount in 折, points multiplier) and the rules to reach and
keep each level (spend typed in yuan, category contribution picked from the shop's tree); and a product's
member-price grid (会员价, SKU × level, in yuan). docs/architecture.md §5.7, §14.

Saving goes through ``members.services.save_level_config``, which checks the rules are consistent;
its per-field reasons are shown next to the fields (docs/architecture.md §14).
"""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from souk_platform.catalog.categories import category_tree
from souk_platform.catalog.services import get_product_row
from souk_platform.core.errors import SoukError
from souk_platform.core.money import format_money
from souk_platform.db import db
from souk_platform.members.forms import LevelConfigForm, MemberPriceForm, multiplier_text, zhe_text
from souk_platform.members.perks import (
    create_member_price,
    delete_member_price,
    member_prices_stmt,
    update_member_price,
)
from souk_platform.members.services import LEVELS, get_level_config, save_level_config
from souk_platform.reports.services import level_distribution
from souk_platform.shops.services import get_shop
from souk_platform.web.auth import shop_role_required
from souk_platform.web.forms import refuse_nul_characters, yuan_text
from souk_platform.web.links import add_link
from souk_platform.web.refusals import refusal

bp = Blueprint("shop_levels", __name__)
bp.before_request(refuse_nul_characters)

# A service error's field path (``levels.1.upgrade.spend``) → the form field it belongs to.
_FIELD_PATH = re.compile(
    r"levels\.(\d)\.(upgrade|keep)(?:\.(spend|orders|points|category\.category_id|category\.spend|category\.orders))?"
)
_PERK_PATH = re.compile(r"levels\.(\d)\.(discount_bps|points_multiplier_percent)")
_PERK_FIELDS = {"discount_bps": "discount", "points_multiplier_percent": "points_multiplier"}
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
        row.form.discount.data = zhe_text(int(entry.get("discount_bps") or 0))
        row.form.points_multiplier.data = multiplier_text(int(entry.get("points_multiplier_percent", 100)))
        row.form.upgrade.form.show(entry.get("upgrade"))
        row.form.keep.form.show(entry.get("keep"))


def _attach(form: LevelConfigForm, errors: dict[str, list[str]], currency: str) -> None:
    """Put the service's per-field reasons on the form's fields."""
    for path, messages in errors.items():
        perk = _PERK_PATH.fullmatch(path)
        if perk is not None and int(perk[1]) < len(form.levels):
            field = getattr(form.levels[int(perk[1])].form, _PERK_FIELDS[perk[2]])
            field.errors = [*field.errors, *messages]
            continue
        found = _FIELD_PATH.fullmatch(path)
        if found is None:
            continue
        index, part, metric = int(found[1]), found[2], found[3]
        if index >= len(form.levels):
            continue
        rule = getattr(form.levels[index].form, part).form
        name = {"category.category_id": "category_id"}.get(metric, (metric or "").replace(".", "_"))
        field = getattr(rule, name) if metric else rule.match
        if metric in ("spend", "category.spend"):
            messages = [_FEN.sub(lambda fen: format_money(int(fen[0]), currency), m) for m in messages]
        field.errors = [*field.errors, *messages]


@bp.route("/shops/<shop_id>/levels", methods=["GET", "POST"])
@shop_role_required("owner", "staff")
def levels(shop_id: str) -> Any:
    shop = get_shop(db.session, shop_id)
    form = LevelConfigForm()
    categories = [("", _("No category"))] + [
        (node.id, " / ".join(node.path)) for node in category_tree(db.session, shop_id=shop_id)
    ]
    for row in form.levels:
        row.form.upgrade.form.category_id.choices = categories
        row.form.keep.form.category_id.choices = categories
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


# ---------------------------------------------------------------- member prices (会员价)

# "12000 fen" in a service's refusal: the page speaks yuan.
_FEN_AMOUNT = re.compile(r"\b(\d+) fen\b")


def _in_yuan(text: str, currency: str) -> str:
    return _FEN_AMOUNT.sub(lambda fen: format_money(int(fen[1]), currency), text)


def _product(shop_id: str, product_id: str) -> Any:
    try:
        return get_product_row(db.session, shop_id=shop_id, product_id=product_id)
    except SoukError:
        abort(404)


@bp.get("/shops/<shop_id>/products/<product_id>/member-prices")
@shop_role_required("owner", "staff")
def member_prices(shop_id: str, product_id: str) -> Any:
    shop = get_shop(db.session, shop_id)
    product, skus, _tags = _product(shop_id, product_id)
    prices = {
        (row.sku_id, row.level): row for row in db.session.execute(member_prices_stmt(shop_id, product_id=product.id))
    }
    levels_config = get_level_config(db.session, shop_id=shop_id)["levels"]
    return render_template(
        "members/member_prices.html",
        shop=shop,
        product=product,
        skus=skus,
        levels=levels_config,
        prices=prices,
        form=MemberPriceForm(),
        discount_text=zhe_text,
        yuan=yuan_text,
    )


@bp.post("/shops/<shop_id>/products/<product_id>/member-prices")
@shop_role_required("owner", "staff")
def change_member_price(shop_id: str, product_id: str) -> Any:
    """Set, change or remove one SKU's member price for one level; a refusal changes nothing."""
    shop = get_shop(db.session, shop_id)
    product, skus, _tags = _product(shop_id, product_id)
    back = redirect(url_for("shop_levels.member_prices", shop_id=shop_id, product_id=product.id))
    form = MemberPriceForm()
    if not form.validate():
        messages = [str(message) for errors in form.errors.values() for message in errors]
        flash(messages[0] if messages else _("The form is out of date: reload the page and try again."), "error")
        return back
    sku_ids = {sku.id for sku in skus}
    if form.sku_id.data not in sku_ids or form.level.data not in {str(level) for level in LEVELS}:
        abort(404)  # a tampered form: no such SKU of this product, or no such level
    price_id = form.member_price_id.data or ""
    try:
        version = int(form.version.data) if form.version.data else None
    except ValueError:
        abort(400)
    try:
        if form.action.data == "remove" and price_id:
            delete_member_price(db.session, shop_id=shop_id, member_price_id=price_id, expected_version=version)
            done = _("Member price removed: the level's discount applies again.")
        elif form.price.minor is None:
            flash(_("Enter the member price in yuan."), "error")
            return back
        elif price_id:
            update_member_price(
                db.session, shop_id=shop_id, member_price_id=price_id, price=form.price.minor, expected_version=version
            )
            done = _("Member price changed.")
        else:
            create_member_price(
                db.session,
                shop_id=shop_id,
                sku_id=form.sku_id.data or "",
                level=int(form.level.data or 0),
                price=form.price.minor,
            )
            done = _("Member price set.")
    except SoukError as exc:
        db.session.rollback()
        if exc.status == 404:
            abort(404)  # another shop's member price: never a hint that it exists
        flash(_in_yuan(refusal(exc), shop.currency), "error")
        return back
    db.session.commit()
    flash(done, "success")
    return back
