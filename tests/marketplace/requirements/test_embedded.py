"""The demo's wiring (SQLite, in-process jobs) runs the same crowdfunding code."""

from __future__ import annotations

import datetime as dt

import pytest
from marketplace.requirements.builders import balance, fund, post

from factories import ShopFactory
from souk_marketplace.requirements import services
from souk_platform.db import db
from souk_platform.ledger.services import check_invariants


@pytest.mark.embedded
def test_pledge_withdraw_and_the_sorted_board_work_on_sqlite(embedded_app):
    now = dt.datetime(2026, 3, 2, 10, tzinfo=dt.UTC)
    with embedded_app.app_context():
        owner, backer = ShopFactory(), ShopFactory()
        fund(db.session, backer, 50_000)
        small = post(db.session, owner, now, title="SQLite small", description="only a little pledged")
        big = post(db.session, owner, now, title="SQLite big", description="more pledged here")
        services.pledge(db.session, shop_id=backer.id, requirement_id=small.id, amount=100, pledged_by=None, now=now)
        made = services.pledge(
            db.session, shop_id=backer.id, requirement_id=big.id, amount=9_000, pledged_by=None, now=now
        )
        db.session.commit()
        page = services.board_page(
            db.session, q="SQLite", category=None, state="open", sort="pledged", limit=1, cursor=None
        )
        assert [r.id for r in page.items] == [big.id] and page.next_cursor
        rest = services.board_page(
            db.session, q="sqlite", category=None, state="open", sort="pledged", limit=5, cursor=page.next_cursor
        )
        assert [r.id for r in rest.items] == [small.id]
        services.withdraw_pledge(db.session, shop_id=backer.id, pledge_id=made.id, now=now)
        db.session.commit()
        assert balance(db.session, backer) == 50_000 - 100
        assert check_invariants(db.session) == []
        db.session.remove()
