"""Categories over HTTP: the tree's rules (names, depth, moves, deletes), the default category, tenancy,
and products' categories and tags (filters by subtree and tag)."""

from __future__ import annotations

import sqlalchemy as sa

from factories import ShopFactory, token_for
from souk_platform.catalog.models import Category, Product, ProductTag
from souk_platform.events.models import OutboxEvent


def _post(client, headers, **body):
    return client.post("/api/v1/categories", headers=headers, json=body)


def _made(client, headers, name, parent_id=None):
    r = _post(client, headers, name=name, parent_id=parent_id)
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def _patch(client, headers, category, **changes):
    return client.patch(
        f"/api/v1/categories/{category['id']}",
        headers={**headers, "If-Match": f'"{category["version"]}"'},
        json=changes,
    )


def _tree(client, headers):
    r = client.get("/api/v1/categories", headers=headers)
    assert r.status_code == 200, r.get_json()
    return [(c["path"], c["depth"]) for c in r.get_json()["items"]]


def test_a_tree_is_listed_depth_first_with_paths_and_events(client, session):
    shop = ShopFactory()
    headers = token_for(shop, ["read_products", "write_products"])
    baby = _made(client, headers, "母婴")
    milk = _made(client, headers, "奶粉", baby["id"])
    stage = _made(client, headers, "一段", milk["id"])
    _made(client, headers, "Apparel")
    r = _post(client, headers, name="Diapers", parent_id=baby["id"], position=-1)
    assert r.status_code == 422 and "position" in r.get_json()["errors"]
    _post(client, headers, name="Diapers", parent_id=baby["id"], position=0)

    assert stage["depth"] == 3 and stage["path"] == ["母婴", "奶粉", "一段"] and stage["parent_id"] == milk["id"]
    # the default category was created with the first one; siblings by position, then name (code points)
    assert _tree(client, headers) == [
        (["Apparel"], 1),
        (["未分类"], 1),
        (["母婴"], 1),
        (["母婴", "Diapers"], 2),
        (["母婴", "奶粉"], 2),
        (["母婴", "奶粉", "一段"], 3),
    ]
    fetched = client.get(f"/api/v1/categories/{milk['id']}", headers=headers)
    assert fetched.status_code == 200 and fetched.get_json() == milk and fetched.headers["ETag"] == '"1"'
    types = session.scalars(
        sa.select(OutboxEvent.type).where(OutboxEvent.shop_id == shop.id, OutboxEvent.subject_type == "category")
    ).all()
    assert sorted(types) == ["category.created"] * 6


def test_names_are_unique_among_siblings_whatever_the_case(client, session):
    shop = ShopFactory()
    headers = token_for(shop, ["read_products", "write_products"])
    tea = _made(client, headers, "Tea")
    r = _post(client, headers, name="TEA")
    assert r.status_code == 409 and r.get_json()["errors"] == {"name": [r.get_json()["errors"]["name"][0]]}
    assert _made(client, headers, "tea", tea["id"])["path"] == ["Tea", "tea"]  # another parent: fine
    green = _made(client, headers, "Green")
    assert _patch(client, headers, green, name="tea").status_code == 409
    assert session.scalar(sa.select(sa.func.count()).select_from(Category).where(Category.shop_id == shop.id)) == 4


def test_depth_and_cycles_are_refused_and_a_move_takes_the_subtree(client, session):
    shop = ShopFactory()
    headers = token_for(shop, ["read_products", "write_products"])
    a = _made(client, headers, "A")
    b = _made(client, headers, "B", a["id"])
    c = _made(client, headers, "C", b["id"])
    too_deep = _post(client, headers, name="D", parent_id=c["id"])
    assert too_deep.status_code == 422 and "parent_id" in too_deep.get_json()["errors"]

    under_itself = _patch(client, headers, a, parent_id=a["id"])
    under_descendant = _patch(client, headers, a, parent_id=c["id"])
    assert under_itself.status_code == 422 and under_descendant.status_code == 422
    assert "parent_id" in under_descendant.get_json()["errors"]

    x = _made(client, headers, "X")
    deeper = _patch(client, headers, b, parent_id=x["id"])  # B's subtree is 2 levels: X/B/C is 3, fine
    assert deeper.status_code == 200, deeper.get_json()
    assert deeper.get_json()["path"] == ["X", "B"] and deeper.get_json()["version"] == 2
    y = _made(client, headers, "Y", x["id"])
    assert _patch(client, headers, deeper.get_json(), parent_id=y["id"]).status_code == 422  # X/Y/B/C
    stale = _patch(client, headers, b, name="B2")
    assert stale.status_code == 412
    to_root = _patch(client, headers, deeper.get_json(), parent_id=None)
    assert to_root.status_code == 200 and to_root.get_json()["depth"] == 1
    assert (["B", "C"], 2) in _tree(client, headers)


