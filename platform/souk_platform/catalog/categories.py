"""Category rules: the shop's category tree and the default category every product falls back to.

The tree of a shop is small (at most ``MAX_CATEGORIES`` nodes), so a rule that needs the tree (depth,
cycles, a subtree) reads all of the shop's categories in one statement and walks them in Python.
Every change to the tree first locks the shop's category rows (``FOR UPDATE``, in id order, as the
ledger locks its accounts), so two concurrent moves cannot together build a cycle or a tree deeper
than ``MAX_CATEGORY_DEPTH``. See docs/architecture.md §5.1.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from souk_platform.catalog.errors import (
    CategoryInUse,
    CategoryLimitReached,
    CategoryNameTaken,
    CategoryNotFound,
    CategoryTreeInvalid,
)
from souk_platform.catalog.models import (
    DEFAULT_CATEGORY_NAME,
    MAX_CATEGORIES,
    MAX_CATEGORY_DEPTH,
    Category,
    Product,
)
from souk_platform.core.ids import new_id
from souk_platform.core.versions import check_version
from souk_platform.db import DbSession
from souk_platform.events.services import emit
from souk_platform.shops.models import Shop

__all__ = [
    "CategoryNode",
    "category_tree",
    "create_category",
    "default_category",
    "delete_category",
    "get_category",
    "get_category_node",
    "subtree_ids",
    "update_category",
]

_ID = re.compile(r"cat_[0-9a-z]{26}")


@dataclass(frozen=True, slots=True)
class CategoryNode:
    """A category as the API shows it: its row plus ``depth`` (1 for a root) and ``path`` (names from the root)."""

    category: Category
    depth: int
    path: list[str]

    def __getattr__(self, name: str) -> Any:  # the schema reads the row's columns through the node
        return getattr(self.category, name)


def sibling_key(parent_id: str | None, name: str) -> str:
    """What makes a name unique among siblings whatever its case (``Category.sibling_key``)."""
    return f"{parent_id or ''}/{name.casefold()}"


def category_payload(category: Category) -> dict[str, Any]:
    return {
        "id": category.id,
        "parent_id": category.parent_id,
        "name": category.name,
        "position": category.position,
        "is_default": category.is_default,
        "version": category.version,
    }


def _emit(session: DbSession, category: Category, type: str) -> None:
    emit(
        session,
        shop_id=category.shop_id,
        type=type,
        subject_type="category",
        subject_id=category.id,
        payload=category_payload(category),
    )


# ---------------------------------------------------------------- reading


def _shop_categories(session: DbSession, shop_id: str, *, lock: bool = False) -> dict[str, Category]:
    stmt = sa.select(Category).where(Category.shop_id == shop_id).order_by(Category.id)
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return {category.id: category for category in session.scalars(stmt)}


def _ancestry(categories: Mapping[str, Category], category_id: str) -> list[Category]:
    """The category and its ancestors, root first."""
    chain: list[Category] = []
    current: str | None = category_id
    while current is not None and len(chain) <= MAX_CATEGORY_DEPTH:
        chain.append(categories[current])
        current = categories[current].parent_id
    return chain[::-1]


def _children(categories: Iterable[Category]) -> dict[str | None, list[Category]]:
    children: dict[str | None, list[Category]] = {}
    for category in categories:
        children.setdefault(category.parent_id, []).append(category)
    for siblings in children.values():
        siblings.sort(key=lambda c: (c.position, c.name.casefold(), c.id))
    return children


def category_tree(session: DbSession, *, shop_id: str) -> list[CategoryNode]:
    """The shop's categories depth first: each parent before its children, siblings by position then name."""
    categories = _shop_categories(session, shop_id)
    children = _children(categories.values())
    nodes: list[CategoryNode] = []

    def visit(parent_id: str | None, path: list[str]) -> None:
        for category in children.get(parent_id, []):
            nodes.append(CategoryNode(category, len(path) + 1, [*path, category.name]))
            visit(category.id, [*path, category.name])

    visit(None, [])
    return nodes


def get_category(session: DbSession, *, shop_id: str, category_id: str) -> Category:
    category = None
    if _ID.fullmatch(category_id):  # anything else (NUL bytes included) never reaches the database
        category = session.scalar(sa.select(Category).where(Category.id == category_id, Category.shop_id == shop_id))
    if category is None:
        raise CategoryNotFound(
            f"No category {category_id} in this shop.", errors={"category_id": ["No such category."]}
        )
    return category


def get_category_node(session: DbSession, *, shop_id: str, category_id: str) -> CategoryNode:
    """One category with its depth and path (404 when it is not in the shop)."""
    get_category(session, shop_id=shop_id, category_id=category_id)
    categories = _shop_categories(session, shop_id)
    chain = _ancestry(categories, category_id)
    return CategoryNode(categories[category_id], len(chain), [c.name for c in chain])


def subtree_ids(session: DbSession, *, shop_id: str, category_id: str) -> list[str]:
    """The category and all its descendants (404 when it is not in the shop)."""
    get_category(session, shop_id=shop_id, category_id=category_id)
    children = _children(_shop_categories(session, shop_id).values())
    found, todo = [], [category_id]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(child.id for child in children.get(current, []))
    return found


