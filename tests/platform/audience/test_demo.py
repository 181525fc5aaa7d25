"""The demo seeds segments written with filter fields, and they evaluate on the embedded SQLite wiring."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

pytestmark = pytest.mark.embedded


def test_the_demo_has_filter_field_segments_that_evaluate(tmp_path):
    """On a SQLite file of its own: the demo's events start jobs that would hold the shared embedded file."""
    from flask_migrate import upgrade

    from souk_platform import create_app
    from souk_platform.audience.demo import NAME
    from souk_platform.db import db
    from souk_platform.demo import seed_demo
    from souk_platform.orders.models import Order
    from souk_platform.tags.models import Segment
    from souk_platform.tags.services import segment_reach

    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'demo.sqlite3'}",
            "SOUK_REDIS_URL": None,
            "SOUK_JOBS": "inline",
            "SECRET_KEY": "test-secret",
        }
    )
    with app.app_context():
        upgrade(revision="heads")
        shop = seed_demo(db.session, echo=lambda _line: None)
        segments = {s.name: s for s in db.session.scalars(sa.select(Segment).where(Segment.shop_id == shop.id))}
        assert NAME in segments and "浏览未购买的会员" in segments
        seed_example = segments[NAME].condition["conditions"]
        assert [leaf["field"] for leaf in seed_example] == ["trade.orders_count", "trade.avg_order_value"]
        now = app.extensions["souk.clock"].now()
        reach = {name: segment_reach(db.session, segment=s, now=now) for name, s in segments.items()}
        assert reach[NAME] >= 1  # the demo's repeat buyers of the first category, at over 100 yuan an order
        channels = set(db.session.scalars(sa.select(Order.channel).where(Order.shop_id == shop.id)))
        assert channels == {"online", "store", "mini_program", "points_mall"}  # the mall's redemptions are orders
    app.extensions["souk.jobs"].stop()
    with app.app_context():
        db.engine.dispose()
