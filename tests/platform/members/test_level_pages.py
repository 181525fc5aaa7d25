"""The member-level editor: names and rules saved with spend typed in yuan; inconsistent rules refused."""

from __future__ import annotations

from factories import ShopFactory, log_in_to_shop
from souk_platform.members.services import get_level_config


def _form(version: int = 0, **overrides: str) -> dict[str, str]:
    form = {"version": str(version), "window_days": "365", "downgrade_period_days": "30"}
    for i, name in enumerate(["普通会员", "银卡", "金卡", "铂金", "黑金"]):
        form[f"levels-{i}-name"] = name
        for part in ("upgrade", "keep"):
            form[f"levels-{i}-{part}-match"] = "any"
            for metric in ("spend", "orders", "points"):
                form[f"levels-{i}-{part}-{metric}"] = ""
    return form | overrides


def test_the_editor_shows_the_defaults_and_saves_names_and_rules_in_yuan(client, session):
    shop = ShopFactory()
    log_in_to_shop(client, shop.id)
    page = client.get(f"/shops/{shop.id}/levels").get_data(as_text=True)
    assert 'value="V3"' in page

    form = _form(
        **{
            "levels-1-upgrade-spend": "500",
            "levels-1-upgrade-orders": "3",
            "levels-1-keep-spend": "¥200.50",
            "levels-2-upgrade-spend": "2,000",
            "levels-2-upgrade-match": "all",
            "levels-2-upgrade-orders": "8",
        }
    )
    r = client.post(f"/shops/{shop.id}/levels", data=form, follow_redirects=True)
    assert "Member levels saved." in r.get_data(as_text=True)
    config = get_level_config(session, shop_id=shop.id)
    silver, gold = config["levels"][1], config["levels"][2]
    assert silver["name"] == "银卡"
    assert silver["upgrade"] == {"match": "any", "spend": 50_000, "orders": 3, "points": None}
    assert silver["keep"] == {"match": "any", "spend": 20_050, "orders": None, "points": None}
    assert gold["upgrade"] == {"match": "all", "spend": 200_000, "orders": 8, "points": None}
    assert gold["keep"] is None and config["levels"][4]["upgrade"] is None
    assert 'value="2000.00"' in client.get(f"/shops/{shop.id}/levels").get_data(as_text=True)


def test_rules_that_get_easier_as_levels_rise_are_refused_next_to_the_field_and_nothing_is_saved(client, session):
    shop = ShopFactory()
    log_in_to_shop(client, shop.id)
    form = _form(**{"levels-1-upgrade-spend": "500", "levels-2-upgrade-spend": "100"})
    r = client.post(f"/shops/{shop.id}/levels", data=form)
    assert r.status_code == 422
    page = r.get_data(as_text=True)
    assert "The member-level rules are not consistent." in page
    assert "Must be at least ¥500.00, the V2 upgrade threshold: higher levels are harder." in page
    assert get_level_config(session, shop_id=shop.id)["configured"] is False

    r = client.post(f"/shops/{shop.id}/levels", data=_form(**{"levels-1-upgrade-spend": "abc"}))
    assert r.status_code == 422
    assert "Enter an amount like 5 or 5.00 (at most two decimals)." in r.get_data(as_text=True)
    assert get_level_config(session, shop_id=shop.id)["configured"] is False


def test_a_stale_form_is_refused_and_another_shops_levels_are_not_found(client, session):
    shop, other = ShopFactory(), ShopFactory()
    log_in_to_shop(client, shop.id)
    assert client.post(f"/shops/{shop.id}/levels", data=_form()).status_code == 302
    r = client.post(f"/shops/{shop.id}/levels", data=_form(version=0, **{"levels-0-name": "新名字"}))
    assert r.status_code == 422 and "Fetch it again and retry." in r.get_data(as_text=True)
    assert get_level_config(session, shop_id=shop.id)["levels"][0]["name"] == "普通会员"
    assert client.get(f"/shops/{other.id}/levels").status_code == 404
    assert client.post(f"/shops/{other.id}/levels", data=_form()).status_code == 404
    assert get_level_config(session, shop_id=other.id)["configured"] is False
