"""Stock for checkout: SKUs for sale, reserve / release / commit / return, expiry, and concurrency."""

from __future__ import annotations

import datetime as dt
from functools import partial

import pytest
import sqlalchemy as sa
from races import race

from factories import ShopFactory
from souk_platform.catalog.errors import ReservationMismatch, ReservationNotFound, SkusNotForSale
from souk_platform.catalog.models import InventoryAdjustment, Sku, StockReservation
from souk_platform.catalog.services import (
    NewSku,
    commit_stock,
    create_product,
    release_stock,
    reserve_stock,
    return_stock,
    skus_for_sale,
)
from souk_platform.catalog.tasks import release_expired_reservations
from souk_platform.core.errors import OutOfStock
from souk_platform.db import db
from souk_platform.events.models import OutboxEvent


def _stock(session, sku_id):
    session.expire_all()
    sku = session.get(Sku, sku_id)
    return sku.on_hand, sku.reserved


def _statuses(session, ref):
    rows = session.execute(
        sa.select(StockReservation.sku_id, StockReservation.status).where(StockReservation.ref == ref)
    )
    return dict(rows.all())


def _event_types(session, ref):
    return session.scalars(
        sa.select(OutboxEvent.type).where(OutboxEvent.subject_id == ref).order_by(OutboxEvent.id)
    ).all()


def test_skus_for_sale_prices_and_names_what_cannot_be_sold(session, make_product):
    shop, other = ShopFactory(currency="CNY"), ShopFactory()
    tea = make_product(shop, title="Longjing", skus=[("LJ-100", 16800, 4), ("LJ-250", 38800, 0)])
    draft = make_product(shop, status="draft", skus=[("NEW", 100, 1)])
    foreign = make_product(other, skus=[("THEIRS", 100, 1)])
    found = skus_for_sale(session, shop_id=shop.id, sku_ids=tea.sku_ids)
    first = found[tea.sku_ids[0]]
    assert (first.title, first.unit_price, first.currency, first.available, first.product_id) == (
        "Longjing / LJ-100 title",
        16800,
        "CNY",
        4,
        tea.id,
    )
    assert found[tea.sku_ids[1]].available == 0
    with pytest.raises(SkusNotForSale) as err:
        skus_for_sale(
            session, shop_id=shop.id, sku_ids=[tea.sku_ids[0], draft.sku_ids[0], foreign.sku_ids[0], "sku_nope"]
        )
    assert err.value.status == 404
    assert set(err.value.errors) == {draft.sku_ids[0], foreign.sku_ids[0], "sku_nope"}
    assert "draft" in err.value.errors[draft.sku_ids[0]][0]
    assert err.value.errors[foreign.sku_ids[0]] == err.value.errors["sku_nope"]  # no hint it exists elsewhere


def test_reserve_is_all_or_nothing_and_names_short_lines(session, make_product):
    shop = ShopFactory()
    a, b = make_product(shop, skus=[("A", 100, 5), ("B", 100, 2)]).sku_ids
    later = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    with pytest.raises(OutOfStock) as err:
        reserve_stock(session, shop_id=shop.id, ref="ord_1", quantities={a: 3, b: 3}, expires_at=later)
    assert err.value.status == 409 and err.value.errors == {b: ["only 2 available"]}
    assert _stock(session, a) == (5, 0) and _stock(session, b) == (2, 0) and _statuses(session, "ord_1") == {}
    reserve_stock(session, shop_id=shop.id, ref="ord_1", quantities={a: 3, b: 2}, expires_at=later)
    assert _stock(session, a) == (5, 3) and _stock(session, b) == (2, 2)
    # The same ref again is a no-op for lines already held; a different quantity is a conflict.
    reserve_stock(session, shop_id=shop.id, ref="ord_1", quantities={a: 3, b: 2}, expires_at=later)
    assert _stock(session, a) == (5, 3)
    with pytest.raises(ReservationMismatch):
        reserve_stock(session, shop_id=shop.id, ref="ord_1", quantities={a: 4}, expires_at=later)
    with pytest.raises(OutOfStock) as err:
        reserve_stock(session, shop_id=shop.id, ref="ord_2", quantities={a: 3}, expires_at=later)
    assert err.value.errors == {a: ["only 2 available"]}
    assert _event_types(session, "ord_1") == ["stock.reserved"]


