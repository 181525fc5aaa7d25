"""Products and SKUs: their events, reading (ORM objects and the Core-row fast path, §4.9), create and edit,
and the page helpers. The payloads live in ``_shared`` (stock's events carry the SKU's too); a new SKU's
initial stock is recorded by ``stock``. See ``souk_platform.catalog.services`` for the contract
(docs/architecture.md §12).
"""

from __future__ import annotations

import functools
from collections import namedtuple
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm.attributes import flag_modified

from souk_platform.catalog.categories import default_category, get_category
from souk_platform.catalog.errors import ProductNotFound, SkuCodeTaken, SkuNotFound
from souk_platform.catalog.models import MAX_TAGS, PRODUCT_STATUSES, InventoryAdjustment, Product, ProductTag, Sku
from souk_platform.catalog.services._shared import _check_stock_limit, _well_formed, product_payload, sku_payload
from souk_platform.catalog.services.stock import _record_adjustment
from souk_platform.core.errors import Unprocessable
from souk_platform.core.versions import check_version
from souk_platform.db import DbSession
from souk_platform.events.services import emit
from souk_platform.prepared import PreparedRead, dialect_name, id_array, keyset
from souk_platform.shops.services import get_shop


@dataclass(frozen=True, slots=True)
class NewSku:
    """A SKU to create: ``price`` in fen of the shop's currency, ``on_hand`` the initial stock."""

    code: str
    title: str
    price: int
    on_hand: int = 0


# ---------------------------------------------------------------- events


def _emit_product(session: DbSession, product: Product, type: str) -> None:
    emit(
        session,
        shop_id=product.shop_id,
        type=type,
        subject_type="product",
        subject_id=product.id,
        payload=product_payload(product),
    )


def _emit_sku(session: DbSession, sku: Sku, type: str) -> None:
    emit(session, shop_id=sku.shop_id, type=type, subject_type="sku", subject_id=sku.id, payload=sku_payload(sku))


# ---------------------------------------------------------------- reading


def get_product(session: DbSession, *, shop_id: str, product_id: str) -> Product:
    product = None
    if _well_formed([product_id]):
        product = session.scalar(sa.select(Product).where(Product.id == product_id, Product.shop_id == shop_id))
    if product is None:
        raise ProductNotFound(f"No product {product_id} in this shop.")
    return product


def get_sku(session: DbSession, *, shop_id: str, sku_id: str) -> Sku:
    sku = None
    if _well_formed([sku_id]):
        sku = session.scalar(sa.select(Sku).where(Sku.id == sku_id, Sku.shop_id == shop_id))
    if sku is None:
        raise SkuNotFound(f"No SKU {sku_id} in this shop.")
    return sku


_Row = sa.Row[*tuple[Any, ...]]
_RowsSelect = sa.Select[*tuple[Any, ...]]

# What the API shows of a product and a SKU, read as Core rows (no ORM instances) for the fast read path.
PRODUCT_COLUMNS = (
    Product.id,
    Product.title,
    Product.description,
    Product.status,
    Product.category_id,
    Product.version,
    Product.created_at,
    Product.updated_at,
)
SKU_COLUMNS = (
    Sku.id,
    Sku.product_id,
    Sku.code,
    Sku.title,
    Sku.price,
    Sku.currency,
    Sku.on_hand,
    Sku.reserved,
    Sku.version,
    Sku.created_at,
)


