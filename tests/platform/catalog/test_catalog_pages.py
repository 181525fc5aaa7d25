"""The back office's product and category pages: create and edit in yuan, filters, tree rules, tenancy."""

from __future__ import annotations

import sqlalchemy as sa

from factories import ShopFactory, form_key, log_in_to_shop
from souk_platform.catalog.categories import create_category
from souk_platform.catalog.models import Category, InventoryAdjustment, Product, Sku
from souk_platform.catalog.services import NewSku, create_product


def _product_form(**fields):
    form = {
        "title": "西湖龙井",
        "description": "明前",
        "status": "active",
        "category_id": "",
        "tags": "绿茶，礼盒",
        "form_key": form_key(),
        "new_skus-0-code": "LJ-250",
        "new_skus-0-title": "250g",
        "new_skus-0-price": "128.50",
        "new_skus-0-on_hand": "12",
    }
    return form | fields


def test_a_product_is_created_with_its_category_tags_and_a_price_typed_in_yuan(client, session):
    shop = ShopFactory()
    green = create_category(session, shop_id=shop.id, name="绿茶")
    session.commit()
    log_in_to_shop(client, shop.id, role="staff")

    r = client.post(f"/shops/{shop.id}/products/new", data=_product_form(category_id=green.id))
    assert r.status_code == 302
    product = session.scalars(sa.select(Product).where(Product.shop_id == shop.id)).one()
    assert (product.title, product.category_id, product.tags) == ("西湖龙井", green.id, ["礼盒", "绿茶"])
    (sku,) = product.skus
    assert (sku.code, sku.price, sku.on_hand) == ("LJ-250", 12850, 12)

    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "Product created." in page and 'value="128.50"' in page
    listing = client.get(f"/shops/{shop.id}/products").get_data(as_text=True)
    assert "西湖龙井" in listing and "¥128.50" in listing


def test_a_bad_price_or_a_taken_code_is_explained_and_nothing_is_written(client, session):
    shop = ShopFactory()
    create_product(session, shop_id=shop.id, title="Old", skus=[NewSku(code="LJ-250", title="x", price=1, on_hand=0)])
    session.commit()
    log_in_to_shop(client, shop.id)

    r = client.post(f"/shops/{shop.id}/products/new", data=_product_form(**{"new_skus-0-price": "12.345"}))
    assert r.status_code == 422
    assert "Enter an amount like 5 or 5.00 (at most two decimals)." in r.get_data(as_text=True)

    r = client.post(f"/shops/{shop.id}/products/new", data=_product_form())
    assert r.status_code == 422
    assert "SKU codes must be unique within the shop." in r.get_data(as_text=True)
    session.expire_all()
    assert session.scalar(sa.select(sa.func.count()).select_from(Product).where(Product.shop_id == shop.id)) == 1


def test_editing_a_product_changes_price_and_records_the_stock_count(client, session):
    shop = ShopFactory()
    product = create_product(
        session, shop_id=shop.id, title="Tea", skus=[NewSku(code="T-1", title="Tin", price=5000, on_hand=10)]
    )
    session.commit()
    (sku,) = product.skus
    log_in_to_shop(client, shop.id)
    page = client.get(f"/shops/{shop.id}/products/{product.id}").get_data(as_text=True)
    assert 'value="50.00"' in page

    form = {
        "version": str(product.version),
        "title": "Tea",
        "status": "active",
        "category_id": product.category_id,
        "tags": "",
        "form_key": form_key(),
        "skus-0-sku_id": sku.id,
        "skus-0-version": str(sku.version),
        "skus-0-title": "Tin",
        "skus-0-price": "¥45.5",
        "skus-0-on_hand": "7",
        "new_skus-0-code": "T-2",
        "new_skus-0-title": "Bag",
        "new_skus-0-price": "20",
        "new_skus-0-on_hand": "3",
    }
    r = client.post(f"/shops/{shop.id}/products/{product.id}", data=form)
    assert r.status_code == 302, r.get_data(as_text=True)
    session.expire_all()
    skus = {s.code: s for s in session.scalars(sa.select(Sku).where(Sku.product_id == product.id))}
    assert (skus["T-1"].price, skus["T-1"].on_hand, skus["T-2"].price, skus["T-2"].on_hand) == (4550, 7, 2000, 3)
    assert (
        session.scalar(
            sa.select(InventoryAdjustment.delta).where(
                InventoryAdjustment.sku_id == sku.id, InventoryAdjustment.delta < 0
            )
        )
        == -3
    )

    # The same form again (stale versions): refused, and nothing moves twice.
    r = client.post(f"/shops/{shop.id}/products/{product.id}", data=form | {"form_key": form_key()})
    assert r.status_code == 422
    session.expire_all()
    assert session.get(Sku, sku.id).on_hand == 7


def test_the_product_list_filters_by_category_subtree_tag_and_title(client, session):
    shop = ShopFactory()
    tea = create_category(session, shop_id=shop.id, name="茶")
    green = create_category(session, shop_id=shop.id, name="绿茶", parent_id=tea.id)
    cups = create_category(session, shop_id=shop.id, name="茶具")
    create_product(session, shop_id=shop.id, title="Longjing", category_id=green.id, tags=["gift"])
    create_product(session, shop_id=shop.id, title="Teacup", category_id=cups.id, tags=["gift"])
    create_product(session, shop_id=shop.id, title="Biluochun", category_id=green.id)
    session.commit()
    log_in_to_shop(client, shop.id)

    def titles(query):
        page = client.get(f"/shops/{shop.id}/products?{query}").get_data(as_text=True)
        return sorted(t for t in ("Longjing", "Teacup", "Biluochun") if f">{t}</a>" in page)

    assert titles(f"category={tea.id}") == ["Biluochun", "Longjing"]
    assert titles("tag=gift") == ["Longjing", "Teacup"]
    assert titles("q=cup") == ["Teacup"]
    assert titles(f"category={tea.id}&tag=gift") == ["Longjing"]


