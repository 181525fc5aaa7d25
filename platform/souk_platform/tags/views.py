"""Back-office pages for tags: the list with customer counts, new manual and rule tags, a tag's customers,
CSV imports, deleting a tag and evaluating a rule tag now — all through ``tags.services``
(docs/architecture.md §14).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from souk_platform.core.clock import app_now
from souk_platform.core.errors import SoukError
from souk_platform.customers.models import Customer
from souk_platform.customers.services import customer_views, list_customers_stmt
from souk_platform.db import db
from souk_platform.members.services import get_level_config
from souk_platform.shops.services import get_shop
from souk_platform.tags import services
from souk_platform.tags.forms import TagActionForm, TagForm, TagImportForm
from souk_platform.tags.models import Tag
from souk_platform.web.auth import shop_role_required
from souk_platform.web.forms import refuse_nul_characters
from souk_platform.web.links import add_link
from souk_platform.web.lists import list_page
from souk_platform.web.refusals import refusal

bp = Blueprint("shop_tags", __name__)
bp.before_request(refuse_nul_characters)


@bp.record_once
def _link(state: Any) -> None:
    add_link(state.app, "shop", "shop_tags.tags", _l("Tags"))


def _list_page(shop_id: str, form: TagForm, import_form: TagImportForm, imported: Any = None, status: int = 200) -> Any:
    shop = get_shop(db.session, shop_id)
    listed = list(db.session.scalars(services.list_tags_stmt(shop_id).order_by(Tag.kind, Tag.name)))
    page = render_template(
        "tags/list.html",
        shop=shop,
        tags=services.tag_views(db.session, shop_id=shop_id, tags=listed),
        form=form,
        import_form=import_form,
        imported=imported,
    )
    return page, status


@bp.get("/shops/<shop_id>/tags")
@shop_role_required("owner", "staff")
def tags(shop_id: str) -> Any:
    return _list_page(shop_id, TagForm(formdata=None), TagImportForm(formdata=None))


@bp.post("/shops/<shop_id>/tags")
@shop_role_required("owner", "staff")
def create_tag(shop_id: str) -> Any:
    form = TagForm()
    if form.validate_on_submit():
        try:
            tag = services.create_tag(
                db.session,
                shop_id=shop_id,
                name=(form.name.data or "").strip(),
                kind=form.kind.data or "manual",
                description=(form.description.data or "").strip() or None,
                condition=form.condition(),
                now=app_now(),
            )
        except SoukError as exc:
            db.session.rollback()
            flash(refusal(exc), "error")
        else:
            db.session.commit()
            flash(_("Tag created."), "success")
            return redirect(url_for("shop_tags.tag", shop_id=shop_id, tag_id=tag.id))
    return _list_page(shop_id, form, TagImportForm(formdata=None), status=422)


@bp.post("/shops/<shop_id>/tags/import")
@shop_role_required("owner", "staff")
def import_tags(shop_id: str) -> Any:
    form = TagImportForm()
    if form.validate_on_submit():
        try:
            imported = services.import_tags(
                db.session,
                shop_id=shop_id,
                csv_text=form.csv(),
                create_missing_tags=bool(form.create_missing_tags.data),
            )
        except SoukError as exc:
            db.session.rollback()
            flash(refusal(exc), "error")
        else:
            db.session.commit()
            flash(
                _("Import done: %(ok)d rows applied, %(bad)d skipped.", ok=imported.imported, bad=imported.failed),
                "success",
            )
            return _list_page(shop_id, TagForm(formdata=None), TagImportForm(formdata=None), imported=imported)
    return _list_page(shop_id, TagForm(formdata=None), form, status=422)


@bp.get("/shops/<shop_id>/tags/<tag_id>")
@shop_role_required("owner", "staff")
def tag(shop_id: str, tag_id: str) -> Any:
    shop = get_shop(db.session, shop_id)
    try:
        found = services.get_tag(db.session, shop_id=shop_id, tag_id=tag_id)
    except SoukError:
        abort(404)
    (view,) = services.tag_views(db.session, shop_id=shop_id, tags=[found])
    carriers, next_url = list_page(db.session, list_customers_stmt(shop_id, tag=tag_id), Customer.id)
    names = {int(e["level"]): str(e["name"]) for e in get_level_config(db.session, shop_id=shop_id)["levels"]}
    return render_template(
        "tags/detail.html",
        shop=shop,
        tag=view,
        customers=customer_views(db.session, shop_id=shop_id, customers=carriers.items),
        level_names=names,
        action=TagActionForm(formdata=None, version=str(found.version)),
        next_url=next_url,
    )


@bp.post("/shops/<shop_id>/tags/<tag_id>/delete")
@shop_role_required("owner", "staff")
def delete_tag(shop_id: str, tag_id: str) -> Any:
    form = TagActionForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        version = int(form.version.data) if form.version.data else None
        services.delete_tag(db.session, shop_id=shop_id, tag_id=tag_id, expected_version=version)
    except ValueError:
        abort(400)
    except SoukError as exc:
        db.session.rollback()
        flash(refusal(exc), "error")
        return redirect(url_for("shop_tags.tag", shop_id=shop_id, tag_id=tag_id))
    db.session.commit()
    flash(_("Tag deleted."), "success")
    return redirect(url_for("shop_tags.tags", shop_id=shop_id))


@bp.post("/shops/<shop_id>/tags/<tag_id>/evaluate")
@shop_role_required("owner", "staff")
def evaluate_tag(shop_id: str, tag_id: str) -> Any:
    if not TagActionForm().validate_on_submit():
        abort(400)
    try:
        result = services.evaluate_rule_tag(db.session, shop_id=shop_id, tag_id=tag_id, now=app_now())
    except SoukError as exc:
        db.session.rollback()
        flash(refusal(exc), "error")
    else:
        db.session.commit()
        flash(
            _(
                "Evaluated: %(added)d customers got the tag, %(removed)d lost it.",
                added=result.added,
                removed=result.removed,
            ),
            "success",
        )
    return redirect(url_for("shop_tags.tag", shop_id=shop_id, tag_id=tag_id))