def test_another_shops_or_archived_skus_cannot_be_reserved(session, make_product):
    from souk_platform.catalog.services import archive_product

    mine, theirs = ShopFactory(), ShopFactory()
    foreign = make_product(theirs, skus=[("X", 100, 5)]).sku_ids[0]
    gone = make_product(mine, skus=[("Y", 100, 5)])
    archive_product(session, shop_id=mine.id, product_id=gone.id, expected_version=None)
    later = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    for sku_id in (foreign, gone.sku_ids[0]):
        with pytest.raises(SkusNotForSale) as err:
            reserve_stock(session, shop_id=mine.id, ref="ord_x", quantities={sku_id: 1}, expires_at=later)
        assert list(err.value.errors) == [sku_id]
        assert _stock(session, sku_id) == (5, 0)
    with pytest.raises(ReservationNotFound):
        commit_stock(session, shop_id=mine.id, ref="ord_x")


def test_release_then_commit_and_their_idempotency(session, make_product):
    shop = ShopFactory()
    a, b = make_product(shop, skus=[("A", 100, 5), ("B", 100, 5)]).sku_ids
    later = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    reserve_stock(session, shop_id=shop.id, ref="ord_cancel", quantities={a: 2}, expires_at=later)
    release_stock(session, shop_id=shop.id, ref="ord_cancel")
    release_stock(session, shop_id=shop.id, ref="ord_cancel")
    release_stock(session, shop_id=shop.id, ref="ord_never_reserved")
    assert _stock(session, a) == (5, 0) and _statuses(session, "ord_cancel") == {a: "released"}

    reserve_stock(session, shop_id=shop.id, ref="ord_paid", quantities={a: 2, b: 1}, expires_at=later)
    commit_stock(session, shop_id=shop.id, ref="ord_paid")
    commit_stock(session, shop_id=shop.id, ref="ord_paid")
    assert _stock(session, a) == (3, 0) and _stock(session, b) == (4, 0)
    assert _statuses(session, "ord_paid") == {a: "committed", b: "committed"}
    release_stock(session, shop_id=shop.id, ref="ord_paid")  # a paid order's stock stays sold
    assert _stock(session, a) == (3, 0)
    sales = session.scalars(sa.select(InventoryAdjustment).where(InventoryAdjustment.ref == "ord_paid")).all()
    assert sorted((s.sku_id, s.delta, s.reason) for s in sales) == sorted([(a, -2, "sale"), (b, -1, "sale")])
    assert _event_types(session, "ord_paid") == ["stock.reserved", "stock.committed"]
    assert _event_types(session, "ord_cancel") == ["stock.reserved", "stock.released"]


def test_commit_after_expiry_takes_stock_again_or_refuses(session, make_product):
    shop = ShopFactory()
    a = make_product(shop, skus=[("A", 100, 3)]).sku_ids[0]
    soon = dt.datetime(2026, 3, 2, 10, 30, tzinfo=dt.UTC)
    reserve_stock(session, shop_id=shop.id, ref="ord_late", quantities={a: 2}, expires_at=soon)
    release_stock(session, shop_id=shop.id, ref="ord_late")
    commit_stock(session, shop_id=shop.id, ref="ord_late")  # stock is still there: the late payment wins it
    assert _stock(session, a) == (1, 0) and _statuses(session, "ord_late") == {a: "committed"}

    reserve_stock(session, shop_id=shop.id, ref="ord_later", quantities={a: 1}, expires_at=soon)
    release_stock(session, shop_id=shop.id, ref="ord_later")
    reserve_stock(session, shop_id=shop.id, ref="ord_other", quantities={a: 1}, expires_at=soon)
    with pytest.raises(OutOfStock) as err:
        commit_stock(session, shop_id=shop.id, ref="ord_later")
    assert err.value.errors == {a: ["only 0 available"]}
    assert _stock(session, a) == (1, 1) and _statuses(session, "ord_later") == {a: "released"}


def test_return_stock_puts_units_back_with_an_audit_row(session, make_product):
    shop = ShopFactory()
    a = make_product(shop, skus=[("A", 100, 1)]).sku_ids[0]
    return_stock(session, shop_id=shop.id, quantities={a: 2}, reason="refund ref_1", ref="ord_9")
    assert _stock(session, a) == (3, 0)
    row = session.scalars(sa.select(InventoryAdjustment).where(InventoryAdjustment.ref == "ord_9")).one()
    assert (row.delta, row.on_hand_after, row.reason) == (2, 3, "refund ref_1")
    other = ShopFactory()
    from souk_platform.catalog.errors import SkuNotFound

    with pytest.raises(SkuNotFound):
        return_stock(session, shop_id=other.id, quantities={a: 1}, reason="not yours")
    assert _stock(session, a) == (3, 0)


