"""CSV tag imports: good rows applied, bad rows reported by row number, the import recorded."""

from __future__ import annotations

import sqlalchemy as sa

from factories import ShopFactory, token_for
from souk_platform.customers.services import create_customer
from souk_platform.tags.models import CustomerTag, Tag, TagImport


def _tags_of(session, customer_id):
    return set(
        session.scalars(
            sa.select(Tag.name)
            .join(CustomerTag, CustomerTag.tag_id == Tag.id)
            .where(CustomerTag.customer_id == customer_id)
        )
    )


def test_mixed_rows_apply_the_good_ones_and_report_the_bad(client, session, population):
    pop = population
    phone_customer = create_customer(session, shop_id=pop.shop_id, name="phoney", phone="13812345678").id
    session.commit()
    rule = client.post(
        "/api/v1/tags",
        headers=pop.headers,
        json={
            "name": "规则",
            "kind": "rule",
            "condition": {"op": "and", "conditions": [{"field": "level", "cmp": "eq", "value": 5}]},
        },
    )
    assert rule.status_code == 201
    csv_text = "\n".join(
        [
            "phone_or_email_or_customer_id,tag",  # 1: header, skipped
            "138 1234 5678,夏季活动",  # 2: by phone, new tag created
            "13900000000,夏季活动",  # 3: unknown phone
            f"{pop.ids['ann']},VIP",  # 4: by id, existing tag
            "BOB@example.cn,夏季活动",  # 5: by email, any case
            "",  # 6: blank, ignored
            "cat@example.cn",  # 7: one column
            f"{pop.ids['bob']},规则",  # 8: rule tag
            f"{pop.ids['bob']},VIP",  # 9: already tagged: fine
            '"eve@example.cn","带,逗号的标签"',  # 10: quoted
        ]
    )
    r = client.post("/api/v1/tag-imports", headers=pop.headers, json={"csv": csv_text, "create_missing_tags": True})
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert (body["rows"], body["imported"], body["failed"]) == (8, 5, 3)
    assert body["errors"] == [
        {"row": 3, "error": "No customer with phone 13900000000."},
        {"row": 7, "error": "Expected 2 columns (customer, tag), found 1."},
        {"row": 8, "error": "The tag '规则' is a rule tag; its customers come from its condition."},
    ]
    assert sorted(body["created_tags"]) == ["夏季活动", "带,逗号的标签"]
    assert _tags_of(session, phone_customer) == {"夏季活动"}
    assert "VIP" in _tags_of(session, pop.ids["ann"])
    assert _tags_of(session, pop.ids["bob"]) >= {"夏季活动", "VIP"}
    assert "带,逗号的标签" in _tags_of(session, pop.ids["eve"])
    kinds = dict(session.execute(sa.select(Tag.name, Tag.kind).where(Tag.shop_id == pop.shop_id)).all())
    assert kinds["夏季活动"] == "imported"
    got = client.get(f"/api/v1/tag-imports/{body['id']}", headers=pop.headers).get_json()
    assert got == body
    assert [i["id"] for i in client.get("/api/v1/tag-imports", headers=pop.headers).get_json()["items"]] == [body["id"]]


def test_missing_tags_are_errors_unless_asked_to_create(client, session, population):
    pop = population
    r = client.post(
        "/api/v1/tag-imports", headers=pop.headers, json={"csv": "ann@example.cn,新标签\nann@example.cn,VIP\n"}
    )
    body = r.get_json()
    assert r.status_code == 201 and body["imported"] == 1
    assert body["errors"] == [{"row": 1, "error": "No tag named '新标签'; set create_missing_tags to create it."}]
    assert session.scalar(sa.select(Tag.id).where(Tag.shop_id == pop.shop_id, Tag.name == "新标签")) is None


def test_unusable_files_are_422_and_change_nothing(client, session, population):
    pop = population
    cases = [
        ({"csv": ""}, "csv"),
        ({"csv": "phone_or_email_or_customer_id,tag\n\n"}, "csv"),
        ({"csv": "ann@example.cn,VIP\n" * 10_001}, "csv"),
        ({"csv": 'ann@example.cn,"unterminated'}, "csv"),
        ({"csv": "ann@example.cn,VIP\nbob@example.cn,V\0IP"}, "csv"),
        ({"csv": "a,b", "create_missing_tags": "maybe"}, "create_missing_tags"),
        ({"csv": "a,b", "extra": 1}, "extra"),
        ({}, "csv"),
    ]
    for payload, field in cases:
        r = client.post("/api/v1/tag-imports", headers=pop.headers, json=payload)
        assert r.status_code == 422, (payload, r.get_json())
        assert field in r.get_json()["errors"], r.get_json()
    r = client.post("/api/v1/tag-imports", headers=pop.headers, data="ann@example.cn,VIP", content_type="text/csv")
    assert r.status_code == 415
    assert (
        session.scalar(sa.select(sa.func.count()).select_from(TagImport).where(TagImport.shop_id == pop.shop_id)) == 0
    )


def test_imports_stay_in_their_shop(client, session, population):
    pop = population
    other_shop = ShopFactory()
    other = token_for(other_shop)
    # The other shop cannot tag our customers, by id or by email.
    r = client.post(
        "/api/v1/tag-imports",
        headers=other,
        json={"csv": f"{pop.ids['ann']},X\nann@example.cn,X", "create_missing_tags": True},
    )
    assert r.status_code == 201 and r.get_json()["imported"] == 0 and r.get_json()["failed"] == 2
    mine = client.post("/api/v1/tag-imports", headers=pop.headers, json={"csv": "ann@example.cn,VIP"}).get_json()
    assert client.get(f"/api/v1/tag-imports/{mine['id']}", headers=other).status_code == 404
    assert "X" not in _tags_of(session, pop.ids["ann"])