# Built once, run on the session's connection: the hot reads skip building and the ORM layer (§4.9).
_PRODUCT_ROW = PreparedRead(
    sa.select(*PRODUCT_COLUMNS).where(
        Product.id == sa.bindparam("product_id"), Product.shop_id == sa.bindparam("shop_id")
    )
)
_SKU_ROWS = PreparedRead(
    sa.select(*SKU_COLUMNS).where(Sku.product_id.in_(sa.bindparam("product_ids", expanding=True))).order_by(Sku.id),
    postgresql=sa.select(*SKU_COLUMNS).where(Sku.product_id == sa.any_(id_array("product_ids"))).order_by(Sku.id),
)
_TAG_ROWS = PreparedRead(
    sa.select(ProductTag.product_id, ProductTag.tag)
    .where(ProductTag.product_id.in_(sa.bindparam("product_ids", expanding=True)))
    .order_by(ProductTag.product_id, ProductTag.tag),
    postgresql=sa.select(ProductTag.product_id, ProductTag.tag)
    .where(ProductTag.product_id == sa.any_(id_array("product_ids")))
    .order_by(ProductTag.product_id, ProductTag.tag),
)


@dataclass(frozen=True, slots=True)
class ProductRows:
    """A product as Core rows: its ``PRODUCT_COLUMNS`` row, its SKUs' ``SKU_COLUMNS`` rows (by id), its tags."""

    product: Any
    skus: list[Any]
    tags: list[str]

    @property
    def id(self) -> str:  # what the page helpers read off the last row for the next cursor
        return str(self.product.id)


_ProductRow = namedtuple("_ProductRow", [column.key for column in PRODUCT_COLUMNS])  # type: ignore[misc]
_SkuRow = namedtuple("_SkuRow", [column.key for column in SKU_COLUMNS])  # type: ignore[misc]


def _with_details(products: _RowsSelect) -> _RowsSelect:
    """PostgreSQL: the products that ``products`` selects (``PRODUCT_COLUMNS``, filtered, ordered, limited) with
    their SKUs joined, a row per SKU (one row of NULLs for a product without any), and their tags as one
    array: a product or a page in one statement instead of three (docs/architecture.md §4.9)."""
    page = products.subquery("page")
    tags = (
        sa.select(sa.func.array_agg(aggregate_order_by(ProductTag.tag, ProductTag.tag)))
        .where(ProductTag.product_id == page.c.id)
        .scalar_subquery()
    )
    return (
        sa.select(*page.c, *(column.label(f"sku_{column.key}") for column in SKU_COLUMNS), tags.label("tags"))
        .select_from(page.outerjoin(Sku, Sku.product_id == page.c.id))
        .order_by(page.c.id.desc(), Sku.id)
    )


def _grouped(rows: Iterable[Sequence[Any]]) -> list[ProductRows]:
    """``_with_details`` rows (newest product first) as one ``ProductRows`` per product."""
    products: list[ProductRows] = []
    first_sku, after_sku = len(PRODUCT_COLUMNS), len(PRODUCT_COLUMNS) + len(SKU_COLUMNS)
    current: ProductRows | None = None
    for row in rows:
        if current is None or current.product.id != row[0]:
            current = ProductRows(_ProductRow._make(row[:first_sku]), [], list(row[after_sku] or ()))
            products.append(current)
        if row[first_sku] is not None:
            current.skus.append(_SkuRow._make(row[first_sku:after_sku]))
    return products


_PRODUCT_WITH_DETAILS = PreparedRead(
    _with_details(
        sa.select(*PRODUCT_COLUMNS).where(
            Product.id == sa.bindparam("product_id"), Product.shop_id == sa.bindparam("shop_id")
        )
    )
)


def _is_postgresql(session: DbSession) -> bool:
    return dialect_name(session) == "postgresql"


def get_product_row(session: DbSession, *, shop_id: str, product_id: str) -> tuple[_Row, list[_Row], list[str]]:
    """``get_product`` as Core rows: the product's ``PRODUCT_COLUMNS``, its SKUs' ``SKU_COLUMNS`` (by id)
    and its tags (in code-point order). One statement on PostgreSQL, three elsewhere."""
    found: ProductRows | None = None
    if _well_formed([product_id]):
        params = {"product_id": product_id, "shop_id": shop_id}
        if _is_postgresql(session):
            found = next(iter(_grouped(_PRODUCT_WITH_DETAILS.tuples(session, params))), None)
        elif (row := _PRODUCT_ROW.first(session, params)) is not None:
            found = ProductRows(
                row, skus_of_products(session, [row.id])[row.id], tags_of_products(session, [row.id])[row.id]
            )
    if found is None:
        raise ProductNotFound(f"No product {product_id} in this shop.")
    return found.product, found.skus, found.tags


