"""Member levels: the rules API, evaluation (upgrade, downgrade, period), manual changes, history, the job."""

from __future__ import annotations

import datetime as dt
import json

import sqlalchemy as sa

from factories import ShopFactory, token_for
from souk_platform.customers.models import Customer
from souk_platform.customers.services import create_customer, record_purchase
from souk_platform.events.models import OutboxEvent
from souk_platform.ledger.services import Leg, get_account, post_transfer
from souk_platform.members.models import MemberLevelChange
from souk_platform.members.services import evaluate_customer_level, save_level_config

LEVELS = [
    {"level": 1, "name": "普通会员"},
    {"level": 2, "name": "银卡", "upgrade": {"spend": 10_000, "orders": 3}, "keep": {"spend": 5_000}},
    {"level": 3, "name": "金卡", "upgrade": {"spend": 50_000}, "keep": {"spend": 20_000}},
    {"level": 4, "name": "铂金", "upgrade": {"match": "all", "spend": 100_000, "points": 1_000}},
    {"level": 5, "name": "黑金"},
]


def _configure(client, shop, **extra):
    body = {"window_days": 30, "downgrade_period_days": 7, "levels": LEVELS, **extra}
    r = client.put("/api/v1/member-levels", headers=token_for(shop, ["write_members"]), json=body)
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def _history(session, customer_id):
    return list(
        session.scalars(
            sa.select(MemberLevelChange)
            .where(MemberLevelChange.customer_id == customer_id)
            .order_by(MemberLevelChange.id)
        )
    )


def test_config_defaults_then_put_and_read_back(client):
    shop = ShopFactory()
    headers = token_for(shop, ["write_members"])
    r = client.get("/api/v1/member-levels", headers=headers)
    body = r.get_json()
    assert r.status_code == 200 and body["configured"] is False and body["version"] == 0
    assert [lvl["name"] for lvl in body["levels"]] == ["V1", "V2", "V3", "V4", "V5"]
    saved = _configure(client, shop)
    assert saved["configured"] is True and saved["version"] == 1
    assert saved["levels"][1]["upgrade"] == {
        "match": "any",
        "spend": 10_000,
        "orders": 3,
        "points": None,
        "category": None,
    }
    assert (saved["levels"][1]["discount_bps"], saved["levels"][1]["points_multiplier_percent"]) == (0, 100)
    assert client.get("/api/v1/member-levels", headers=headers).get_json()["levels"] == saved["levels"]
    stale = client.put("/api/v1/member-levels", headers={**headers, "If-Match": '"0"'}, json={"levels": LEVELS})
    assert stale.status_code == 412


def test_inconsistent_rules_are_422_with_paths_and_change_nothing(client):
    shop = ShopFactory()
    headers = token_for(shop, ["write_members"])
    _configure(client, shop)

    def levels_with(level, **changes):
        levels = json.loads(json.dumps(LEVELS))
        levels[level - 1].update(changes.pop("fields", {}), **changes)
        return levels

    cases = [
        (levels_with(3, upgrade={"spend": 5_000}), "levels.2.upgrade.spend"),  # lower than V2's 10,000
        (levels_with(2, keep={"spend": 20_000}), "levels.1.keep.spend"),  # keep harder than upgrade
        (levels_with(1, upgrade={"spend": 1}), "levels.0.upgrade"),
        (levels_with(2, upgrade={"match": "any"}), "levels.1.upgrade._schema"),  # no threshold at all
        (levels_with(2, upgrade={"spend": -1}), "levels.1.upgrade.spend"),
        (levels_with(2, upgrade={"match": "most", "spend": 1}), "levels.1.upgrade.match"),
        (levels_with(2, fields={"level": 3}), "levels"),
        (LEVELS[:4], "levels"),
    ]
    for levels, path in cases:
        r = client.put("/api/v1/member-levels", headers=headers, json={"levels": levels})
        assert r.status_code == 422, (path, r.get_json())
        assert path in r.get_json()["errors"], (path, r.get_json())
    r = client.put("/api/v1/member-levels", headers=headers, json={"levels": LEVELS, "window_days": 0})
    assert r.status_code == 422 and "window_days" in r.get_json()["errors"]
    body = client.get("/api/v1/member-levels", headers=headers).get_json()
    assert body["version"] == 1 and body["window_days"] == 30