def test_delete_refuses_categories_with_products_children_or_the_default(client, session):
    shop = ShopFactory()
    headers = token_for(shop, ["read_products", "write_products"])
    parent = _made(client, headers, "Parent")
    child = _made(client, headers, "Child", parent["id"])
    product = client.post("/api/v1/products", headers=headers, json={"title": "Milk", "category_id": child["id"]})
    assert product.status_code == 201 and product.get_json()["category_id"] == child["id"]

    def delete(category):
        return client.delete(
            f"/api/v1/categories/{category['id']}", headers={**headers, "If-Match": f'"{category["version"]}"'}
        )

    assert delete(parent).status_code == 409  # has a child
    assert delete(child).status_code == 409  # has a product
    default = next(c for c in client.get("/api/v1/categories", headers=headers).get_json()["items"] if c["is_default"])
    assert delete(default).status_code == 409
    moved = client.patch(
        f"/api/v1/products/{product.get_json()['id']}",
        headers={**headers, "If-Match": '"1"'},
        json={"category_id": default["id"]},
    )
    assert moved.status_code == 200 and moved.get_json()["category_id"] == default["id"]
    assert delete(child).status_code == 204
    assert delete(parent).status_code == 204
    assert _tree(client, headers) == [(["未分类"], 1)]
    deleted = session.scalars(
        sa.select(OutboxEvent.subject_id).where(OutboxEvent.shop_id == shop.id, OutboxEvent.type == "category.deleted")
    ).all()
    assert sorted(deleted) == sorted([parent["id"], child["id"]])


def test_bad_category_bodies_are_422_naming_fields_and_change_nothing(client, session):
    shop = ShopFactory()
    shop_id = shop.id
    headers = token_for(shop, ["write_products"])
    cases = [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 61}, "name"),
        ({"name": "a\x00b"}, "name"),
        ({"name": "ok", "position": "1"}, "position"),
        ({"name": "ok", "parent_id": ""}, "parent_id"),
        ({"name": "ok", "surprise": 1}, "surprise"),
    ]
    for body, field in cases:
        r = _post(client, headers, **body)
        assert r.status_code == 422, (body, r.get_json())
        assert field in r.get_json()["errors"], (body, r.get_json())
    assert session.scalar(sa.select(sa.func.count()).select_from(Category).where(Category.shop_id == shop_id)) == 0


def test_another_shops_categories_are_404_everywhere(client, session):
    mine, theirs = ShopFactory(), ShopFactory()
    headers = token_for(mine, ["read_products", "write_products"])
    their = _made(client, token_for(theirs, ["write_products"]), "Theirs")
    assert client.get(f"/api/v1/categories/{their['id']}", headers=headers).status_code == 404
    assert _patch(client, headers, their, name="Mine").status_code == 404
    assert client.delete(f"/api/v1/categories/{their['id']}", headers=headers).status_code == 404
    r = _post(client, headers, name="Child", parent_id=their["id"])
    assert r.status_code == 404 and "parent_id" in r.get_json()["errors"]
    r = client.post("/api/v1/products", headers=headers, json={"title": "x", "category_id": their["id"]})
    assert r.status_code == 404 and "category_id" in r.get_json()["errors"]
    assert client.get(f"/api/v1/products?category_id={their['id']}", headers=headers).status_code == 404
    assert client.get("/api/v1/categories/cat_%00", headers=headers).status_code == 404
    assert session.scalar(sa.select(sa.func.count()).select_from(Product).where(Product.shop_id == mine.id)) == 0


