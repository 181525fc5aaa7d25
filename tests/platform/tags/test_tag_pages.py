"""The back office's tag pages: manual and rule tags, a tag's customers, CSV imports, deleting, tenancy."""

from __future__ import annotations

import io

import sqlalchemy as sa

from factories import ShopFactory, log_in_to_shop
from souk_platform.customers.services import create_customer
from souk_platform.tags.models import CustomerTag, Tag
from souk_platform.tags.services import create_segment, create_tag


def _customers(session, shop):
    fang = create_customer(session, shop_id=shop.id, name="王芳", phone="13800138001")
    na = create_customer(session, shop_id=shop.id, name="李娜", phone="13800138002")
    fang.total_spent, na.total_spent = 150_000, 20_000
    session.commit()
    return fang, na


def test_a_rule_tag_made_on_the_page_takes_spend_in_yuan_and_finds_its_customers(client, session):
    shop = ShopFactory()
    fang, _na = _customers(session, shop)
    log_in_to_shop(client, shop.id)

    r = client.post(
        f"/shops/{shop.id}/tags",
        data={"name": "高消费", "kind": "rule", "description": "", "rule": "spent_at_least", "threshold": "1,000"},
        follow_redirects=True,
    )
    page = r.get_data(as_text=True)
    assert "Tag created." in page and "1 customers carry this tag." in page and ">王芳</a>" in page
    tag = session.scalars(sa.select(Tag).where(Tag.shop_id == shop.id)).one()
    assert tag.condition == {"op": "and", "conditions": [{"field": "total_spent", "cmp": "gte", "value": 100_000}]}
    assert set(session.scalars(sa.select(CustomerTag.customer_id).where(CustomerTag.tag_id == tag.id))) == {fang.id}


def test_a_bad_rule_value_or_a_taken_name_is_explained_and_creates_nothing(client, session, clock):
    shop = ShopFactory()
    create_tag(session, shop_id=shop.id, name="老客户", now=clock.now())
    session.commit()
    log_in_to_shop(client, shop.id)
    new = {"kind": "rule", "description": "", "rule": "level_at_least"}

    r = client.post(f"/shops/{shop.id}/tags", data=new | {"name": "高等级", "threshold": "9"})
    assert r.status_code == 422 and "This value is out of range for the condition." in r.get_data(as_text=True)
    r = client.post(f"/shops/{shop.id}/tags", data=new | {"name": "高等级", "threshold": "three"})
    assert r.status_code == 422 and "Enter a whole number." in r.get_data(as_text=True)
    r = client.post(f"/shops/{shop.id}/tags", data={"name": "老客户", "kind": "manual", "rule": "level_at_least"})
    assert r.status_code == 422
    assert "already named" in r.get_data(as_text=True)
    assert session.scalar(sa.select(sa.func.count()).select_from(Tag).where(Tag.shop_id == shop.id)) == 1


def test_a_csv_import_applies_good_rows_and_reports_bad_ones(client, session):
    shop = ShopFactory()
    fang, na = _customers(session, shop)
    log_in_to_shop(client, shop.id)
    csv_text = "13800138001,老客户\nwho@nowhere.example,老客户\n13800138002,茶友\n"
    r = client.post(f"/shops/{shop.id}/tags/import", data={"csv_text": csv_text, "create_missing_tags": "y"})
    page = r.get_data(as_text=True)
    assert "3 rows read, 2 applied, 1 skipped." in page
    tags = {t.name: t.id for t in session.scalars(sa.select(Tag).where(Tag.shop_id == shop.id))}
    assert set(tags) == {"老客户", "茶友"}
    carriers = {
        name: set(session.scalars(sa.select(CustomerTag.customer_id).where(CustomerTag.tag_id == i)))
        for name, i in tags.items()
    }
    assert carriers == {"老客户": {fang.id}, "茶友": {na.id}}


def test_a_tag_a_segment_uses_cannot_be_deleted_and_an_unused_one_can(client, session, clock):
    shop = ShopFactory()
    used = create_tag(session, shop_id=shop.id, name="老客户", now=clock.now())
    spare = create_tag(session, shop_id=shop.id, name="试用", now=clock.now())
    create_segment(
        session,
        shop_id=shop.id,
        name="老客户们",
        description=None,
        condition={"op": "and", "conditions": [{"field": "tag", "cmp": "has", "value": used.id}]},
    )
    session.commit()
    log_in_to_shop(client, shop.id)

    r = client.post(f"/shops/{shop.id}/tags/{used.id}/delete", data={"version": used.version}, follow_redirects=True)
    assert "change those first" in r.get_data(as_text=True)
    r = client.post(f"/shops/{shop.id}/tags/{spare.id}/delete", data={"version": spare.version}, follow_redirects=True)
    assert "Tag deleted." in r.get_data(as_text=True)
    session.expire_all()
    assert set(session.scalars(sa.select(Tag.name).where(Tag.shop_id == shop.id))) == {"老客户"}


def test_another_shops_tags_stay_out_of_reach(client, session, clock):
    shop, other = ShopFactory(), ShopFactory()
    theirs = create_tag(session, shop_id=other.id, name="别家", now=clock.now())
    session.commit()
    log_in_to_shop(client, shop.id)
    assert client.get(f"/shops/{other.id}/tags").status_code == 404
    assert client.get(f"/shops/{shop.id}/tags/{theirs.id}").status_code == 404
    client.post(f"/shops/{shop.id}/tags/{theirs.id}/delete", data={"version": theirs.version})
    session.expire_all()
    assert session.get(Tag, theirs.id) is not None


def test_a_csv_file_is_imported_and_an_empty_import_asks_for_one(client, session):
    shop = ShopFactory()
    fang, _na = _customers(session, shop)
    log_in_to_shop(client, shop.id)

    r = client.post(f"/shops/{shop.id}/tags/import", data={"csv_text": ""})
    assert r.status_code == 422 and "Choose a CSV file or paste its rows." in r.get_data(as_text=True)
    file = io.BytesIO("\ufeffcustomer,tag\n13800138001,老客户\n".encode())
    r = client.post(
        f"/shops/{shop.id}/tags/import",
        data={"csv_file": (file, "tags.csv"), "create_missing_tags": "y"},
        content_type="multipart/form-data",
    )
    assert "1 rows read, 1 applied, 0 skipped." in r.get_data(as_text=True)
    tag = session.scalars(sa.select(Tag).where(Tag.shop_id == shop.id)).one()
    assert set(session.scalars(sa.select(CustomerTag.customer_id).where(CustomerTag.tag_id == tag.id))) == {fang.id}
