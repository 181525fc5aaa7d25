"""Back-office pages for the catalog: products (list with filters, create, edit with SKUs and stock) and
the category tree (add, rename, move, delete). Every change goes through ``catalog.services`` and
``catalog.categories``; prices are shown and typed in yuan (docs/architecture.md §14).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from souk_platform.catalog import categories as category_services
from souk_platform.catalog import services
from souk_platform.catalog.errors import CategoryNotFound
from souk_platform.catalog.forms import (
    CategoryDeleteForm,
    CategoryForm,
    CategoryMoveForm,
    CategoryRenameForm,
    ProductForm,
    split_tags,
)
from souk_platform.catalog.models import Product
from souk_platform.core.clock import app_now
from souk_platform.core.errors import SoukError
from souk_platform.db import db
from souk_platform.shops.services import get_shop
from souk_platform.web import once
from souk_platform.web.auth import shop_role_required, signed_in_user
from souk_platform.web.forms import refuse_nul_characters, yuan_text
from souk_platform.web.links import add_link
from souk_platform.web.lists import list_page
from souk_platform.web.refusals import refusal

bp = Blueprint("shop_catalog", __name__)
bp.before_request(refuse_nul_characters)

STOCK_COUNT_REASON = "stock count in the back office"


@bp.record_once
def _link(state: Any) -> None:
    add_link(state.app, "shop", "shop_catalog.products", _l("Products"))
    add_link(state.app, "shop", "shop_catalog.categories", _l("Categories"))


def _version(text: str | None) -> int | None:
    """The version a form was rendered at (None when absent); a tampered one is a bad request."""
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        abort(400)


def _category_choices(shop_id: str) -> list[tuple[str, str]]:
    """Every category as (id, "root / child / grandchild"), depth first; the default one when the tree is empty."""
    nodes = category_services.category_tree(db.session, shop_id=shop_id)
    choices = [(node.id, " / ".join(node.path)) for node in nodes]
    return choices or [("", _("Default category"))]


# ---------------------------------------------------------------- products


@bp.get("/shops/<shop_id>/products")
@shop_role_required("owner", "staff")
def products(shop_id: str) -> str:
    shop = get_shop(db.session, shop_id)
    q = (request.args.get("q") or "").strip() or None
    tag = request.args.get("tag") or None
    category = request.args.get("category") or None
    subtree = None
    if category:
        try:
            subtree = category_services.subtree_ids(db.session, shop_id=shop_id, category_id=category)
        except CategoryNotFound:
            abort(404)
    page, next_url = list_page(
        db.session, services.list_products_stmt(shop_id, q=q, category_ids=subtree, tag=tag), Product.id, rows=True
    )
    rows = page.items
    ids = [row.id for row in rows]
    return render_template(
        "catalog/products.html",
        shop=shop,
        products=rows,
        skus=services.skus_of_products(db.session, ids),
        tags=services.tags_of_products(db.session, ids),
        categories=dict(_category_choices(shop_id)),
        category_choices=_category_choices(shop_id),
        tag_choices=services.product_tag_names(db.session, shop_id=shop_id),
        filters={"q": q or "", "tag": tag or "", "category": category or ""},
        next_url=next_url,
    )


def _new_skus(form: ProductForm) -> list[services.NewSku]:
    return [
        services.NewSku(
            code=row.form.code.data.strip(),
            title=(row.form.title.data or "").strip() or row.form.code.data.strip(),
            price=row.form.price.minor or 0,
            on_hand=row.form.on_hand.data or 0,
        )
        for row in form.new_skus
        if (row.form.code.data or "").strip()
    ]


def _product_fields(form: ProductForm) -> dict[str, Any]:
    return {
        "title": (form.title.data or "").strip(),
        "description": form.description.data or "",
        "status": form.status.data or "draft",
        "tags": split_tags(form.tags.data),
    }


@bp.route("/shops/<shop_id>/products/new", methods=["GET", "POST"])
@shop_role_required("owner", "staff")
def new_product(shop_id: str) -> Any:
    shop = get_shop(db.session, shop_id)
    form = ProductForm()
    form.category_id.choices = _category_choices(shop_id)
    if form.validate_on_submit():
        user_id = signed_in_user().id
        earlier = once.claim(db.session, form=form, user_id=user_id, now=app_now())
        if earlier:
            return once.already_done(earlier)
        try:
            product = services.create_product(
                db.session,
                shop_id=shop_id,
                category_id=form.category_id.data or None,
                skus=_new_skus(form),
                **_product_fields(form),
            )
        except SoukError as exc:
            db.session.rollback()
            flash(refusal(exc), "error")
        else:
            flash(_("Product created."), "success")
            target = url_for("shop_catalog.product", shop_id=shop_id, product_id=product.id)
            return once.done(db.session, form=form, user_id=user_id, target=target)
    status = 422 if form.is_submitted() else 200
    return render_template("catalog/product.html", shop=shop, form=form, product=None), status


def _fill(form: ProductForm, product: Product) -> None:
    form.version.data = str(product.version)
    form.title.data = product.title
    form.description.data = product.description
    form.status.data = product.status
    form.category_id.data = product.category_id
    form.tags.data = ", ".join(product.tags)
    for sku in product.skus:
        form.skus.append_entry(
            {
                "sku_id": sku.id,
                "version": str(sku.version),
                "title": sku.title,
                "price": yuan_text(sku.price),
                "on_hand": sku.on_hand,
            }
        )


def _save(shop_id: str, product: Product, form: ProductForm) -> None:
    """Apply the edit form: the product, each existing SKU (stock as an adjustment), then new SKUs."""
    services.update_product(
        db.session,
        shop_id=shop_id,
        product_id=product.id,
        changes={**_product_fields(form), "category_id": form.category_id.data or product.category_id},
        expected_version=_version(form.version.data),
    )
    for row in form.skus:
        sku = services.get_sku(db.session, shop_id=shop_id, sku_id=row.form.sku_id.data or "")
        if sku.product_id != product.id:
            abort(404)
        # The count locks the SKU and checks the version the form was rendered at; the title and price
        # then change under that lock.
        services.count_stock(
            db.session,
            shop_id=shop_id,
            sku_id=sku.id,
            counted=row.form.on_hand.data or 0,
            expected_version=_version(row.form.version.data),
            reason=STOCK_COUNT_REASON,
        )
        services.update_sku(
            db.session,
            shop_id=shop_id,
            sku_id=sku.id,
            changes={"title": (row.form.title.data or "").strip(), "price": row.form.price.minor},
            expected_version=None,
        )
    for spec in _new_skus(form):
        services.add_sku(db.session, shop_id=shop_id, product_id=product.id, spec=spec)


@bp.route("/shops/<shop_id>/products/<product_id>", methods=["GET", "POST"])
@shop_role_required("owner", "staff")
def product(shop_id: str, product_id: str) -> Any:
    shop = get_shop(db.session, shop_id)
    try:
        found = services.get_product(db.session, shop_id=shop_id, product_id=product_id)
    except SoukError:
        abort(404)
    form = ProductForm()
    form.category_id.choices = _category_choices(shop_id)
    if not form.is_submitted():
        _fill(form, found)
    elif form.validate():
        user_id = signed_in_user().id
        earlier = once.claim(db.session, form=form, user_id=user_id, now=app_now())
        if earlier:
            return once.already_done(earlier)
        try:
            _save(shop_id, found, form)
        except SoukError as exc:
            db.session.rollback()
            flash(refusal(exc), "error")
        else:
            flash(_("Product saved."), "success")
            target = url_for("shop_catalog.product", shop_id=shop_id, product_id=product_id)
            return once.done(db.session, form=form, user_id=user_id, target=target)
    status = 422 if form.is_submitted() else 200
    return render_template("catalog/product.html", shop=shop, form=form, product=found), status


# ---------------------------------------------------------------- categories


@bp.get("/shops/<shop_id>/categories")
@shop_role_required("owner", "staff")
def categories(shop_id: str) -> str:
    shop = get_shop(db.session, shop_id)
    nodes = category_services.category_tree(db.session, shop_id=shop_id)
    parents = [("", _("(top level)"))] + [(n.id, " / ".join(n.path)) for n in nodes if n.depth < 3]
    add_form = CategoryForm()
    add_form.parent_id.choices = parents
    row_forms = {}
    for node in nodes:
        move = CategoryMoveForm(formdata=None, version=node.version, parent_id=node.parent_id or "")
        move.parent_id.choices = [choice for choice in parents if choice[0] != node.id]
        row_forms[node.id] = (
            CategoryRenameForm(formdata=None, version=node.version, name=node.name),
            move,
            CategoryDeleteForm(formdata=None, version=node.version),
        )
    return render_template("catalog/categories.html", shop=shop, nodes=nodes, add_form=add_form, row_forms=row_forms)


def _back_to_tree(shop_id: str) -> Any:
    return redirect(url_for("shop_catalog.categories", shop_id=shop_id))


def _first_error(form: Any) -> str:
    return next((str(error) for errors in form.errors.values() for error in errors), _("The form is not valid."))


def _change_tree(shop_id: str, form: Any, change: Any, done: str) -> Any:
    """Validate ``form``, run ``change()`` and commit; on a refusal say why and change nothing."""
    if not form.validate_on_submit():
        flash(_first_error(form), "error")
        return _back_to_tree(shop_id)
    try:
        change()
    except SoukError as exc:
        db.session.rollback()
        flash(refusal(exc), "error")
    else:
        db.session.commit()
        flash(done, "success")
    return _back_to_tree(shop_id)


@bp.post("/shops/<shop_id>/categories")
@shop_role_required("owner", "staff")
def add_category(shop_id: str) -> Any:
    form = CategoryForm()
    return _change_tree(
        shop_id,
        form,
        lambda: category_services.create_category(
            db.session, shop_id=shop_id, name=(form.name.data or "").strip(), parent_id=form.parent_id.data or None
        ),
        _("Category added."),
    )


@bp.post("/shops/<shop_id>/categories/<category_id>/rename")
@shop_role_required("owner", "staff")
def rename_category(shop_id: str, category_id: str) -> Any:
    form = CategoryRenameForm()
    return _change_tree(
        shop_id,
        form,
        lambda: category_services.update_category(
            db.session,
            shop_id=shop_id,
            category_id=category_id,
            changes={"name": (form.name.data or "").strip()},
            expected_version=_version(form.version.data),
        ),
        _("Category renamed."),
    )


@bp.post("/shops/<shop_id>/categories/<category_id>/move")
@shop_role_required("owner", "staff")
def move_category(shop_id: str, category_id: str) -> Any:
    form = CategoryMoveForm()
    return _change_tree(
        shop_id,
        form,
        lambda: category_services.update_category(
            db.session,
            shop_id=shop_id,
            category_id=category_id,
            changes={"parent_id": form.parent_id.data or None},
            expected_version=_version(form.version.data),
        ),
        _("Category moved."),
    )


@bp.post("/shops/<shop_id>/categories/<category_id>/delete")
@shop_role_required("owner", "staff")
def delete_category(shop_id: str, category_id: str) -> Any:
    form = CategoryDeleteForm()
    return _change_tree(
        shop_id,
        form,
        lambda: category_services.delete_category(
            db.session, shop_id=shop_id, category_id=category_id, expected_version=_version(form.version.data)
        ),
        _("Category deleted."),
    )
