"""The demo has two active journeys with customers inside, seeded on the embedded SQLite wiring (so the engine's
bulk enrolment and advancing run on SQLite too)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

pytestmark = pytest.mark.embedded


def test_the_demo_has_two_active_journeys_with_customers_inside(tmp_path):
    from flask_migrate import upgrade

    from souk_platform import create_app
    from souk_platform.db import db
    from souk_platform.demo import seed_demo
    from souk_platform.journeys.engine.demo import DEMO_KEY
    from souk_platform.journeys.models import Journey, JourneyEnrollment

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
        journeys = db.session.scalars(
            sa.select(Journey).where(Journey.shop_id == shop.id, Journey.template_key == DEMO_KEY)
        ).all()
        assert sorted(j.name for j in journeys) == ["加购未下单提醒", "沉睡唤醒 A/B"]
        assert {j.status for j in journeys} == {"active"}
        inside = dict(
            db.session.execute(
                sa.select(JourneyEnrollment.journey_id, sa.func.count())
                .where(JourneyEnrollment.status == "waiting")
                .group_by(JourneyEnrollment.journey_id)
            ).all()
        )
        assert all(inside.get(j.id, 0) >= 3 for j in journeys)
        variants = set(
            db.session.scalars(sa.select(JourneyEnrollment.variant).where(JourneyEnrollment.variant.is_not(None)))
        )
        # The split draws from a hash of each enrolment's (random) id: with a dozen demo customers every branch is
        # likely but not certain, so the test asks for the branches to be the split's and for more than one taken.
        assert variants <= {"a", "b", "holdout"} and len(variants) >= 2
        seed_demo(db.session, echo=lambda _line: None)  # seeding again adds nothing
        assert (
            db.session.scalar(sa.select(sa.func.count()).select_from(Journey).where(Journey.template_key == DEMO_KEY))
            == 2
        )
    app.extensions["souk.jobs"].stop()
    with app.app_context():
        db.engine.dispose()
