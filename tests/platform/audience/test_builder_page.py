"""The segment builder page offers every parameter the registry declares, each with its input: a choice
among the shop's own objects where there is a lookup, typed otherwise (docs/architecture.md §5.8)."""

from __future__ import annotations

import json
import re

from factories import ShopFactory
from souk_platform.audience.fields import PARAMS, REGISTRY
from souk_platform.auth.services import create_user
from souk_platform.catalog.models import ProductTag
from souk_platform.coupons.models import Coupon
from souk_platform.shops.services import add_staff

LOOKUP_OF_KIND = {
    "category": "select:categories",
    "product": "select:products",
    "product_tag": "select:product_tags",
    "payment_method": "select:payment_methods",
    "coupon": "select:coupons",
    "benefit_package": "select:benefit_packages",
    "tag": "select:tags",
}


def _builder_data(client, session, shop_id: str, language: str = "en") -> dict:
    owner = create_user(session, email="owner@rich.example", name="Olive", password="correct horse")
    add_staff(session, shop_id=shop_id, user=owner, role="owner")
    session.commit()
    assert client.post("/login", data={"email": "owner@rich.example", "password": "correct horse"}).status_code == 302
    page = client.get(f"/shops/{shop_id}/segments/builder", headers={"Accept-Language": language})
    assert page.status_code == 200
    found = re.search(
        r'<script id="builder-data" type="application/json">(.*?)</script>', page.get_data(as_text=True), re.S
    )
    assert found is not None
    return dict(json.loads(found.group(1)))


def test_every_field_offers_all_its_parameters_with_inputs_and_the_shops_objects(client, session, rich):
    other = ShopFactory()
    session.add(Coupon(shop_id=other.id, code="THEIRS", name="Theirs", kind="fixed", value=100))
    session.commit()
    data = _builder_data(client, session, rich.shop_id)
    offered = {f["key"]: f for f in data["fields"]}
    assert offered, "the builder lists fields"
    kinds_seen = set()
    for key, field in offered.items():
        spec = REGISTRY[key]
        assert [p[0] for p in field["params"]] == list(spec.params), key
        for param, input_, label in field["params"]:
            kind = PARAMS[param].kind
            kinds_seen.add(kind)
            assert label == PARAMS[param].name_en
            if kind in LOOKUP_OF_KIND:
                assert input_ == LOOKUP_OF_KIND[kind], (key, param)
            elif kind in ("days", "date"):
                assert input_ == kind
            elif param in ("channel", "store", "campaign") and "store" in spec.params:
                assert input_.startswith("text:"), (key, param)  # an event's scene: typed, values seen suggested
            elif kind == "channel":
                assert input_ == "select:order_channels"
            else:
                assert input_ == "text", (key, param)
    # every kind of parameter a field declares is offered (PARAMS' tag_id is named by no field yet)
    assert kinds_seen == {PARAMS[p].kind for f in REGISTRY.values() if not f.legacy for p in f.params}
    assert {"days", "date", "category", "product", "product_tag", "payment_method", "channel", "keyword", "text",
            "coupon", "benefit_package"} <= kinds_seen  # fmt: skip
    # the tag fields are offered too, their value a choice among the shop's tags
    assert {"tags.has", "tags.has_any", "tags.has_all"} <= set(offered)

    lookups = data["lookups"]
    assert [v for v, _ in lookups["order_channels"]] == [
        "online",
        "store",
        "mini_program",
        "app",
        "social",
        "points_mall",
    ]
    assert [v for v, _ in lookups["payment_methods"]] == ["cash", "points", "stored_value"]
    coupons = dict(lookups["coupons"])
    assert coupons[rich.coupons["TEN"]] == "Ten off" and "Theirs" not in coupons.values()
    assert dict(lookups["benefit_packages"])[rich.packages["BIRTHDAY"]]
    assert dict(lookups["tags"])[rich.tags["VIP"]] == "VIP"
    assert set(dict(lookups["products"])) >= set(rich.products.values())
    tags = {t for (t,) in session.query(ProductTag.tag).filter(ProductTag.shop_id == rich.shop_id)}
    assert {v for v, _ in lookups["product_tags"]} == tags
    assert ["S1", "S1"] in lookups["stores"] and ["C1", "C1"] in lookups["campaigns"]
    assert ["app", "app"] in lookups["event_channels"]


def test_parameter_names_and_choices_are_in_chinese(client, session, rich):
    data = _builder_data(client, session, rich.shop_id, language="zh-CN")
    orders_count = next(f for f in data["fields"] if f["key"] == "trade.orders_count")
    assert ["channel", "select:order_channels", "渠道"] in orders_count["params"]
    assert dict(data["lookups"]["order_channels"])["store"] == "门店"
    assert dict(data["lookups"]["payment_methods"])["cash"] == "现金"