def test_upgrade_on_spend_in_window_records_history_and_event(client, session, clock):
    shop = ShopFactory()
    _configure(client, shop)
    customer = create_customer(session, shop_id=shop.id, name="A")
    now = clock.now()
    # An old order outside the 30-day window does not count.
    record_purchase(
        session, shop_id=shop.id, customer_id=customer.id, order_id="o0", amount=40_000, at=now - dt.timedelta(days=40)
    )
    record_purchase(
        session, shop_id=shop.id, customer_id=customer.id, order_id="o1", amount=12_000, at=now - dt.timedelta(days=2)
    )
    session.commit()
    cid = customer.id
    r = client.post(f"/api/v1/customers/{cid}/level/evaluate", headers=token_for(shop, ["write_members"]))
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["changed"] is True and (body["from_level"], body["to_level"], body["level"]) == (1, 2, 2)
    assert body["stats"] == {
        "spend_in_window": 12_000,
        "orders_in_window": 1,
        "points_balance": 0,
        "current_level": 1,
        "categories": {},  # the rules count no category
    }
    assert "银卡" in body["reason"]
    [change] = _history(session, cid)
    assert (change.from_level, change.to_level, change.source) == (1, 2, "rule")
    assert change.stats["spend_in_window"] == 12_000
    [event] = session.scalars(sa.select(OutboxEvent).where(OutboxEvent.type == "customer.level_changed"))
    assert event.subject_id == cid and event.payload["to_level"] == 2 and event.payload["level"] == 2
    # Evaluating again changes nothing.
    again = client.post(f"/api/v1/customers/{cid}/level/evaluate", headers=token_for(shop, ["write_members"]))
    assert again.get_json()["changed"] is False and again.get_json()["level"] == 2
    assert len(_history(session, cid)) == 1


def test_points_from_the_ledger_count(session, clock):
    shop = ShopFactory()
    save_level_config(
        session, shop_id=shop.id, window_days=30, downgrade_period_days=7, levels=_loaded(), expected_version=None
    )
    customer = create_customer(session, shop_id=shop.id, name="A")
    now = clock.now()
    record_purchase(session, shop_id=shop.id, customer_id=customer.id, order_id="o1", amount=100_000, at=now)
    change = evaluate_customer_level(session, shop_id=shop.id, customer_id=customer.id, now=now)
    assert change is not None and change.to_level == 3  # V4 needs 1,000 points as well
    issued = get_account(session, shop_id=shop.id, kind="shop.points_issued", owner_id=shop.id, unit="PTS")
    mine = get_account(session, shop_id=shop.id, kind="customer.points", owner_id=customer.id, unit="PTS")
    post_transfer(session, shop_id=shop.id, kind="points.earn", legs=[Leg(issued, -1_000), Leg(mine, 1_000)])
    change = evaluate_customer_level(session, shop_id=shop.id, customer_id=customer.id, now=now)
    assert change is not None and (change.from_level, change.to_level) == (3, 4)
    assert change.stats is not None and change.stats.points_balance == 1_000


def _loaded():
    """LEVELS as the API would load them (defaults filled in)."""
    out = []
    for entry in LEVELS:
        full = {"level": entry["level"], "name": entry["name"], "upgrade": None, "keep": None}
        for part in ("upgrade", "keep"):
            if part in entry:
                full[part] = {"match": "any", "spend": None, "orders": None, "points": None, **entry[part]}
        out.append(full)
    return out


def test_downgrade_below_keep_rule_waits_for_the_period(session, clock):
    shop = ShopFactory()
    save_level_config(
        session, shop_id=shop.id, window_days=30, downgrade_period_days=7, levels=_loaded(), expected_version=None
    )
    customer = create_customer(session, shop_id=shop.id, name="A")
    start = clock.now()
    record_purchase(session, shop_id=shop.id, customer_id=customer.id, order_id="o1", amount=60_000, at=start)
    assert evaluate_customer_level(session, shop_id=shop.id, customer_id=customer.id, now=start).to_level == 3
    # 31 days later the purchase has left the window: V3's keep rule (20,000) fails, and so does V2's.
    later = start + dt.timedelta(days=31)
    record_purchase(session, shop_id=shop.id, customer_id=customer.id, order_id="o2", amount=6_000, at=later)
    change = evaluate_customer_level(session, shop_id=shop.id, customer_id=customer.id, now=later)
    assert change is not None and (change.from_level, change.to_level) == (3, 2)  # V2 keep (5,000) holds
    assert "Downgraded" in change.reason
    assert (
        evaluate_customer_level(session, shop_id=shop.id, customer_id=customer.id, now=later + dt.timedelta(days=3))
        is None
    )
    # A month on, nothing spent in the window: V2's keep rule fails too.
    change = evaluate_customer_level(
        session, shop_id=shop.id, customer_id=customer.id, now=later + dt.timedelta(days=31)
    )
    assert change is not None and (change.from_level, change.to_level) == (2, 1)