def skus_of_products(session: DbSession, product_ids: Sequence[str]) -> dict[str, list[_Row]]:
    """The SKUs (``SKU_COLUMNS`` rows, by id) of each product, in one query; an empty list for none."""
    found: dict[str, list[_Row]] = {product_id: [] for product_id in product_ids}
    if product_ids:
        for sku in _SKU_ROWS.all(session, {"product_ids": list(product_ids)}):
            found[sku.product_id].append(sku)
    return found


def tags_of_products(session: DbSession, product_ids: Sequence[str]) -> dict[str, list[str]]:
    """The tags of each product (code-point order), in one query; an empty list for none."""
    found: dict[str, list[str]] = {product_id: [] for product_id in product_ids}
    if product_ids:
        for product_id, tag in _TAG_ROWS.all(session, {"product_ids": list(product_ids)}):
            found[product_id].append(tag)
    return found


@dataclass(frozen=True, slots=True)
class _ProductFilters:
    """Which filters a product list uses: its SQL's shape (the values are bound parameters)."""

    status: bool = False
    q: bool = False
    categories: bool = False
    tag: bool = False


def _filter_values(
    shop_id: str, status: str | None, q: str | None, category_ids: Collection[str] | None, tag: str | None
) -> tuple[_ProductFilters, dict[str, Any]]:
    values: dict[str, Any] = {"shop_id": shop_id}
    if status:
        values["status"] = status
    if q:  # a substring, any case, with LIKE's wildcards taken literally
        escaped = q.lower().replace("/", "//").replace("%", "/%").replace("_", "/_")
        values["title_pattern"] = f"%{escaped}%"
    if category_ids is not None:
        values["category_ids"] = sorted(category_ids)
    if tag is not None:
        values["tag"] = tag
    shape = _ProductFilters(bool(status), bool(q), category_ids is not None, tag is not None)
    return shape, values


def _filtered_products(shape: _ProductFilters, *, postgresql: bool) -> _RowsSelect:
    stmt = sa.select(*PRODUCT_COLUMNS).where(Product.shop_id == sa.bindparam("shop_id", type_=sa.String))
    if shape.status:
        stmt = stmt.where(Product.status == sa.bindparam("status", type_=sa.String))
    if shape.q:
        stmt = stmt.where(sa.func.lower(Product.title).like(sa.bindparam("title_pattern", type_=sa.String), escape="/"))
    if shape.categories:
        stmt = stmt.where(
            Product.category_id == sa.any_(id_array("category_ids"))
            if postgresql
            else Product.category_id.in_(sa.bindparam("category_ids", expanding=True))
        )
    if shape.tag:
        tagged = sa.select(ProductTag.product_id).where(
            ProductTag.shop_id == sa.bindparam("shop_id", type_=sa.String),
            ProductTag.tag == sa.bindparam("tag", type_=sa.String),
        )
        stmt = stmt.where(Product.id.in_(tagged))
    return stmt


@functools.lru_cache(maxsize=64)
def _product_page_read(shape: _ProductFilters, after: bool) -> PreparedRead:
    """One page of products of one filter shape, built once per process (docs/architecture.md §4.9)."""
    return PreparedRead(
        keyset(_filtered_products(shape, postgresql=False), Product.id, after=after),
        postgresql=keyset(_filtered_products(shape, postgresql=True), Product.id, after=after),
    )


@functools.lru_cache(maxsize=64)
def _product_page_with_details_read(shape: _ProductFilters, after: bool) -> PreparedRead:
    """PostgreSQL: one page of products of one filter shape with their SKUs and tags (``_with_details``)."""
    return PreparedRead(_with_details(keyset(_filtered_products(shape, postgresql=True), Product.id, after=after)))