def test_the_category_tree_refuses_a_loop_a_taken_name_and_deleting_a_used_category(client, session):
    shop = ShopFactory()
    tea = create_category(session, shop_id=shop.id, name="茶")
    green = create_category(session, shop_id=shop.id, name="绿茶", parent_id=tea.id)
    create_product(session, shop_id=shop.id, title="Longjing", category_id=green.id)
    session.commit()
    log_in_to_shop(client, shop.id)
    base = f"/shops/{shop.id}/categories"

    r = client.post(
        f"{base}/{tea.id}/move", data={"parent_id": green.id, "version": tea.version}, follow_redirects=True
    )
    assert "A category cannot move under itself or one of its descendants." in r.get_data(as_text=True)
    r = client.post(base, data={"name": "绿茶", "parent_id": tea.id}, follow_redirects=True)
    assert "already named" in r.get_data(as_text=True)
    r = client.post(f"{base}/{green.id}/delete", data={"version": green.version}, follow_redirects=True)
    assert "still holds 1 products" in r.get_data(as_text=True)
    session.expire_all()
    assert session.get(Category, tea.id).parent_id is None
    assert session.scalar(sa.select(sa.func.count()).select_from(Category).where(Category.shop_id == shop.id)) == 3

    r = client.post(base, data={"name": "红茶", "parent_id": tea.id}, follow_redirects=True)
    assert "Category added." in r.get_data(as_text=True)
    red = session.scalars(sa.select(Category).where(Category.name == "红茶", Category.shop_id == shop.id)).one()
    assert red.parent_id == tea.id
    r = client.post(f"{base}/{red.id}/rename", data={"name": "正山小种", "version": red.version}, follow_redirects=True)
    assert "Category renamed." in r.get_data(as_text=True)
    session.expire_all()
    r = client.post(f"{base}/{red.id}/move", data={"parent_id": "", "version": red.version}, follow_redirects=True)
    assert "Category moved." in r.get_data(as_text=True)
    session.expire_all()
    assert (session.get(Category, red.id).name, session.get(Category, red.id).parent_id) == ("正山小种", None)


def test_another_shops_products_and_categories_stay_out_of_reach(client, session):
    shop, other = ShopFactory(), ShopFactory()
    theirs = create_product(session, shop_id=other.id, title="Theirs")
    their_category = create_category(session, shop_id=other.id, name="Theirs")
    session.commit()
    log_in_to_shop(client, shop.id)

    assert client.get(f"/shops/{other.id}/products").status_code == 404
    assert client.get(f"/shops/{other.id}/categories").status_code == 404
    assert client.get(f"/shops/{shop.id}/products/{theirs.id}").status_code == 404
    assert client.get(f"/shops/{shop.id}/products?category={their_category.id}").status_code == 404
    r = client.post(f"/shops/{shop.id}/categories/{their_category.id}/rename", data={"name": "Mine"})
    assert r.status_code == 302
    r = client.post(f"/shops/{shop.id}/categories/{their_category.id}/delete", data={})
    session.expire_all()
    assert session.get(Category, their_category.id).name == "Theirs"
    r = client.post(f"/shops/{shop.id}/categories", data={"name": "Sub", "parent_id": their_category.id})
    session.expire_all()
    assert (
        session.scalar(sa.select(sa.func.count()).select_from(Category).where(Category.parent_id == their_category.id))
        == 0
    )


def test_a_product_form_sent_twice_creates_one_product_and_the_repeat_goes_to_it(client, session):
    shop = ShopFactory()
    log_in_to_shop(client, shop.id)
    form = _product_form()
    first = client.post(f"/shops/{shop.id}/products/new", data=form)
    again = client.post(f"/shops/{shop.id}/products/new", data=form)
    assert first.status_code == again.status_code == 302
    assert again.headers["Location"] == first.headers["Location"]
    assert "it was done once, not twice" in client.get(again.headers["Location"]).get_data(as_text=True)
    session.expire_all()
    assert session.scalar(sa.select(sa.func.count()).select_from(Product).where(Product.shop_id == shop.id)) == 1


def test_a_nul_character_anywhere_is_a_400_not_a_database_error(client, session):
    shop = ShopFactory()
    log_in_to_shop(client, shop.id)
    assert client.get(f"/shops/{shop.id}/products?q=a%00b").status_code == 400
    assert client.get(f"/shops/{shop.id}/customers?q=%00").status_code == 400
    assert client.get(f"/shops/{shop.id}/customers/cus_%00").status_code == 400
    assert client.post(f"/shops/{shop.id}/products/new", data=_product_form(title="Tea\x00")).status_code == 400
    assert client.post(f"/shops/{shop.id}/categories", data={"name": "a\x00", "parent_id": ""}).status_code == 400
    assert (
        client.post(f"/shops/{shop.id}/tags", data={"name": "x", "kind": "manual", "description": "\x00"}).status_code
        == 400
    )
    session.expire_all()
    assert session.scalar(sa.select(sa.func.count()).select_from(Product).where(Product.shop_id == shop.id)) == 0
