"""Benefit packages and grants (docs/architecture.md §5.10): the API, the triggers, expiry, use and races."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
import sqlalchemy as sa

from factories import ShopFactory, token_for
from souk_platform.benefits import services
from souk_platform.benefits.models import BenefitGrant, BenefitPackage
from souk_platform.customers.models import Customer
from souk_platform.customers.services import create_customer
from souk_platform.db import db
from souk_platform.events.models import OutboxEvent
from souk_platform.members.services import set_customer_level
from souk_platform.points.services import points_balance
from souk_platform.stored_value.services import stored_value_balance

GIFT = [
    {"type": "points", "points": 200},
    {"type": "stored_value", "amount": 1_000},
    {"type": "member_discount", "percent_off": 5, "valid_days": 10},
    {"type": "free_shipping"},
]


def _events(session, shop_id, type):
    stmt = sa.select(OutboxEvent).where(OutboxEvent.shop_id == shop_id, OutboxEvent.type == type)
    return list(session.scalars(stmt.order_by(OutboxEvent.id)))


def _package(session, shop_id, trigger="manual", params=None, items=GIFT, name="礼包"):
    return services.create_package(
        session,
        shop_id=shop_id,
        fields={"name": name, "trigger": trigger, "trigger_params": params or {}, "items": items},
    )


def _grants(session, package_id):
    return list(session.scalars(sa.select(BenefitGrant).where(BenefitGrant.package_id == package_id)))


def test_package_crud_through_the_api(client, session, clock):
    shop = ShopFactory()
    sid = shop.id
    headers = token_for(shop, ["write_benefits"])
    body = {"name": "生日礼", "trigger": "birthday", "trigger_params": {"when": "month"}, "items": GIFT}
    r = client.post("/api/v1/benefit-packages", headers=headers, json=body)
    assert r.status_code == 201, r.get_json()
    package = r.get_json()
    assert package["items"][2] == {"type": "member_discount", "percent_off": 5, "valid_days": 10}
    assert package["items"][3] == {"type": "free_shipping", "valid_days": 30}  # the default validity
    url = f"/api/v1/benefit-packages/{package['id']}"
    assert client.get(url, headers=headers).get_json() == package
    listed = client.get("/api/v1/benefit-packages?trigger=birthday", headers=headers).get_json()["items"]
    assert [p["id"] for p in listed] == [package["id"]]
    r = client.patch(url, headers={**headers, "If-Match": '"1"'}, json={"status": "disabled", "name": "生日月礼"})
    assert r.status_code == 200 and r.get_json()["version"] == 2
    assert client.patch(url, headers={**headers, "If-Match": '"1"'}, json={"name": "x"}).status_code == 412
    assert [e.payload["version"] for e in _events(session, sid, "benefit_package.updated")] == [2]
    assert client.delete(url, headers=headers).status_code == 204
    assert client.get(url, headers=headers).status_code == 404
    assert len(_events(session, sid, "benefit_package.deleted")) == 1


def test_bad_packages_are_422_naming_the_field_and_create_nothing(client, session, clock):
    shop = ShopFactory()
    sid = shop.id
    headers = token_for(shop, ["write_benefits"])
    ok = {"name": "礼", "trigger": "manual", "items": [{"type": "points", "points": 10}]}
    cases = [
        ({**ok, "name": "  "}, "name"),
        ({**ok, "trigger": "weekly"}, "trigger"),
        ({**ok, "trigger": "level", "trigger_params": {}}, "trigger_params.level"),
        ({**ok, "trigger": "level", "trigger_params": {"level": 1}}, "trigger_params.level"),
        ({**ok, "trigger": "dormant", "trigger_params": {"days": 3}}, "trigger_params.days"),
        ({**ok, "trigger": "birthday", "trigger_params": {"when": "week"}}, "trigger_params.when"),
        ({**ok, "trigger_params": {"level": 2}}, "trigger_params.level"),
        ({**ok, "items": []}, "items"),
        ({**ok, "items": [{"type": "points"}]}, "items.0.points"),
        ({**ok, "items": [{"type": "points", "points": 10, "amount": 5}]}, "items.0.amount"),
        ({**ok, "items": [{"type": "stored_value", "amount": 0}]}, "items"),
        ({**ok, "items": [{"type": "member_price", "sku_id": "sku_nope", "price": 100}]}, "items.0.sku_id"),
        (
            {**ok, "items": [{"type": "app_item", "installation_id": "ins_nope", "item_id": "a", "name": "b"}]},
            "items.0.installation_id",
        ),
        (
            {**ok, "items": [{"type": "app_item", "installation_id": "ins_nope", "item_id": " ", "name": "b"}]},
            "items.0.item_id",
        ),
        ({**ok, "items": [{"type": "coupon", "coupon_id": "cpn_x"}]}, "items"),
        ({**ok, "items": [{"type": "free_shipping", "valid_days": 0}]}, "items"),
    ]
    for payload, field in cases:
        r = client.post("/api/v1/benefit-packages", headers=headers, json=payload)
        assert r.status_code == 422, (payload, r.get_json())
        assert r.content_type == "application/problem+json"
        errors = r.get_json()["errors"]
        assert any(
            key == field or key.startswith(field + ".") or key.startswith("json." + field) or key == "json"
            for key in errors
        ) or field in str(errors), (payload, errors)
    count = sa.select(sa.func.count()).select_from(BenefitPackage).where(BenefitPackage.shop_id == sid)
    assert session.scalar(count) == 0


def test_grant_by_hand_moves_points_and_stored_value_once_per_period(client, session, clock):
    shop = ShopFactory()
    sid = shop.id
    a = create_customer(session, shop_id=sid, name="A")
    b = create_customer(session, shop_id=sid, name="B")
    package = _package(session, sid)
    session.commit()
    headers = {**token_for(shop, ["write_benefits"]), "Idempotency-Key": "grant-1"}
    url = f"/api/v1/benefit-packages/{package.id}/grants"
    body = {"customer_ids": [a.id, b.id, a.id], "period": "2026-spring", "note": "春季回馈"}
    r = client.post(url, headers=headers, json=body)
    assert r.status_code == 201, r.get_json()
    result = r.get_json()
    assert result["period"] == "manual:2026-spring" and result["already_granted"] == []
    assert sorted(g["customer_id"] for g in result["granted"]) == sorted([a.id, b.id])
    grant = result["granted"][0]
    assert grant["status"] == "active" and grant["package_name"] == "礼包"
    assert grant["items"][1]["transfer_id"].startswith("ltr_") or grant["items"][1]["transfer_id"]
    assert grant["expires_at"] == (clock.now() + dt.timedelta(days=30)).isoformat()
    # The replay answers the same; a new key for the same period gives nothing more.
    assert client.post(url, headers=headers, json=body).get_json() == result
    again = client.post(url, headers={**headers, "Idempotency-Key": "grant-2"}, json=body).get_json()
    assert again["granted"] == [] and sorted(again["already_granted"]) == sorted([a.id, b.id])
    for customer in (a, b):
        assert points_balance(session, shop_id=sid, customer_id=customer.id) == 200
        assert stored_value_balance(session, shop_id=sid, customer_id=customer.id) == 1_000
    assert len(_events(session, sid, "benefit.granted")) == 2
    assert len(_events(session, sid, "stored_value.granted")) == 2
    # Without a period every call is its own occasion.
    third = client.post(url, headers={**headers, "Idempotency-Key": "grant-3"}, json={"customer_ids": [a.id]})
    assert len(third.get_json()["granted"]) == 1
    assert points_balance(session, shop_id=sid, customer_id=a.id) == 400


def test_bad_grants_change_nothing(client, session, clock):
    shop = ShopFactory()
    sid = shop.id
    a = create_customer(session, shop_id=sid, name="A")
    package = _package(session, sid)
    disabled = _package(session, sid, name="停用")
    disabled.status = "disabled"
    elsewhere = create_customer(session, shop_id=ShopFactory().id, name="Other shop")
    session.commit()
    package_id, disabled_id, a_id, elsewhere_id = package.id, disabled.id, a.id, elsewhere.id
    headers = token_for(shop, ["write_benefits"])
    url = f"/api/v1/benefit-packages/{package_id}/grants"
    for n, body in enumerate(
        [
            {"customer_ids": [a_id, "cus_unknown"]},
            {"customer_ids": [a_id, elsewhere_id]},
            {"customer_ids": []},
            {"customer_ids": [a_id], "period": "has space"},
        ]
    ):
        r = client.post(url, headers={**headers, "Idempotency-Key": f"bad-{n}"}, json=body)
        assert r.status_code == 422, (body, r.get_json())
        assert "customer_ids" in r.get_json()["errors"] or "period" in r.get_json()["errors"]
    r = client.post(
        f"/api/v1/benefit-packages/{disabled_id}/grants",
        headers={**headers, "Idempotency-Key": "bad-x"},
        json={"customer_ids": [a_id]},
    )
    assert r.status_code == 409 and r.get_json()["type"].endswith("/benefit-package-disabled")
    assert session.scalar(sa.select(sa.func.count()).select_from(BenefitGrant).where(BenefitGrant.shop_id == sid)) == 0
    assert points_balance(session, shop_id=sid, customer_id=a_id) == 0
    # A granted package cannot be deleted, only disabled.
    package = session.get(BenefitPackage, package_id)
    services.grant_package(session, package=package, customer_id=a_id, period="manual:x", now=clock.now())
    session.commit()
    gone = client.delete(f"/api/v1/benefit-packages/{package_id}", headers=headers)
    assert gone.status_code == 409 and gone.get_json()["type"].endswith("/benefit-package-in-use")


def test_join_and_level_triggers_grant_once(session, clock):
    shop = ShopFactory()
    sid = shop.id
    before = create_customer(session, shop_id=sid, name="Joined before the package")
    clock.advance(minutes=1)
    join = _package(session, sid, trigger="join", items=[{"type": "points", "points": 50}], name="入会礼")
    grow = _package(session, sid, trigger="level", params={"level": 3}, items=[{"type": "points", "points": 300}])
    clock.advance(minutes=1)
    new = create_customer(session, shop_id=sid, name="New member")
    session.flush()
    # Rows' created_at are wall-clock times; level changes are dated by the caller: use the wall clock too.
    real = dt.datetime.now(dt.UTC)
    set_customer_level(session, shop_id=sid, customer_id=before.id, level=4, reason="test", now=real)
    set_customer_level(session, shop_id=sid, customer_id=new.id, level=2, reason="test", now=real)
    for _ in range(2):  # a second run grants nothing more
        services.run_triggers(session, triggers=("join", "level"), now=clock.now())
    assert [(g.customer_id, g.period) for g in _grants(session, join.id)] == [(new.id, "join")]
    assert [(g.customer_id, g.period) for g in _grants(session, grow.id)] == [(before.id, "level:3")]
    assert points_balance(session, shop_id=sid, customer_id=new.id) == 50
    assert points_balance(session, shop_id=sid, customer_id=before.id) == 300
    # Falling and rising again through V3 is the same 成长礼: once.
    set_customer_level(session, shop_id=sid, customer_id=before.id, level=1, reason="test", now=real)
    set_customer_level(session, shop_id=sid, customer_id=before.id, level=3, reason="test", now=real)
    services.run_triggers(session, triggers=("level",), now=clock.now())
    assert len(_grants(session, grow.id)) == 1


def test_birthday_on_the_day_in_the_shops_timezone_once_a_year(session, clock):
    shop = ShopFactory()  # Asia/Shanghai
    sid = shop.id
    # 2026-03-01 17:00 UTC is already 2 March in Shanghai.
    now = dt.datetime(2026, 3, 1, 17, 0, tzinfo=dt.UTC)
    today = create_customer(session, shop_id=sid, name="Today", birthday=dt.date(1990, 3, 2), now=now)
    create_customer(session, shop_id=sid, name="Tomorrow", birthday=dt.date(1990, 3, 3), now=now)
    create_customer(session, shop_id=sid, name="No birthday")
    package = _package(
        session, sid, trigger="birthday", params={"when": "day"}, items=[{"type": "points", "points": 88}]
    )
    services.run_triggers(session, triggers=("birthday",), now=now)
    services.run_triggers(session, triggers=("birthday",), now=now + dt.timedelta(hours=3))  # run twice
    assert [(g.customer_id, g.period) for g in _grants(session, package.id)] == [(today.id, "birthday:2026")]
    assert points_balance(session, shop_id=sid, customer_id=today.id) == 88
    # Next year: again.
    services.run_triggers(session, triggers=("birthday",), now=now.replace(year=2027))
    assert sorted(g.period for g in _grants(session, package.id)) == ["birthday:2026", "birthday:2027"]


def test_birthday_in_the_month_and_29_february(session, clock):
    shop = ShopFactory()
    sid = shop.id
    leap = create_customer(session, shop_id=sid, name="Leap", birthday=dt.date(2000, 2, 29))
    later = create_customer(session, shop_id=sid, name="Later in Feb", birthday=dt.date(1990, 2, 20))
    day = _package(session, sid, trigger="birthday", params={"when": "day"}, items=[{"type": "points", "points": 1}])
    month = _package(
        session, sid, trigger="birthday", params={"when": "month"}, items=[{"type": "points", "points": 1}]
    )
    feb28 = dt.datetime(2027, 2, 28, 4, 0, tzinfo=dt.UTC)  # 2027 is a common year
    services.run_triggers(session, triggers=("birthday",), now=feb28)
    assert [g.customer_id for g in _grants(session, day.id)] == [leap.id]
    assert sorted(g.customer_id for g in _grants(session, month.id)) == sorted([leap.id, later.id])


def test_dormant_customers_get_one_wake_up_gift_per_spell(session, clock):
    from souk_platform.customers.services import record_purchase

    shop = ShopFactory()
    sid = shop.id
    quiet = create_customer(session, shop_id=sid, name="Quiet")
    busy = create_customer(session, shop_id=sid, name="Busy")
    never = create_customer(session, shop_id=sid, name="Never bought")
    now = clock.now()
    record_purchase(
        session, shop_id=sid, customer_id=quiet.id, order_id="o1", amount=100, at=now - dt.timedelta(days=100)
    )
    record_purchase(session, shop_id=sid, customer_id=busy.id, order_id="o2", amount=100, at=now - dt.timedelta(days=5))
    package = _package(session, sid, trigger="dormant", params={"days": 90}, items=[{"type": "points", "points": 20}])
    services.run_triggers(session, triggers=("dormant",), now=now)
    services.run_triggers(session, triggers=("dormant",), now=now + dt.timedelta(days=1))
    assert [g.customer_id for g in _grants(session, package.id)] == [quiet.id]
    assert never.id not in {g.customer_id for g in _grants(session, package.id)}
    # They buy again, then go quiet again: a second spell, a second gift.
    record_purchase(
        session, shop_id=sid, customer_id=quiet.id, order_id="o3", amount=100, at=now + dt.timedelta(days=2)
    )
    services.run_triggers(session, triggers=("dormant",), now=now + dt.timedelta(days=200))
    assert len([g for g in _grants(session, package.id) if g.customer_id == quiet.id]) == 2


def test_entitlements_expiry_and_use(client, session, clock):
    shop = ShopFactory()
    sid = shop.id
    customer = create_customer(session, shop_id=sid, name="A")
    gift = _package(session, sid)
    vip = _package(
        session, sid, trigger="level", params={"level": 2}, items=[{"type": "member_discount", "percent_off": 12}]
    )
    grant, _ = services.grant_package(
        session, package=gift, customer_id=customer.id, period="manual:1", now=clock.now()
    )
    set_customer_level(session, shop_id=sid, customer_id=customer.id, level=2, reason="test", now=clock.now())
    session.commit()
    headers = token_for(shop, ["write_benefits"])
    view = client.get(f"/api/v1/customers/{customer.id}/benefits", headers=headers).get_json()
    kinds = sorted((e["type"], e["because"]["kind"]) for e in view["entitlements"])
    assert kinds == [("free_shipping", "grant"), ("member_discount", "grant"), ("member_discount", "level")]
    assert view["best_discount_percent_off"] == 12 and view["free_shipping"] is True
    level_right = next(e for e in view["entitlements"] if e["because"]["kind"] == "level")
    assert level_right["because"]["package_id"] == vip.id and level_right["expires_at"] is None
    # After 10 days the discount from the grant has ended; free shipping (30 days) remains.
    clock.advance(days=11)
    view = client.get(f"/api/v1/customers/{customer.id}/benefits", headers=headers).get_json()
    assert sorted(e["type"] for e in view["entitlements"] if e["because"]["kind"] == "grant") == ["free_shipping"]
    # Use it; a second use is 409.
    used = client.post(f"/api/v1/benefit-grants/{grant.id}/use", headers=headers)
    assert used.status_code == 200 and used.get_json()["status"] == "used"
    again = client.post(f"/api/v1/benefit-grants/{grant.id}/use", headers=headers)
    assert again.status_code == 409 and again.get_json()["type"].endswith("/benefit-grant-not-active")
    # Another grant expires by the job, twice safely.
    other, _ = services.grant_package(
        session, package=gift, customer_id=customer.id, period="manual:2", now=clock.now()
    )
    later = clock.now() + dt.timedelta(days=31)
    assert services.expire_due_grants(session, now=later) == 1
    assert services.expire_due_grants(session, now=later) == 0
    session.commit()
    log = client.get(f"/api/v1/benefit-grants?customer_id={customer.id}", headers=headers).get_json()["items"]
    assert {g["id"]: g["status"] for g in log} == {grant.id: "used", other.id: "expired"}
    expired = client.get("/api/v1/benefit-grants?status=expired", headers=headers).get_json()["items"]
    assert [g["id"] for g in expired] == [other.id]
    assert [e.payload["id"] for e in _events(session, sid, "benefit.expired")] == [other.id]
    assert [e.payload["id"] for e in _events(session, sid, "benefit.used")] == [grant.id]


def test_scopes_and_other_shops(client, session, clock):
    shop, other = ShopFactory(), ShopFactory()
    package = _package(session, other.id)
    session.commit()
    r = client.post(
        "/api/v1/benefit-packages",
        headers=token_for(shop, ["read_benefits"]),
        json={"name": "x", "trigger": "manual", "items": [{"type": "points", "points": 1}]},
    )
    assert r.status_code == 403 and r.get_json()["required_scope"] == "write_benefits"
    assert client.get(f"/api/v1/benefit-packages/{package.id}", headers=token_for(shop)).status_code == 404


@pytest.mark.concurrency
def test_racing_birthday_runs_grant_once(app):
    """Two workers run the birthday job at the same moment: one grant, points credited once."""
    now = dt.datetime(2026, 5, 17, 2, 0, tzinfo=dt.UTC)
    with app.app_context():
        shop = ShopFactory()
        shop_id = shop.id
        customer = create_customer(db.session, shop_id=shop_id, name="寿星", birthday=dt.date(1990, 5, 17), now=now)
        customer_id = customer.id
        package = _package(db.session, shop_id, trigger="birthday", items=[{"type": "points", "points": 66}])
        package_id = package.id
        db.session.commit()
        db.session.remove()
    barrier = threading.Barrier(4)
    crashed: list[str] = []

    def worker() -> None:
        with app.app_context():
            try:
                pkg = db.session.get(BenefitPackage, package_id)
                barrier.wait()
                services.grant_package(
                    db.session, package=pkg, customer_id=customer_id, period="birthday:2026", now=now
                )
                db.session.commit()
            except Exception as exc:  # surfaced below
                crashed.append(repr(exc))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert crashed == []
    with app.app_context():
        grants = db.session.scalars(sa.select(BenefitGrant).where(BenefitGrant.package_id == package_id)).all()
        assert len(grants) == 1
        assert points_balance(db.session, shop_id=shop_id, customer_id=customer_id) == 66
        db.session.remove()


def test_the_demo_seeds_three_packages_and_birthday_grants_once(session):
    from souk_platform.benefits import demo
    from souk_platform.customers import demo as customers_demo

    shop = ShopFactory()
    customers_demo.seed(session, shop)
    demo.seed(session, shop)
    demo.seed(session, shop)  # a second call adds nothing
    packages = session.scalars(sa.select(BenefitPackage).where(BenefitPackage.shop_id == shop.id)).all()
    assert sorted(p.trigger for p in packages) == ["birthday", "join", "level"]
    grants = session.scalars(sa.select(BenefitGrant).where(BenefitGrant.shop_id == shop.id)).all()
    assert len(grants) == 3 and {g.trigger for g in grants} == {"birthday"}
    assert all(points_balance(session, shop_id=shop.id, customer_id=g.customer_id) == 88 for g in grants)


def test_the_periodic_jobs_grant_and_expire_and_run_twice_safely(session, clock):
    from souk_platform.benefits import tasks
    from souk_platform.jobs.runner import PERIODIC_JOBS, resolve

    paths = {job.path for job in PERIODIC_JOBS if job.path.startswith("souk_platform.benefits.")}
    assert paths == {
        "souk_platform.benefits.tasks.grant_join_and_level_benefits",
        "souk_platform.benefits.tasks.grant_birthday_and_dormant_benefits",
        "souk_platform.benefits.tasks.expire_benefit_grants",
    }
    assert all(callable(resolve(path)) for path in paths)
    shop = ShopFactory()
    sid = shop.id
    package = _package(session, sid, trigger="join", items=[{"type": "free_shipping", "valid_days": 1}])
    customer = create_customer(session, shop_id=sid, name="New")
    session.commit()
    assert tasks.grant_join_and_level_benefits() >= 1
    assert tasks.grant_join_and_level_benefits() == 0
    [grant] = _grants(session, package.id)
    assert grant.customer_id == customer.id and grant.status == "active"
    tasks.grant_birthday_and_dormant_benefits()
    clock.at = grant.expires_at + dt.timedelta(seconds=1)
    assert tasks.expire_benefit_grants() >= 1
    assert tasks.expire_benefit_grants() == 0
    session.refresh(grant)
    assert grant.status == "expired"


def test_an_apps_item_and_a_member_price_reach_the_grant_and_the_webhook(session, clock):
    from factories import install_app
    from souk_platform.catalog.services import NewSku, create_product
    from souk_platform.webhooks.services.subscriptions import required_scope

    shop = ShopFactory()
    sid = shop.id
    installation_id = install_app(shop)
    product = create_product(session, shop_id=sid, title="乌龙", skus=[NewSku(code="WL-1", title="250g", price=9_900)])
    sku_id = product.skus[0].id
    customer = create_customer(session, shop_id=sid, name="A")
    items = [
        {
            "type": "app_item",
            "installation_id": installation_id,
            "item_id": "tea-class",
            "name": "品茶课",
            "valid_days": 60,
        },
        {"type": "member_price", "sku_id": sku_id, "price": 7_900},
    ]
    package = _package(session, sid, items=items)
    grant, _ = services.grant_package(
        session, package=package, customer_id=customer.id, period="manual:1", now=clock.now()
    )
    [event] = _events(session, sid, "benefit.granted")
    assert required_scope("benefit.granted") == "read_benefits"
    app_item = event.payload["items"][0]
    assert (app_item["installation_id"], app_item["item_id"], app_item["name"]) == (
        installation_id,
        "tea-class",
        "品茶课",
    )
    assert app_item["expires_at"] == (clock.now() + dt.timedelta(days=60)).isoformat()
    assert grant.expires_at == clock.now() + dt.timedelta(days=60)  # the longest right
    view = services.customer_benefits(session, shop_id=sid, customer_id=customer.id, now=clock.now())
    assert sorted(e["type"] for e in view["entitlements"]) == ["app_item", "member_price"]
    # Another shop's SKU or installation is refused.
    other = ShopFactory()
    with pytest.raises(services.InvalidPackage) as refused:
        _package(session, other.id, items=items)
    assert set(refused.value.errors) == {"items.0.installation_id", "items.1.sku_id"}


def test_the_members_level_perks_are_part_of_what_they_hold(session, clock):
    from souk_platform.customers import demo as customers_demo
    from souk_platform.members.services import get_level_config, save_level_config

    shop = ShopFactory()
    sid = shop.id
    customers_demo.seed(session, shop)
    levels = [
        {**entry, "discount_bps": 500 if entry["level"] == 3 else 0, "points_multiplier_percent": 150}
        for entry in get_level_config(session, shop_id=sid)["levels"]
    ]
    save_level_config(
        session, shop_id=sid, window_days=365, downgrade_period_days=30, levels=levels, expected_version=None
    )
    gold = session.scalars(sa.select(Customer).where(Customer.shop_id == sid, Customer.level == 3)).first()
    view = services.customer_benefits(session, shop_id=sid, customer_id=gold.id, now=clock.now())
    perks = {e["type"]: e for e in view["entitlements"] if e["because"].get("trigger") == "level_perk"}
    assert perks["level_discount"]["discount_bps"] == 500
    assert perks["points_multiplier"]["points_multiplier_percent"] == 150
    assert perks["level_discount"]["because"]["level"] == 3