def test_a_new_level_is_kept_for_one_period(session, clock):
    shop = ShopFactory()
    save_level_config(
        session, shop_id=shop.id, window_days=30, downgrade_period_days=7, levels=_loaded(), expected_version=None
    )
    customer = create_customer(session, shop_id=shop.id, name="A")
    start = clock.now()
    record_purchase(
        session,
        shop_id=shop.id,
        customer_id=customer.id,
        order_id="o1",
        amount=60_000,
        at=start - dt.timedelta(days=28),
    )
    assert evaluate_customer_level(session, shop_id=shop.id, customer_id=customer.id, now=start).to_level == 3
    # Three days later the purchase is out of the window, but the level changed less than 7 days ago.
    assert (
        evaluate_customer_level(session, shop_id=shop.id, customer_id=customer.id, now=start + dt.timedelta(days=3))
        is None
    )
    assert customer.level == 3
    change = evaluate_customer_level(
        session, shop_id=shop.id, customer_id=customer.id, now=start + dt.timedelta(days=7)
    )
    assert change is not None and change.to_level == 1
    assert [(h.from_level, h.to_level) for h in _history(session, customer.id)] == [(1, 3), (3, 1)]


def test_manual_level_is_recorded_with_reason(client, session):
    shop = ShopFactory()
    customer = create_customer(session, shop_id=shop.id, name="A")
    session.commit()
    cid = customer.id
    headers = token_for(shop, ["write_members"])
    r = client.post(f"/api/v1/customers/{cid}/level", headers=headers, json={"level": 4, "reason": "老会员迁移"})
    assert r.status_code == 200 and r.get_json()["level"] == 4 and r.get_json()["changed"] is True
    r = client.post(f"/api/v1/customers/{cid}/level", headers=headers, json={"level": 4, "reason": "again"})
    assert r.get_json()["changed"] is False
    for bad in ({"level": 6, "reason": "x"}, {"level": 2}, {"level": 2, "reason": ""}):
        r = client.post(f"/api/v1/customers/{cid}/level", headers=headers, json=bad)
        assert r.status_code == 422, bad
    history = client.get(f"/api/v1/customers/{cid}/level-history", headers=headers).get_json()["items"]
    assert [(h["from_level"], h["to_level"], h["source"], h["reason"]) for h in history] == [
        (1, 4, "manual", "老会员迁移")
    ]
    assert session.scalar(sa.select(Customer.level).where(Customer.id == cid)) == 4


def test_another_shops_customer_is_404_everywhere(client, session):
    mine, theirs = ShopFactory(), ShopFactory()
    cid = create_customer(session, shop_id=theirs.id, name="Secret").id
    session.commit()
    headers = token_for(mine)
    assert client.get(f"/api/v1/customers/{cid}/level-history", headers=headers).status_code == 404
    assert client.post(f"/api/v1/customers/{cid}/level/evaluate", headers=headers).status_code == 404
    r = client.post(f"/api/v1/customers/{cid}/level", headers=headers, json={"level": 5, "reason": "x"})
    assert r.status_code == 404
    assert session.scalar(sa.select(Customer.level).where(Customer.id == cid)) == 1
    assert _history(session, cid) == []


def test_the_job_evaluates_every_shop_and_is_safe_to_rerun(session, clock):
    from souk_platform.members.tasks import evaluate_member_levels

    now = clock.now()
    shops = [ShopFactory(), ShopFactory()]
    unconfigured = ShopFactory()
    spenders = []
    for shop in shops:
        save_level_config(
            session, shop_id=shop.id, window_days=30, downgrade_period_days=7, levels=_loaded(), expected_version=None
        )
        for i in range(3):
            c = create_customer(session, shop_id=shop.id, name=f"C{i}")
            if i:
                record_purchase(session, shop_id=shop.id, customer_id=c.id, order_id=f"o{i}", amount=i * 30_000, at=now)
            spenders.append(c)
    lone = create_customer(session, shop_id=unconfigured.id, name="X")
    record_purchase(session, shop_id=unconfigured.id, customer_id=lone.id, order_id="o", amount=10**7, at=now)
    session.commit()
    assert evaluate_member_levels() == 4
    levels = {
        c.id: c.level for c in session.scalars(sa.select(Customer).where(Customer.id.in_([s.id for s in spenders])))
    }
    assert sorted(levels.values()) == [1, 1, 2, 2, 3, 3]
    assert session.scalar(sa.select(Customer.level).where(Customer.id == lone.id)) == 1  # no rules, no change
    assert evaluate_member_levels() == 0
    assert session.scalar(sa.select(sa.func.count()).select_from(MemberLevelChange)) >= 4