def list_products_stmt(
    shop_id: str,
    *,
    status: str | None = None,
    q: str | None = None,
    category_ids: Collection[str] | None = None,
    tag: str | None = None,
) -> _RowsSelect:
    """The shop's products as ``PRODUCT_COLUMNS`` rows, optionally by status, title substring (any case),
    category (any of ``category_ids``: pass a subtree from ``categories.subtree_ids``) and tag (exact).

    Their SKUs and tags come from ``skus_of_products`` and ``tags_of_products`` (two more queries per page).
    """
    shape, values = _filter_values(shop_id, status, q, category_ids, tag)
    return _filtered_products(shape, postgresql=False).params(values)


def product_rows(
    session: DbSession,
    shop_id: str,
    *,
    status: str | None = None,
    q: str | None = None,
    category_ids: Collection[str] | None = None,
    tag: str | None = None,
    limit: int,
    after_id: str | None,
) -> Sequence[Any]:
    """Up to ``limit`` rows of ``list_products_stmt``, newest first, ids below ``after_id``: a prepared read."""
    shape, values = _page_values(shop_id, status, q, category_ids, tag, limit, after_id)
    return _product_page_read(shape, after_id is not None).all(session, values)


def _page_values(
    shop_id: str,
    status: str | None,
    q: str | None,
    category_ids: Collection[str] | None,
    tag: str | None,
    limit: int,
    after_id: str | None,
) -> tuple[_ProductFilters, dict[str, Any]]:
    """A page's filter shape and bound values, the keyset's ``page_limit`` and ``page_after`` included."""
    shape, values = _filter_values(shop_id, status, q, category_ids, tag)
    values["page_limit"] = limit
    if after_id is not None:
        values["page_after"] = after_id
    return shape, values


def product_page(
    session: DbSession,
    shop_id: str,
    *,
    status: str | None = None,
    q: str | None = None,
    category_ids: Collection[str] | None = None,
    tag: str | None = None,
    limit: int,
    after_id: str | None,
) -> list[ProductRows]:
    """``product_rows`` with each product's SKUs and tags: one statement on PostgreSQL, three elsewhere."""
    if not _is_postgresql(session):
        rows = product_rows(
            session, shop_id, status=status, q=q, category_ids=category_ids, tag=tag, limit=limit, after_id=after_id
        )
        ids = [row.id for row in rows]
        skus, tags = skus_of_products(session, ids), tags_of_products(session, ids)
        return [ProductRows(row, skus[row.id], tags[row.id]) for row in rows]
    shape, values = _page_values(shop_id, status, q, category_ids, tag, limit, after_id)
    return _grouped(_product_page_with_details_read(shape, after_id is not None).tuples(session, values))


def list_adjustments_stmt(session: DbSession, *, shop_id: str, sku_id: str) -> sa.Select[Any]:
    """The stock audit trail of one SKU (404 when the SKU is not in the shop)."""
    get_sku(session, shop_id=shop_id, sku_id=sku_id)
    return sa.select(InventoryAdjustment).where(
        InventoryAdjustment.shop_id == shop_id, InventoryAdjustment.sku_id == sku_id
    )


# ---------------------------------------------------------------- products and SKUs


def _check_status(status: str) -> None:
    if status not in PRODUCT_STATUSES:
        raise Unprocessable(
            f"Status must be one of {', '.join(PRODUCT_STATUSES)}.", errors={"status": ["Unknown status."]}
        )


def _check_codes_free(session: DbSession, *, shop_id: str, codes: Mapping[str, str], except_sku: str | None) -> None:
    """``codes`` maps an error field name to a code; raise 409 naming every code another SKU uses."""
    stmt = sa.select(Sku.code, Sku.id).where(Sku.shop_id == shop_id, Sku.code.in_(set(codes.values())))
    if except_sku is not None:
        stmt = stmt.where(Sku.id != except_sku)
    used = {code: sku_id for code, sku_id in session.execute(stmt)}
    taken = {
        field: [f"Code {code!r} is already used by {used[code]}."] for field, code in codes.items() if code in used
    }
    if taken:
        raise SkuCodeTaken("SKU codes must be unique within the shop.", errors=taken)