def test_expiry_job_releases_only_expired_holds_and_is_safe_twice(session, clock, make_product):
    shop = ShopFactory()
    a = make_product(shop, skus=[("A", 100, 10)]).sku_ids[0]
    now = clock.now()
    reserve_stock(session, shop_id=shop.id, ref="ord_old", quantities={a: 3}, expires_at=now - dt.timedelta(minutes=1))
    reserve_stock(session, shop_id=shop.id, ref="ord_new", quantities={a: 2}, expires_at=now + dt.timedelta(minutes=5))
    reserve_stock(session, shop_id=shop.id, ref="ord_done", quantities={a: 1}, expires_at=now - dt.timedelta(hours=1))
    commit_stock(session, shop_id=shop.id, ref="ord_done")
    session.commit()
    assert release_expired_reservations() == 1
    assert release_expired_reservations() == 0
    assert _statuses(session, "ord_old") == {a: "released"} and _statuses(session, "ord_new") == {a: "active"}
    assert _stock(session, a) == (9, 2)
    clock.advance(minutes=10)
    assert release_expired_reservations() == 1
    assert _stock(session, a) == (9, 0) and _statuses(session, "ord_done") == {a: "committed"}


def test_periodic_job_is_registered():
    from souk_platform.jobs.runner import PERIODIC_JOBS, resolve

    job = next(j for j in PERIODIC_JOBS if j.path.endswith("release_expired_reservations"))
    assert job.every_seconds == 60 and resolve(job.path) is release_expired_reservations


def _setup_shop_with_sku(app, on_hand):
    with app.app_context():
        shop = ShopFactory()
        product = create_product(
            db.session, shop_id=shop.id, title="Hot tea", status="active", skus=[NewSku("HOT", "hot", 100, on_hand)]
        )
        ids = shop.id, product.skus[0].id
        db.session.commit()
        db.session.remove()
        return ids


@pytest.mark.concurrency
def test_parallel_reservations_never_oversell(app):
    """20 buyers race for 7 units on PostgreSQL: exactly 7 holds succeed, the rest are told it is sold out."""
    shop_id, sku_id = _setup_shop_with_sku(app, on_hand=7)
    later = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    won, sold_out = [], []

    def buyer(n):
        with app.app_context():
            try:
                reserve_stock(
                    db.session, shop_id=shop_id, ref=f"ord_race_{n}", quantities={sku_id: 1}, expires_at=later
                )
                db.session.commit()
                won.append(n)
            except OutOfStock as exc:
                db.session.rollback()
                assert exc.errors == {sku_id: ["only 0 available"]}
                sold_out.append(n)
            finally:
                db.session.remove()

    race(*(partial(buyer, n) for n in range(20)))
    assert (len(won), len(sold_out)) == (7, 13)
    with app.app_context():
        sku = db.session.get(Sku, sku_id)
        assert (sku.on_hand, sku.reserved, sku.available) == (7, 7, 0)
        holds = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(StockReservation)
            .where(StockReservation.sku_id == sku_id, StockReservation.status == "active")
        )
        assert holds == 7
        db.session.remove()


@pytest.mark.concurrency
def test_payment_racing_the_expiry_job_keeps_stock_exact(app):
    """Each expired order is paid while the expiry job releases it: every sale counts once, nothing stays held."""
    shop_id, sku_id = _setup_shop_with_sku(app, on_hand=10)
    expired = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    refs = [f"ord_pay_{n}" for n in range(10)]
    with app.app_context():
        for ref in refs:
            reserve_stock(db.session, shop_id=shop_id, ref=ref, quantities={sku_id: 1}, expires_at=expired)
        db.session.commit()
        db.session.remove()
    now = dt.datetime(2026, 3, 2, tzinfo=dt.UTC)

    def act(kind, ref):
        with app.app_context():
            try:
                if kind == "pay":
                    commit_stock(db.session, shop_id=shop_id, ref=ref)
                else:
                    release_stock(db.session, shop_id=shop_id, ref=ref, expired_before=now)
                db.session.commit()
            finally:
                db.session.remove()

    race(*(partial(act, kind, ref) for ref in refs for kind in ("expire", "pay")))
    with app.app_context():
        sku = db.session.get(Sku, sku_id)
        assert (sku.on_hand, sku.reserved) == (0, 0)
        statuses = db.session.scalars(sa.select(StockReservation.status).where(StockReservation.sku_id == sku_id)).all()
        assert statuses == ["committed"] * 10
        sales = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(InventoryAdjustment)
            .where(InventoryAdjustment.sku_id == sku_id, InventoryAdjustment.reason == "sale")
        )
        assert sales == 10
        db.session.remove()