def test_products_default_to_one_default_category_per_shop(client, session):
    shop = ShopFactory()
    headers = token_for(shop, ["read_products", "write_products"])
    first = client.post("/api/v1/products", headers=headers, json={"title": "One"}).get_json()
    second = client.post("/api/v1/products", headers=headers, json={"title": "Two"}).get_json()
    assert first["category_id"] == second["category_id"] and first["tags"] == []
    default = client.get(f"/api/v1/categories/{first['category_id']}", headers=headers).get_json()
    assert default["is_default"] and default["name"] == "未分类" and default["parent_id"] is None
    assert _patch(client, headers, default, parent_id=_made(client, headers, "Top")["id"]).status_code == 422
    renamed = _patch(client, headers, default, name="Other")
    assert renamed.status_code == 200 and renamed.get_json()["is_default"]


def test_products_filter_by_category_subtree_and_by_tag(client, session):
    shop = ShopFactory()
    headers = token_for(shop, ["read_products", "write_products"])
    baby = _made(client, headers, "母婴")
    milk = _made(client, headers, "奶粉", baby["id"])
    toys = _made(client, headers, "Toys")

    def product(title, category, tags):
        r = client.post(
            "/api/v1/products", headers=headers, json={"title": title, "category_id": category["id"], "tags": tags}
        )
        assert r.status_code == 201, r.get_json()
        return r.get_json()

    product("Formula", milk, ["新品", "hot"])
    product("Bottle", baby, ["hot"])
    product("Blocks", toys, ["新品"])

    def titles(query):
        r = client.get(f"/api/v1/products{query}", headers=headers)
        assert r.status_code == 200, r.get_json()
        return sorted(p["title"] for p in r.get_json()["items"])

    assert titles(f"?category_id={baby['id']}") == ["Bottle", "Formula"]  # the subtree
    assert titles(f"?category_id={milk['id']}") == ["Formula"]
    assert titles("?tag=hot") == ["Bottle", "Formula"]
    assert titles("?tag=%E6%96%B0%E5%93%81") == ["Blocks", "Formula"]
    assert titles(f"?tag=hot&category_id={milk['id']}") == ["Formula"]
    assert titles("?tag=HOT") == []  # tags match exactly
    bad = client.get("/api/v1/products?tag=" + "x" * 31, headers=headers)
    assert bad.status_code == 422 and "query.tag" in bad.get_json()["errors"]


def test_tags_are_set_replaced_and_checked(client, session):
    shop = ShopFactory()
    headers = token_for(shop, ["read_products", "write_products"])
    created = client.post("/api/v1/products", headers=headers, json={"title": "Tea", "tags": ["绿茶", "B", "a"]})
    assert created.status_code == 201 and created.get_json()["tags"] == ["B", "a", "绿茶"]
    product_id = created.get_json()["id"]
    url = f"/api/v1/products/{product_id}"
    changed = client.patch(url, headers={**headers, "If-Match": '"1"'}, json={"tags": ["a", "gift"]})
    assert changed.status_code == 200 and changed.get_json()["tags"] == ["a", "gift"]
    assert changed.get_json()["version"] == 2  # tags alone still make a new version
    assert client.get(url, headers=headers).get_json() == changed.get_json()
    event = session.scalars(
        sa.select(OutboxEvent).where(OutboxEvent.subject_id == product_id, OutboxEvent.type == "product.updated")
    ).one()
    assert event.payload["tags"] == ["a", "gift"] and event.payload["category_id"] == created.get_json()["category_id"]
    same = client.patch(url, headers=headers, json={"tags": ["gift", "a"]})
    assert same.status_code == 200 and same.get_json()["version"] == 2  # nothing changed

    for tags, field in [
        (["dup", "dup"], "tags"),
        (["x" * 31], "tags"),
        ([""], "tags"),
        ([f"t{i}" for i in range(21)], "tags"),
        ("gift", "tags"),
    ]:
        r = client.patch(url, headers=headers, json={"tags": tags})
        errors = r.get_json()["errors"]
        assert r.status_code == 422 and any(key.split(".")[0] == field for key in errors), (tags, errors)
    stored = session.scalars(sa.select(ProductTag.tag).where(ProductTag.product_id == product_id)).all()
    assert sorted(stored) == ["a", "gift"]