def _check_tags(tags: Sequence[str]) -> None:
    """The rules the request schema checks, again for callers that skip it (400-free service contract)."""
    problems: dict[str, list[str]] = {}
    if len(tags) > MAX_TAGS:
        problems["tags"] = [f"At most {MAX_TAGS} tags."]
    for i, tag in enumerate(tags):
        if not 1 <= len(tag) <= 30 or not tag.strip() or "\x00" in tag:
            problems[f"tags.{i}"] = ["A tag is 1 to 30 characters, not blank."]
        elif tag in tags[:i]:
            problems[f"tags.{i}"] = [f"Tag {tag!r} appears more than once."]
    if problems:
        raise Unprocessable("Tags must be 1 to 30 characters, distinct, at most 20.", errors=problems)


def _set_tags(session: DbSession, product: Product, tags: Sequence[str]) -> bool:
    """Make ``tags`` the product's tags; True when they changed."""
    if sorted(tags) == product.tags:
        return False
    wanted = set(tags)
    product.tag_rows = [row for row in product.tag_rows if row.tag in wanted] + [
        ProductTag(shop_id=product.shop_id, tag=tag) for tag in sorted(wanted - set(product.tags))
    ]
    product.tag_rows.sort(key=lambda row: row.tag)
    return True


def _new_sku(session: DbSession, product: Product, spec: NewSku, currency: str) -> Sku:
    sku = Sku(
        shop_id=product.shop_id,
        product=product,
        code=spec.code,
        title=spec.title,
        price=spec.price,
        currency=currency,
        on_hand=spec.on_hand,
        reserved=0,
    )
    session.add(sku)
    session.flush()
    _emit_sku(session, sku, "sku.created")
    if spec.on_hand:
        _record_adjustment(session, sku, spec.on_hand, "initial stock", None)
    return sku


def create_product(
    session: DbSession,
    *,
    shop_id: str,
    title: str,
    description: str = "",
    status: str = "draft",
    skus: Sequence[NewSku] = (),
    category_id: str | None = None,
    tags: Sequence[str] = (),
) -> Product:
    """Create a product together with its SKUs (priced in the shop's currency) and tags.

    Without ``category_id`` it goes into the shop's default category (created on first use).
    """
    _check_status(status)
    _check_tags(tags)
    codes: dict[str, str] = {}
    duplicates: dict[str, list[str]] = {}
    for i, spec in enumerate(skus):
        field = f"skus.{i}.code"
        if spec.code in codes.values():
            duplicates[field] = [f"Code {spec.code!r} appears more than once in this request."]
        codes[field] = spec.code
        _check_stock_limit(spec.on_hand, f"skus.{i}.on_hand")
    if duplicates:
        raise Unprocessable("Each SKU needs its own code.", errors=duplicates)
    if codes:
        _check_codes_free(session, shop_id=shop_id, codes=codes, except_sku=None)
    currency = get_shop(session, shop_id).currency
    if category_id is None:
        category_id = default_category(session, shop_id=shop_id).id
    else:
        get_category(session, shop_id=shop_id, category_id=category_id)
    product = Product(shop_id=shop_id, title=title, description=description, status=status, category_id=category_id)
    product.tag_rows = [ProductTag(shop_id=shop_id, tag=tag) for tag in sorted(set(tags))]
    session.add(product)
    session.flush()
    for spec in skus:
        _new_sku(session, product, spec, currency)
    _emit_product(session, product, "product.created")
    return product


