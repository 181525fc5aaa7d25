"""The embedded wiring (SQLite file, in-process jobs) that `souk demo` uses."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

pytestmark = pytest.mark.embedded


def test_seeded_demo_serves_the_api_with_its_token(embedded_app):
    from souk_platform.db import db
    from souk_platform.demo import mint_start_token, seed_demo

    lines: list[str] = []
    with embedded_app.app_context():
        shop = seed_demo(db.session, echo=lines.append)
        seed_demo(db.session, echo=lines.append)  # a second run adds nothing
        token = mint_start_token(db.session, shop, clock=embedded_app.extensions["souk.clock"]).plaintext
        db.session.commit()
    client = embedded_app.test_client()
    r = client.get("/api/v1/shop", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200 and "Demo" in r.get_json()["name"]
    assert "already present" in lines[-1]

    # The marketplace's step: the demo developer's three apps passed the real checks and are listed.
    market = client.get("/market?q=满减", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "满减助手" in market
    api = client.get("/api/v1/market/apps?limit=10").get_json()
    assert {entry["texts"]["en"]["name"] for entry in api["items"]} >= {"Tiered Discount", "Member Price", "Risk Guard"}


def test_each_start_prints_a_new_token_and_the_tokens_of_the_last_three_starts_keep_working(embedded_app):
    from souk_platform.db import db
    from souk_platform.demo import KEPT_START_TOKENS, mint_start_token, seed_demo

    with embedded_app.app_context():
        shop = seed_demo(db.session, echo=lambda _line: None)
        starts = []
        for _ in range(KEPT_START_TOKENS + 2):
            starts.append(mint_start_token(db.session, shop, clock=embedded_app.extensions["souk.clock"]))
            db.session.commit()
    client = embedded_app.test_client()

    def answers(start) -> int:  # type: ignore[no-untyped-def]
        return client.get("/api/v1/shop", headers={"Authorization": f"Bearer {start.plaintext}"}).status_code

    assert [answers(start) for start in starts] == [401, 401] + [200] * KEPT_START_TOKENS
    # The start that revoked a token said which one, by the characters the tokens page shows.
    assert [start.revoked_hints for start in starts[-2:]] == [[starts[0].plaintext[-4:]], [starts[1].plaintext[-4:]]]


def test_ledger_check_command_reports_a_sound_ledger(embedded_app):
    from flask.cli import ScriptInfo

    from souk_platform.cli import ledger_check

    result = CliRunner().invoke(ledger_check, obj=ScriptInfo(create_app=lambda: embedded_app))
    assert result.exit_code == 0, result.output
    assert "balances" in result.output


def test_a_test_order_sent_twice_is_placed_once_on_sqlite(embedded_app):
    """The send-once claim uses a savepoint; SQLite's driver needs Souk's transaction hooks for it."""
    import re

    import sqlalchemy as sa

    from factories import form_key
    from souk_platform.db import db
    from souk_platform.demo import seed_demo
    from souk_platform.orders.models import Order

    with embedded_app.app_context():
        seed_demo(db.session, echo=lambda _line: None)
    client = embedded_app.test_client()
    assert (
        client.post("/login", data={"email": "owner@demo.souk.dev", "password": "souk-demo-owner"}).status_code == 302
    )
    page = client.get("/").get_data(as_text=True)
    shop_id = re.search(r"/shops/(shp_\w+)/", page).group(1)  # type: ignore[union-attr]
    form_page = client.get(f"/shops/{shop_id}/orders/new").get_data(as_text=True)
    sku = re.search(r'<option value="(sku_\w+)"', form_page).group(1)  # type: ignore[union-attr]

    def count() -> int:
        with embedded_app.app_context():
            return int(db.session.scalar(sa.select(sa.func.count()).select_from(Order).where(Order.shop_id == shop_id)))

    before = count()
    form = {"customer_id": "", "lines-0-sku_id": sku, "lines-0-quantity": "1", "form_key": form_key()}
    first = client.post(f"/shops/{shop_id}/orders/new", data=form)
    again = client.post(f"/shops/{shop_id}/orders/new", data=form)
    assert first.status_code == again.status_code == 302, first.get_data(as_text=True)[:500]
    assert again.headers["Location"] == first.headers["Location"]
    assert count() == before + 1