def default_category(session: DbSession, *, shop_id: str) -> Category:
    """The shop's default category, created on first use (under a lock on the shop, so only once).

    A root category the merchant already named like the default becomes the default.
    """
    found = session.scalar(sa.select(Category).where(Category.shop_id == shop_id, Category.is_default.is_(True)))
    if found is not None:
        return found
    session.execute(sa.select(Shop.id).where(Shop.id == shop_id).with_for_update())
    key = sibling_key(None, DEFAULT_CATEGORY_NAME)
    found = session.scalar(
        sa.select(Category)
        .where(Category.shop_id == shop_id, sa.or_(Category.is_default.is_(True), Category.sibling_key == key))
        .order_by(Category.is_default.desc())
        .execution_options(populate_existing=True)
    )
    if found is None:
        found = Category(
            id=new_id("cat"), shop_id=shop_id, parent_id=None, name=DEFAULT_CATEGORY_NAME, sibling_key=key, position=0
        )
        session.add(found)
    if not found.is_default:
        found.is_default = True
        session.flush()
        _emit(session, found, "category.created" if found.version == 1 else "category.updated")
    return found


# ---------------------------------------------------------------- changing


def _check_name_free(
    categories: Mapping[str, Category], *, parent_id: str | None, name: str, except_id: str | None
) -> None:
    key = sibling_key(parent_id, name)
    for category in categories.values():
        if category.sibling_key == key and category.id != except_id:
            raise CategoryNameTaken(
                f"Category {category.id} under the same parent is already named {category.name!r}.",
                errors={"name": ["A sibling category has this name (names ignore case)."]},
            )


def _height(children: Mapping[str | None, Sequence[Category]], category_id: str) -> int:
    """Levels of the subtree rooted at ``category_id`` (1 for a leaf)."""
    return 1 + max((_height(children, child.id) for child in children.get(category_id, [])), default=0)


def _parent(categories: Mapping[str, Category], parent_id: str | None) -> Category | None:
    if parent_id is None:
        return None
    parent = categories.get(parent_id)
    if parent is None:
        raise CategoryNotFound(
            f"No category {parent_id} in this shop.", errors={"parent_id": ["No such category in this shop."]}
        )
    return parent


def _check_depth(categories: Mapping[str, Category], parent: Category | None, height: int) -> None:
    depth = (len(_ancestry(categories, parent.id)) if parent is not None else 0) + height
    if depth > MAX_CATEGORY_DEPTH:
        raise CategoryTreeInvalid(
            f"Categories nest at most {MAX_CATEGORY_DEPTH} levels deep; this would make {depth}.",
            errors={"parent_id": [f"The tree would be {depth} levels deep (at most {MAX_CATEGORY_DEPTH})."]},
        )


def create_category(
    session: DbSession, *, shop_id: str, name: str, parent_id: str | None = None, position: int = 0
) -> Category:
    """Add a category under ``parent_id`` (a root when None); 409 when a sibling has the name."""
    default_category(session, shop_id=shop_id)  # the default exists before any other, so it is never a merchant's
    categories = _shop_categories(session, shop_id, lock=True)
    if len(categories) >= MAX_CATEGORIES:
        raise CategoryLimitReached(f"A shop has at most {MAX_CATEGORIES} categories.")
    parent = _parent(categories, parent_id)
    _check_depth(categories, parent, 1)
    _check_name_free(categories, parent_id=parent_id, name=name, except_id=None)
    category = Category(
        id=new_id("cat"),
        shop_id=shop_id,
        parent_id=parent_id,
        name=name,
        sibling_key=sibling_key(parent_id, name),
        position=position,
    )
    session.add(category)
    session.flush()
    _emit(session, category, "category.created")
    return category


def update_category(
    session: DbSession, *, shop_id: str, category_id: str, changes: Mapping[str, Any], expected_version: int | None
) -> Category:
    """Rename, reorder or move (``parent_id``, None for a root) a category with its subtree.

    A move under itself or a descendant, or one that makes the tree deeper than allowed, is a 422;
    the default category stays a root.
    """
    category = get_category(session, shop_id=shop_id, category_id=category_id)
    check_version(category.version, expected_version)
    categories = _shop_categories(session, shop_id, lock=True)
    category = categories[category_id]
    changed = {k: v for k, v in changes.items() if k in ("name", "parent_id", "position") and getattr(category, k) != v}
    if not changed:
        return category
    parent_id = changed.get("parent_id", category.parent_id)
    name = changed.get("name", category.name)
    if "parent_id" in changed:
        if category.is_default:
            raise CategoryTreeInvalid(
                "The default category stays at the top of the tree.",
                errors={"parent_id": ["The default category cannot be moved."]},
            )
        parent = _parent(categories, parent_id)
        if parent is not None and category_id in {c.id for c in _ancestry(categories, parent.id)}:
            raise CategoryTreeInvalid(
                "A category cannot move under itself or one of its descendants.",
                errors={"parent_id": ["This is the category itself or one of its descendants."]},
            )
        _check_depth(categories, parent, _height(_children(categories.values()), category_id))
    _check_name_free(categories, parent_id=parent_id, name=name, except_id=category_id)
    for field, value in changed.items():
        setattr(category, field, value)
    category.sibling_key = sibling_key(parent_id, name)
    session.flush()
    _emit(session, category, "category.updated")
    return category


def delete_category(session: DbSession, *, shop_id: str, category_id: str, expected_version: int | None) -> None:
    """Delete an empty leaf category; 409 while it has products or subcategories, or is the default."""
    category = get_category(session, shop_id=shop_id, category_id=category_id)
    check_version(category.version, expected_version)
    categories = _shop_categories(session, shop_id, lock=True)
    category = categories[category_id]
    if category.is_default:
        raise CategoryInUse("The default category cannot be deleted: products fall back to it.")
    children = sum(1 for c in categories.values() if c.parent_id == category_id)
    products = session.scalar(
        sa.select(sa.func.count())
        .select_from(Product)
        .where(Product.shop_id == shop_id, Product.category_id == category_id)
    )
    if children or products:
        raise CategoryInUse(
            f"Category {category_id} still holds {products} products and {children} subcategories; move them first.",
            products=products,
            subcategories=children,
        )
    _emit(session, category, "category.deleted")
    session.delete(category)
    session.flush()