def update_product(
    session: DbSession, *, shop_id: str, product_id: str, changes: Mapping[str, Any], expected_version: int | None
) -> Product:
    """Change title, description, status, category or tags (``tags`` replaces the list); a move to
    ``archived`` emits ``product.archived``."""
    product = get_product(session, shop_id=shop_id, product_id=product_id)
    check_version(product.version, expected_version)
    if "status" in changes:
        _check_status(changes["status"])
    if "tags" in changes:
        _check_tags(changes["tags"])
    fields = ("title", "description", "status", "category_id")
    changed = {k: v for k, v in changes.items() if k in fields and getattr(product, k) != v}
    if "category_id" in changed:
        get_category(session, shop_id=shop_id, category_id=changed["category_id"])
    retagged = "tags" in changes and _set_tags(session, product, changes["tags"])
    if not changed and not retagged:
        return product
    for name, value in changed.items():
        setattr(product, name, value)
    if retagged and not changed:
        flag_modified(product, "title")  # tags live in their own table: the product's UPDATE bumps its version
    session.flush()
    _emit_product(session, product, "product.archived" if changed.get("status") == "archived" else "product.updated")
    return product


def archive_product(session: DbSession, *, shop_id: str, product_id: str, expected_version: int | None) -> Product:
    """Archive (the API's DELETE): the product stays for order history but can no longer be sold.

    Archiving an archived product changes nothing.
    """
    return update_product(
        session,
        shop_id=shop_id,
        product_id=product_id,
        changes={"status": "archived"},
        expected_version=expected_version,
    )


def add_sku(session: DbSession, *, shop_id: str, product_id: str, spec: NewSku) -> Sku:
    product = get_product(session, shop_id=shop_id, product_id=product_id)
    _check_stock_limit(spec.on_hand, "on_hand")
    _check_codes_free(session, shop_id=shop_id, codes={"code": spec.code}, except_sku=None)
    return _new_sku(session, product, spec, get_shop(session, shop_id).currency)


def update_sku(
    session: DbSession, *, shop_id: str, sku_id: str, changes: Mapping[str, Any], expected_version: int | None
) -> Sku:
    """Change a SKU's code, title or price (stock changes go through ``adjust_inventory``)."""
    sku = get_sku(session, shop_id=shop_id, sku_id=sku_id)
    check_version(sku.version, expected_version)
    changed = {k: v for k, v in changes.items() if k in ("code", "title", "price") and getattr(sku, k) != v}
    if not changed:
        return sku
    if "code" in changed:
        _check_codes_free(session, shop_id=shop_id, codes={"code": changed["code"]}, except_sku=sku.id)
    for name, value in changed.items():
        setattr(sku, name, value)
    session.flush()
    _emit_sku(session, sku, "sku.updated")
    return sku


# ---------------------------------------------------------------- page helpers


def product_tag_names(session: DbSession, *, shop_id: str) -> list[str]:
    """Every tag the shop's products carry, once each in code-point order (for a filter's choices)."""
    return list(
        session.scalars(
            sa.select(ProductTag.tag).where(ProductTag.shop_id == shop_id).distinct().order_by(ProductTag.tag)
        )
    )


def product_titles(session: DbSession, *, shop_id: str, product_ids: Iterable[str]) -> dict[str, str]:
    """The titles of the shop's products among ``product_ids`` (ids of other shops or none are left out)."""
    wanted = sorted(_well_formed(product_ids))
    if not wanted:
        return {}
    rows = session.execute(
        sa.select(Product.id, Product.title).where(Product.shop_id == shop_id, Product.id.in_(wanted))
    )
    return {product_id: title for product_id, title in rows}


def sku_codes(session: DbSession, *, shop_id: str, sku_ids: Iterable[str]) -> dict[str, str]:
    """The codes of the shop's SKUs among ``sku_ids`` (ids of other shops or none are left out)."""
    wanted = sorted(_well_formed(sku_ids))
    if not wanted:
        return {}
    rows = session.execute(sa.select(Sku.id, Sku.code).where(Sku.shop_id == shop_id, Sku.id.in_(wanted)))
    return {sku_id: code for sku_id, code in rows}
